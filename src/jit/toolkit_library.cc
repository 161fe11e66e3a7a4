#include "jit/toolkit_library.h"

#include <dlfcn.h>

#include <cstdlib>
#include <vector>

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

}  // namespace tilescale::jit
