// lower_to_threads: the last CUDA pass. What is left of the tile level becomes thread-level IR, so
// the code generator only prints.
#pragma once

#include <optional>

#include "ir/IR.h"

namespace tilescale::passes {

// Rewrites each kernel into thread-level IR:
//   * every tile op left (copy, fill, reduce, cumsum, atomic_add: the ops lower_tile_ops leaves)
//     becomes the thread-level IR of its TileOpDef::lower_to_threads (ops/thread_lowering.h), from
//     the decisions recorded before (fragment layouts, copy plans, thread ranges), with bounds
//     checks dropped where they provably hold;
//   * every T::Parallel nest (in its parallel_over scope, plan_parallel_loops') becomes, per
//     register of its anchor, its body for the element each thread owns there: a `unit` scope, or
//     an `if` on the register's guard; loop variables replaced by expressions of the thread index;
//     a fragment whose reads plan_parallel_loops staged is first copied row-major to scratch
//     shared memory (each element by the first thread that holds it), with a block barrier before
//     the nest and one after it, and those reads take the copy;
//   * every fragment becomes the Local array of its registers (same name; an
//     `annotate("fragment_registers", ...)` after its Alloc says so), and every access of it an
//     access of a register; CompileError for a fragment whose layout gives a thread more registers
//     than a fragment may take;
//   * a global tensor's strides are its parameter's stride variables (ir::Param::strides);
//   * the ops' scratch shared memory (reductions across warps) is placed after the kernel's shared
//     buffers, and shared_memory_total counts it.
// Each op's and nest's IR sits in an `expansion` scope naming what it came from (the op's, in a
// `unit` scope of its own, printed as braces around its temporaries), so the thread-level analysis
// (ops/thread_level.h) treats it as the collective statement it was. After insert_barriers (which
// reasons about the tile ops as units; the ops place their own barriers inside).
//
//   before:  with T.parallel_over(acc[0, 0]):
//                for i, j in T.Parallel(64, 64):
//                    acc[i, j] = acc[i, j] * scale
//   after:   with T.expansion(of="T.Parallel"):
//                with T.unit():
//                    acc[0] = acc[0] * scale
//                with T.unit():
//                    acc[1] = acc[1] * scale
//                ...
ir::PrimFunc lower_to_threads(const ir::PrimFunc& func);

// The record after a fragment's register array's Alloc (`annotate("fragment_registers", buf)`):
// the Local array holds the registers of a fragment of the same name, one thread's each
// (T::print prints every thread's).
struct FragmentRegisters {
  ir::Stmt encode(const ir::Buffer& buffer) const;
  static std::optional<FragmentRegisters> decode(const ir::AnnotateNode& a);  // nullopt: another annotation
};

}  // namespace tilescale::passes
