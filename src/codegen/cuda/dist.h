// The CUDA code generator's side of the distributed operators: what a kernel that calls builtins
// (src/ops/builtin.h) gets beyond an ordinary kernel. The generator (codegen.cc) calls these hooks;
// the lowering of each builtin lives with its definition.
//
//  * the includes: tilescale/dist.h, and for the NVSHMEM-level builtins tilescale/dist_shmem.h, or
//    tilescale/nvshmem_calls.h when the target calls NVSHMEM (Target::nvshmem_calls: the kernel
//    calls NVSHMEM's wrappers, declared there, and is linked with them and NVSHMEM's device
//    library: jit/nvshmem.h);
//  * the signature: tensor parameters are plain pointers (no const, no __restrict__: peers write
//    them during the kernel, so loads must not be cached on the read-only path or hoisted), and a
//    last parameter `const tl::dist::Context ts_dist` (rank, number of ranks, remote-base table;
//    kernel_spec.h);
//  * builtin calls, as C++ expressions.
#pragma once

#include <string>

#include "ops/lower_context.h"
#include "ir/IR.h"

namespace tilescale::cuda {

bool is_distributed(const ir::PrimFunc& func);
// Whether the kernel calls NVSHMEM: it uses NVSHMEM-level builtins and the target lowers them to
// NVSHMEM's device calls.
bool calls_nvshmem(const ir::PrimFunc& func, const Target& target);
// "#include ..." lines, each ending with a newline ("" for an ordinary kernel).
std::string dist_includes(const ir::PrimFunc& func, const Target& target);
// The declaration of the distributed context parameter.
std::string dist_context_param();
std::string lower_builtin(const ir::BuiltinNode& call, LowerContext& ctx);

}  // namespace tilescale::cuda
