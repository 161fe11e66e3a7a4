// What a tile op's CUDA lowering (src/ops/*.cc) sees of the code generator: where to write, how to
// print values and address elements, the layouts the passes chose, and scratch shared memory.
// The ops define this interface; the CUDA generator (src/codegen/cuda/codegen.cc) implements it, so
// the ops know nothing of the generator.
//
// The ops that have no thread-level form yet (TileOpDef::thread_level, passes/lower_tile_ops.h:
// copy, fill, reduce, cumsum, atomic_add) build their code here, as thread-level IR that `emit`
// prints. Element indices are IR expressions, so they can mention the thread index (thread_var()) and
// constants alike. Fragments are per-thread register arrays: an op addresses them by register
// number (registers(b)[r]), never by logical index.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ir/IR.h"
#include "layout/layout.h"

namespace tilescale::cuda {

struct Target {
  int sm = 80;             // compute capability, 80 or 90
  // sm_90: pipelined loops whose tile loads qualify (tma.h) load by TMA from a producer warpgroup
  // (warp specialization). False gives the cp.async variant the runtime falls back to.
  bool tma = true;
  // The NVSHMEM-level builtins (ops/builtin.h) become NVSHMEM's device calls, as the `nvshmem`
  // transport needs (through the wrappers of device/tilescale/nvshmem_calls.h; the kernel is linked
  // with them and libnvshmem_device: kernel_spec.h). False: tl::dist's own over the Context
  // (device/tilescale/dist_shmem.h), for every transport that maps the peers' heaps (local, ipc).
  bool nvshmem_calls = false;
  // "sm_80", "sm_90a"
  std::string arch() const { return "sm_" + std::to_string(sm) + (sm >= 90 ? "a" : ""); }
};

// The family of a fragment's layout, as the layout-inference pass recorded it.
struct FragmentInfo {
  std::shared_ptr<const layout::Fragment> layout;
  std::string family;  // mma_accumulator, mma_accumulator_transposed, mma_rows, partition, replicated
  std::int64_t M = 0;
  int warps_m = 0, warps_n = 0;
  int registers = 0;  // per thread
};

class LowerContext {
 public:
  virtual ~LowerContext() = default;

  // Output: a lowering hands the thread-level IR it builds to `emit`, which prints it as the
  // generator prints the kernel's own statements (a block barrier, `tl.syncthreads`, is a named
  // barrier over a warp role's threads there).
  virtual void emit(const ir::Stmt& s) = 0;

  // Values and types.
  virtual std::string expr(const ir::Expr& e) = 0;
  virtual const ir::Var& thread_var() const = 0;
  virtual int threads() const = 0;  // the threads that run tile ops (a warp-specialized kernel has more)
  virtual const Target& target() const = 0;
  // True when `cond` holds for every thread, block and loop iteration (a check that can go).
  virtual bool provably(const ir::Expr& cond) const = 0;
  // Declares the values a variable the lowering introduces can take, for `provably`.
  virtual void set_range(const ir::Var& v, std::int64_t lo, std::int64_t hi, std::int64_t multiple = 1) = 0;

  // Buffers. `element` is an lvalue for a global, shared, local or var buffer element; `extent`
  // the buffer's extent in `dim` (for global tensors, possibly a symbolic dimension).
  virtual std::string element(const ir::BufferNode& b, const std::vector<ir::Expr>& index) = 0;
  virtual std::string pointer(const ir::BufferNode& b) = 0;  // base pointer (current pipeline stage)
  virtual ir::Expr extent(const ir::BufferNode& b, int dim) = 0;
  // A global tensor's stride in `dim` (any but the last), as the int64 variable the generated code
  // takes it in.
  virtual ir::Expr stride(const ir::BufferNode& b, int dim) = 0;
  virtual const FragmentInfo& fragment(const ir::BufferNode& b) = 0;
  // Fragment `b`'s registers as the Local array the generated code holds them in: IR that a
  // lowering emits reads and writes register r as registers(b)[r].
  virtual ir::Buffer registers(const ir::BufferNode& b) = 0;

  // Scratch shared memory for one op (reductions across warps); returns a `char*` expression.
  // The caller synchronises before reusing it.
  virtual std::string workspace(std::size_t bytes) = 0;
  // `elements` of type `t` at byte `offset` of that scratch (`workspace`, its expression) as a
  // one-dimensional shared buffer that IR built by a lowering can address.
  virtual ir::Buffer scratch(const std::string& workspace, std::int64_t offset, DataType t, std::int64_t elements) = 0;
  // True inside an `async_copies` scope (a pipeline's producers, passes/expand_pipelines.h): copies
  // may stay in flight, a later tl.cp_async_wait completes them.
  virtual bool in_async_producer() const = 0;
};

}  // namespace tilescale::cuda
