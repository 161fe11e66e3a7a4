#include "jit/nvshmem.h"

#include <filesystem>

#include "jit/nvrtc.h"
#include "jit/nvshmem_installation.h"
#include "tilescale/errors.h"

namespace tilescale::jit {

std::string nvshmem_unavailable_reason() {
  const NvshmemSearch& search = find_nvshmem();
  if (!search.installation) return search.why_not;
  std::error_code ec;
  if (!std::filesystem::exists(cuda_include_dir() + "/cccl/cuda/std/cstdint", ec))
    return "the CUDA toolkit has no include/cccl (libcu++), which NVSHMEM's device headers need";
  return "";
}

std::vector<std::string> nvshmem_options() {
  if (std::string why = nvshmem_unavailable_reason(); !why.empty())
    throw CompileError("cannot compile a kernel that calls NVSHMEM because " + why);
  return {"-rdc=true", "-I" + find_nvshmem().installation->include_dir, "-I" + cuda_include_dir() + "/cccl"};
}

}  // namespace tilescale::jit
