#include "jit/nvshmem.h"

#include <filesystem>

#include "jit/nvjitlink.h"
#include "jit/nvrtc.h"
#include "jit/nvshmem_installation.h"
#include "tilescale/errors.h"

namespace tilescale::jit {

using tilescale::detail::cat;

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

std::vector<char> compile_nvshmem_kernel(const std::string& source, const std::string& name, const std::string& arch,
                                         const std::vector<std::string>& options) {
  std::vector<std::string> all = nvshmem_options();
  all.insert(all.end(), options.begin(), options.end());
  const NvshmemInstallation& nvshmem = *find_nvshmem().installation;
  if (nvshmem.device_archive.empty())
    throw CompileError(cat("cannot link kernel ", name, " with NVSHMEM ", nvshmem.version, " at ", nvshmem.root,
                           " because it ships no libnvshmem_device.a, only bitcode, whose LTO route is not built yet; "
                           "use an NVSHMEM that ships the archive (the nvidia-nvshmem-cu12/-cu13 wheels do)"));
  const CompiledBinary unit = compile_nvrtc(source, name, arch, all);
  return link_device_code({{LinkInput::Kind::Cubin, name, unit.cubin}, {LinkInput::Kind::Library, nvshmem.device_archive, {}}},
                          arch, {});
}

}  // namespace tilescale::jit
