// What a tile op's lowering to thread-level IR (TileOpDef::lower_to_threads) sees of its place in
// the kernel: who runs it, what the index variables can be, the fragments' layouts and register
// arrays, the global tensors' strides and scratch shared memory. The ops define this interface; the
// pass lower_to_threads (src/passes/lower_to_threads.h) implements it, so the ops know nothing of
// the passes.
//
// A lowering builds thread-level IR and hands it to `emit`, in order. Element indices are IR
// expressions, so they can mention the thread index (thread_var()) and constants alike. Fragments
// are per-thread register arrays: an op addresses them by register number (registers(b)[r]), never
// by logical index.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "ir/IR.h"
#include "layout/layout.h"

namespace tilescale::ops {

// The family of a fragment's layout, as the layout-inference pass recorded it.
struct FragmentInfo {
  std::shared_ptr<const layout::Fragment> layout;
  std::string family;  // mma_accumulator, mma_accumulator_transposed, mma_rows, partition, replicated
  std::int64_t M = 0;
  int warps_m = 0, warps_n = 0;
  int registers = 0;  // per thread
};

class ThreadLowering {
 public:
  virtual ~ThreadLowering() = default;

  // Appends a statement to the op's thread-level form.
  virtual void emit(const ir::Stmt& s) = 0;

  virtual const ir::Var& thread_var() const = 0;
  virtual int threads() const = 0;  // the threads that run the op (a warp-specialized kernel has more)
  // True when `cond` holds for every thread, block and loop iteration (a check that can go).
  virtual bool provably(const ir::Expr& cond) const = 0;
  // Declares the values a variable the lowering introduces can take, for `provably`.
  virtual void set_range(const ir::Var& v, std::int64_t lo, std::int64_t hi, std::int64_t multiple = 1) = 0;
  // True inside an `async_copies` scope (a pipeline's producers, passes/expand_pipelines.h): copies
  // may stay in flight, a later tl.cp_async_wait completes them.
  virtual bool in_async_producer() const = 0;

  // A global tensor's stride in `dim` (any but the last): the int64 variable of the function's
  // parameter (ir::Param::strides).
  virtual ir::Expr stride(const ir::BufferNode& b, int dim) = 0;
  virtual const FragmentInfo& fragment(const ir::BufferNode& b) = 0;
  // Fragment `b`'s registers as the Local array that holds them: register r is registers(b)[r].
  virtual ir::Buffer registers(const ir::BufferNode& b) = 0;
  // `elements` of type `t` at byte `offset` of the op's scratch shared memory (reductions across
  // warps), as a one-dimensional shared buffer. Every op's scratch starts at the same byte: the op
  // synchronises before reusing it.
  virtual ir::Buffer scratch(std::int64_t offset, DataType t, std::int64_t elements) = 0;
};

}  // namespace tilescale::ops
