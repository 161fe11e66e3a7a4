// Compiling generated CUDA C++ with the nvcc program (TILESCALE_JIT=nvcc), as a cross-check of NVRTC
// and for tools that want nvcc's own diagnostics.
//
// The source and the embedded device headers are written to a fresh temporary directory and
// `nvcc -cubin -arch=<arch> -std=c++17 -I<dir>/include <options> -o kernel.cubin kernel.cu` runs
// there (or -ptx for a compute_XX arch). NVRTC-only options (-default-device) are dropped: code for
// nvcc must mark its functions __device__ itself. On failure the source and log are saved as for
// NVRTC and CompileError says where.
#pragma once

#include <string>
#include <vector>

#include "jit/nvrtc.h"

namespace tilescale::jit {

CompiledBinary compile_nvcc(const std::string& source, const std::string& name, const std::string& arch,
                            const std::vector<std::string>& options);

// The nvcc to run: $TILESCALE_NVCC, $CUDA_HOME/bin/nvcc, $CUDA_PATH/bin/nvcc, /usr/local/cuda/bin/nvcc,
// then nvcc on the PATH; "" when none is found.
std::string nvcc_path();
// The whole output of `nvcc --version` (its release and build lines), run once per nvcc path;
// CompileError without nvcc.
std::string nvcc_version();
// The include directory of nvcc's toolkit (<nvcc's directory>/../include), "" when there is none.
std::string nvcc_include_dir();
// The arguments every nvcc compilation of `arch` gets before the include directory and the caller's
// options: -cubin (-ptx for compute_XX), -arch=<arch>, -std=c++17; shared with the cache key.
std::vector<std::string> nvcc_fixed_options(const std::string& arch);

}  // namespace tilescale::jit
