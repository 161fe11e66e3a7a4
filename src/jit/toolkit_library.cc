#include "jit/toolkit_library.h"

#include <dlfcn.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <vector>

#include "tilescale/errors.h"

namespace tilescale::jit {

void* open_toolkit_library(std::initializer_list<const char*> names, std::string& why) {
  std::vector<std::string> paths(names.begin(), names.end());
  for (const char* env : {"CUDA_HOME", "CUDA_PATH"})
    if (const char* root = std::getenv(env); root && *root)
      for (const char* n : names) paths.push_back(std::string(root) + "/lib64/" + n);
  for (const char* n : names) paths.push_back(std::string("/usr/local/cuda/lib64/") + n);
  why.clear();
  for (const auto& path : paths) {
    if (void* lib = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL)) return lib;
    if (why.empty()) {
      const char* e = dlerror();
      why = e ? e : path;
    }
  }
  return nullptr;
}

std::string loaded_library_identity(const std::string& label, const void* symbol) {
  using tilescale::detail::cat;
  Dl_info info{};
  if (!dladdr(symbol, &info) || !info.dli_fname) return label + " (library file unknown)";
  std::error_code ec;
  const std::filesystem::path file = std::filesystem::canonical(info.dli_fname, ec);
  const std::string path = ec ? std::string(info.dli_fname) : file.string();
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) return cat(label, " at ", path);
  return cat(label, " at ", path, " (", st.st_size, " bytes, modified ",
             static_cast<long long>(st.st_mtim.tv_sec) * 1000000000LL + st.st_mtim.tv_nsec, ")");
}

}  // namespace tilescale::jit
