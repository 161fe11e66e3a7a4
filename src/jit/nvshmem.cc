#include "jit/nvshmem.h"

#include "support/python_module.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "jit/nvrtc.h"
#include "tilescale/errors.h"

namespace tilescale::jit {

using tilescale::detail::cat;

namespace {

bool has_header(const std::string& dir) {
  std::error_code ec;
  return !dir.empty() && std::filesystem::exists(dir + "/nvshmem.h", ec);
}

// <nvidia.__path__[0]>/nvshmem/include from the python3 on PATH, "" when it has no such package.
std::string from_python() {
  const std::string dir = python_module_dir("nvidia");
  return dir.empty() ? "" : dir + "/nvshmem/include";
}

std::string find() {
  if (const char* home = std::getenv("NVSHMEM_HOME"); home && *home && has_header(cat(home, "/include")))
    return cat(home, "/include");
  if (std::string dir = from_python(); has_header(dir)) return dir;
  return "";
}

}  // namespace

std::string nvshmem_include_dir() {
  static const std::string dir = find();
  return dir;
}

std::string nvshmem_unavailable_reason() {
  if (nvshmem_include_dir().empty())
    return "NVSHMEM's headers were not found (set NVSHMEM_HOME, or install the pip wheel nvidia-nvshmem-cu13: "
           "python3 -m pip install --user nvidia-nvshmem-cu13)";
  std::error_code ec;
  if (!std::filesystem::exists(cuda_include_dir() + "/cccl/cuda/std/cstdint", ec))
    return "the CUDA toolkit has no include/cccl (libcu++), which NVSHMEM's device headers need";
  return "";
}

std::vector<std::string> nvshmem_options() {
  if (std::string why = nvshmem_unavailable_reason(); !why.empty())
    throw CompileError("cannot compile a kernel that calls NVSHMEM because " + why);
  return {"-rdc=true", "-I" + nvshmem_include_dir(), "-I" + cuda_include_dir() + "/cccl"};
}

}  // namespace tilescale::jit
