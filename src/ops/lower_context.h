// What a language builtin's CUDA printing (BuiltinDef::lower_cuda, src/ops/builtin.h: the
// distributed and NVSHMEM operations) sees of the code generator: how to print values and address
// elements, and the target. The ops define this interface; the CUDA generator
// (src/codegen/cuda/codegen.cc) implements it, so the ops know nothing of the generator. (Tile ops
// build thread-level IR instead: ops/thread_lowering.h.)
#pragma once

#include <string>
#include <vector>

#include "ir/IR.h"

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

class LowerContext {
 public:
  virtual ~LowerContext() = default;
  virtual std::string expr(const ir::Expr& e) = 0;
  // An lvalue for a global, shared, local or var buffer element.
  virtual std::string element(const ir::BufferNode& b, const std::vector<ir::Expr>& index) = 0;
  virtual const Target& target() const = 0;
};

}  // namespace tilescale::cuda
