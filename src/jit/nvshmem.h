// Compiling kernels that call NVSHMEM (KernelSpec::nvshmem): the NVRTC options that point at the
// headers of the installation jit/nvshmem_installation.h finds. NVSHMEM's device headers include
// libcu++ (<cuda/std/cstdint>), which NVRTC finds under the toolkit's include/cccl.
#pragma once

#include <string>
#include <vector>

namespace tilescale::jit {

// Why a kernel that calls NVSHMEM cannot be compiled ("" when it can): NVSHMEM not found (the
// search's why_not), or a CUDA toolkit without include/cccl. Never throws.
std::string nvshmem_unavailable_reason();
// NVRTC options for a kernel that calls NVSHMEM: relocatable device code and the include paths.
// CompileError "cannot compile a kernel that calls NVSHMEM because <nvshmem_unavailable_reason()>"
// when it cannot be compiled.
std::vector<std::string> nvshmem_options();

}  // namespace tilescale::jit
