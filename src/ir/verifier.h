// The verifier: is this PrimFunc a well-formed tile program, as far as the IR can tell?
//
// The IR knows no op registry. What needs one (the tile-op and builtin definitions, the thread-level
// analysis, the op names in messages) the layer above supplies through OpChecks, below, at fixed
// points of this one walk; ops::verify_program (src/ops/verify.h) is the whole verification, and
// what the front end and the pipeline call. `verify(func)` alone checks structure only. A failure is
// a CompileError naming the op, the buffer and what to do. What the walk checks:
//  * exactly one Kernel, at the top level; threads 1 to 1024 (ops/verify.cc refuses what needs whole
//    warps in a block that is not);
//    constant grid extents positive;
//  * parameters (global tensors and scalars) named uniquely; scalar parameters outside tensor shapes
//    and, when float32, outside grid extents (grids are computed from integers before the launch);
//  * shared/fragment/local/var buffers allocated inside the Kernel with constant positive shapes
//    (shared and fragment of rank 1 or more), used only where their Alloc is in scope: an Alloc in a
//    loop, branch or kernel body goes out of scope at the body's end; global tensors are parameters;
//  * every Load, Store and tile-op region indexes its buffer with one index per dimension;
//    tile-op regions of on-chip buffers lie inside the buffer where their bounds are constants;
//  * variables used only inside the loop or kernel that binds them; symbolic dimensions appear
//    alone in some parameter's shape, so a call can bind them;
//  * stores, T::If, T::While, asserts, prints, tile ops and builtin calls inside the Kernel; Scoped
//    statements too (an InternalError: only passes build them), their bodies a scope for Allocs;
//    Parallel extents positive constants; Break inside a serial loop or While (not a Parallel
//    one); Pipelined order/stage lists of one entry per body statement;
//  * a layout annotation's layout has its buffer's shape.
#pragma once

#include <cstddef>
#include <string>

#include "ir/IR.h"

namespace tilescale::ir {

// What the walk asks of the layer that knows the ops. It calls these where the ops' rules belong
// among its own checks, so a program with several mistakes reports the first one met. Every member
// has a structure-only default: names "T::<op>", no rules.
class OpChecks {
 public:
  virtual ~OpChecks() = default;
  // Names for messages: a tile op as the user wrote it ("T::reduce_max"), the same with its
  // operands ("T::copy from A[...] to B"), a builtin call ("T::put_block").
  virtual std::string name(const TileOpNode& op) const;
  virtual std::string describe(const TileOpNode& op) const;
  virtual std::string name(const BuiltinNode& call) const;
  // Around the body of a Kernel (after its launch shape is checked), and around the bodies of each
  // For, While and If (after its own bounds or condition are visited; an If's else body included).
  virtual void enter_kernel(const KernelNode&) {}
  virtual void leave_kernel(const PrimFuncNode&) {}
  virtual void enter(const StmtNode&) {}
  virtual void leave(const StmtNode&) {}
  // A tile op inside the Kernel: where it stands, before its regions are checked; then the op's
  // own rules, once its regions are in scope and indexed right (their bounds are checked after).
  virtual void check_place(const TileOpNode&) {}
  virtual void check(const TileOpNode&) {}
  // A builtin call inside the Kernel, before its arguments are visited. `evaluated`: it is the value
  // of an Evaluate statement (its result dropped).
  virtual void check(const BuiltinNode&, bool /*evaluated*/) {}
};

// CompileError unless `func` is well formed; `checks` adds the rules of the ops.
void verify(const PrimFunc& func, OpChecks& checks);
// Structure only (no op's rules): for tests of the IR and for programs whose ops are checked apart.
void verify(const PrimFunc& func);

// CompileError unless `buffer` is indexed with one index per dimension. `what` says where
// ("T::copy", "a load", ...).
void check_rank(const BufferNode& buffer, std::size_t num_indices, const char* what);

}  // namespace tilescale::ir
