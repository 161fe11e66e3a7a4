// What the CUDA code generator hands to the JIT and the runtime: the source of one kernel and
// everything needed to launch it. The runtime knows nothing of the IR beyond this.
//
// Parameter ABI of every generated kernel, in order:
//   1. one pointer per tensor parameter (`const T* __restrict__` when the kernel only reads it), in
//      the order of PrimFuncNode::params with the scalars left out;
//   2. one `int` (`long long` when declared T::int64) per symbolic dimension, in
//      PrimFuncNode::symbolic_dims() order;
//   3. one value per scalar parameter (T::ScalarParam), passed by value as its declared type (`int`
//      for int32, `long long` for int64, `float` for float32), in the order of PrimFuncNode::params
//      with the tensors left out;
//   4. per tensor parameter, one `long long` stride (in elements) for each dimension but the last;
//   5. distributed kernels only (those that call builtins, src/ops/builtin.h): one
//      `const tl::dist::Context ts_dist`, passed by value (device/tilescale/dist.h):
//        int rank;                      // this rank
//        int num_ranks;                 // ranks in the run, at most tl::dist::kMaxRanks (64)
//        unsigned long long wait_budget_ns;  // a wait gives up after this long; 0: never
//        WaitControl* control;          // this rank's stop request and wait report (mapped host memory)
//        unsigned long long base[64];   // base[p]: where rank p's symmetric heap is mapped here
//      filled per launch by the rank's transport; a remote address is base[p] + (a - base[rank]).
//      Distributed kernels take their tensors as plain pointers (no const, no __restrict__).
//      A kernel that calls NVSHMEM (spec.nvshmem: it uses NVSHMEM-level builtins and was generated
//      for a target with nvshmem_calls, ops/lower_context.h) calls NVSHMEM's wrappers
//      (device/tilescale/nvshmem_calls.h): jit::compile_nvshmem_cached links it with them and
//      libnvshmem_device (jit/nvshmem.h), and the module needs nvshmemx_cumodule_init.
//   6. one `const __grid_constant__ tl::TmaDescriptor` per entry of tensor_maps, in order: the
//      tensor map of that tensor parameter, built by the runtime at launch (cuTensorMapEncodeTiled)
//      from the tensor's shape and strides, with the given box and swizzle (tma.h).
// The last dimension of every tensor must have stride 1 (checked before launch).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "ir/IR.h"
#include "passes/tma.h"

namespace tilescale::cuda {

using passes::TensorMapSpec;  // passes/tma.h

struct KernelSpec {
  std::string name;              // the prim_func's name, for messages
  std::string symbol;            // the extern "C" __global__ function: name as an unreserved identifier (names.h)
  std::string source;            // CUDA C++; includes only device/tilescale/*.h headers
  ir::PrimFunc func;             // the signature: params and symbolic dims (for argument checks)
  std::vector<ir::Expr> grid;    // 3 extents, in terms of the symbolic dims
  int threads = 0;               // block size (a warp-specialized kernel's includes its producer warpgroup)
  std::size_t shared_bytes = 0;  // dynamic shared memory
  bool distributed = false;      // takes the distributed context parameter (5. above)
  bool nvshmem = false;          // calls NVSHMEM (Target::nvshmem_calls; relocatable, see above)
  // Calls a builtin that waits for other blocks or ranks (ops::uses_blocking_builtins): every block
  // it waits for must be resident at the same time.
  bool waits = false;
  std::vector<TensorMapSpec> tensor_maps;  // 6. above; empty unless the kernel loads tiles by TMA
  // T::persistent: launched with grid (min(points, SMs * blocks per SM), 1, 1), each block walking
  // the points of `grid` (which the kernel computes from its parameters itself).
  bool persistent = false;
  // A warp-specialized kernel's pipeline mbarriers, full[pipeline_stages] then empty[...], start
  // pipeline_barriers bytes into dynamic shared memory (-1: none); a hang report names them.
  std::int64_t pipeline_barriers = -1;
  int pipeline_stages = 0;
};

}  // namespace tilescale::cuda
