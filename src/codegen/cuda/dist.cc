#include "codegen/cuda/dist.h"

#include "ops/builtin.h"

namespace tilescale::cuda {

using tilescale::detail::cat;

bool is_distributed(const ir::PrimFunc& func) { return ops::uses_builtins(func->body); }
bool uses_nvshmem(const ir::PrimFunc& func) { return ops::uses_nvshmem(func->body); }

std::string dist_includes(const ir::PrimFunc& func) {
  if (!is_distributed(func)) return "";
  std::string out = "#include \"tilescale/dist.h\"\n";
  if (uses_nvshmem(func)) out += "#include <nvshmem.h>\n#include <nvshmemx.h>\n";
  return out;
}

std::string dist_context_param() { return cat("const tl::dist::Context ", ops::kCudaDistContext); }

std::string lower_builtin(const ir::BuiltinNode& call, LowerContext& ctx) { return ops::builtin(call.op).lower_cuda(call, ctx); }

}  // namespace tilescale::cuda
