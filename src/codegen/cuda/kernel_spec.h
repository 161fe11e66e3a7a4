// What the CUDA code generator hands to the JIT and the runtime: the source of one kernel and
// everything needed to launch it. The runtime knows nothing of the IR beyond this.
//
// Parameter ABI of every generated kernel, in order:
//   1. one pointer per tensor parameter (`const T* __restrict__` when the kernel only reads it);
//   2. one `int` per symbolic dimension, in PrimFuncNode::symbolic_dims() order;
//   3. per tensor parameter, one `long long` stride (in elements) for each dimension but the last.
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
};

}  // namespace tilescale::cuda
