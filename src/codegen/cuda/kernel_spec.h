// What the CUDA code generator hands to the JIT and the runtime: the source of one kernel and
// everything needed to launch it. The runtime knows nothing of the IR beyond this.
//
// Parameter ABI of every generated kernel, in order:
//   1. one pointer per tensor parameter (`const T* __restrict__` when the kernel only reads it);
//   2. one `int` per symbolic dimension, in PrimFuncNode::symbolic_dims() order;
//   3. per tensor parameter, one `long long` stride (in elements) for each dimension but the last;
//   4. distributed kernels only (those that call builtins, src/ops/builtin.h): one
//      `const tl::dist::Context ts_dist`, passed by value (device/tilescale/dist.h):
//        int rank;                      // this rank
//        int num_ranks;                 // ranks in the run, at most tl::dist::kMaxRanks (64)
//        unsigned long long base[64];   // base[p]: where rank p's symmetric heap is mapped here
//      filled per launch by the rank's transport; a remote address is base[p] + (a - base[rank]).
//      Distributed kernels take their tensors as plain pointers (no const, no __restrict__).
//      A kernel that calls NVSHMEM (spec.nvshmem) is relocatable device code: it compiles with
//      jit::nvshmem_options() and links with libnvshmem_device before loading, and the module needs
//      nvshmemx_cumodule_init.
// The last dimension of every tensor must have stride 1 (checked before launch).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "ir/IR.h"

namespace tilescale::cuda {

struct KernelSpec {
  std::string name;              // the extern "C" symbol
  std::string source;            // CUDA C++; includes only device/tilescale/*.h headers
  ir::PrimFunc func;             // the signature: params and symbolic dims (for argument checks)
  std::vector<ir::Expr> grid;    // 3 extents, in terms of the symbolic dims
  int threads = 0;               // block size
  std::size_t shared_bytes = 0;  // dynamic shared memory
  bool distributed = false;      // takes the distributed context parameter (4. above)
  bool nvshmem = false;          // calls NVSHMEM (relocatable, see above)
};

}  // namespace tilescale::cuda
