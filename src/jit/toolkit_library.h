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

}  // namespace tilescale::jit
