// Opening a library of the CUDA toolkit at run time (libnvrtc, libnvJitLink), so that tilescale
// builds and runs where it is missing and says why when it is needed.
#pragma once

#include <initializer_list>
#include <string>

namespace tilescale::jit {

// dlopen of the first of `names` ("libnvrtc.so.13", ...) that loads: plainly (the loader's search
// path), then under $CUDA_HOME/lib64, $CUDA_PATH/lib64 and /usr/local/cuda/lib64. Null when none
// does, with `why` the first loader error.
void* open_toolkit_library(std::initializer_list<const char*> names, std::string& why);

// Which build of a loaded library this is, beyond its version number (two 13.0 updates differ in
// their files), for cache keys: "<label> at <path> (<size> bytes, modified <ns since epoch>)", the
// file that holds `symbol` (any of its entry points). "<label> (library file unknown)" when the
// loader cannot say.
std::string loaded_library_identity(const std::string& label, const void* symbol);

}  // namespace tilescale::jit
