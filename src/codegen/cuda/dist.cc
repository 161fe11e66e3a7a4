#include "codegen/cuda/dist.h"

#include "ops/builtin.h"

namespace tilescale::cuda {

using tilescale::detail::cat;

bool is_distributed(const ir::PrimFunc& func) { return ops::uses_builtins(func->body); }
bool calls_nvshmem(const ir::PrimFunc& func, const Target& target) {
  return target.nvshmem_calls && ops::uses_nvshmem_builtins(func->body);
}

std::string dist_includes(const ir::PrimFunc& func, const Target& target) {
  if (!is_distributed(func)) return "";
  std::string out = "#include \"tilescale/dist.h\"\n";
  if (!ops::uses_nvshmem_builtins(func->body)) return out;
  return out + (target.nvshmem_calls ? "#include \"tilescale/nvshmem_calls.h\"\n" : "#include \"tilescale/dist_shmem.h\"\n");
}

std::string dist_context_param() { return cat("const tl::dist::Context ", ops::kCudaDistContext); }

std::string lower_builtin(const ir::BuiltinNode& call, LowerContext& ctx) { return ops::builtin(call.op).lower_cuda(call, ctx); }

}  // namespace tilescale::cuda
