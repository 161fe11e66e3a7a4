// Finding NVSHMEM's device headers, for compiling kernels that call NVSHMEM (KernelSpec::nvshmem).
//
// Discovery order: $NVSHMEM_HOME/include, then the pip wheel nvidia-nvshmem-cu13 (the nvidia
// package of `python3`: <nvidia.__path__[0]>/nvshmem/include). NVSHMEM's device headers include
// libcu++ (<cuda/std/cstdint>), which NVRTC finds under the toolkit's include/cccl.
#pragma once

#include <string>
#include <vector>

namespace tilescale::jit {

// The include directory holding nvshmem.h, or "" when none is found. Looked up once.
std::string nvshmem_include_dir();
// Why NVSHMEM's headers cannot be used ("" when they can).
std::string nvshmem_unavailable_reason();
// NVRTC options for a kernel that calls NVSHMEM: relocatable device code and the include paths.
// CompileError when the headers are not found.
std::vector<std::string> nvshmem_options();

}  // namespace tilescale::jit
