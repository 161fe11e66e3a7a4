// Compiling kernels that call NVSHMEM (KernelSpec::nvshmem): the NVRTC options that point at the
// headers of the installation jit/nvshmem_installation.h finds, and the whole route to a loadable
// cubin without nvcc: NVRTC relocatable code, linked by nvJitLink (jit/nvjitlink.h) with the
// installation's device library. Measured on a 2-core machine without a GPU for a small kernel
// (simple_shift): NVRTC 3.2 s (NVSHMEM's full headers), the link with libnvshmem_device.a 48 ms.
// Not yet used by a transport (the nvshmem transport comes with issue 14); the cheaper wrapper/LTO
// route of REFERENCE.md §3 is not built. Known gap: against NVSHMEM 3.8's libnvshmem_device.a, the
// put-with-signal calls do not link (nvJitLink: undefined nvshmemi_transfer_put_signal_dispatch);
// RMA, quiet and the rest do. NVSHMEM's device headers include
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
// The loadable cubin of `source` (a kernel that calls NVSHMEM) for `arch`: NVRTC with
// nvshmem_options() and `options`, then nvJitLink with the installation's libnvshmem_device.a.
// CompileError when NVSHMEM or nvJitLink is missing, the installation ships only bitcode (its LTO
// route is not built yet), or a step fails. The module still needs nvshmemx_cumodule_init after
// loading.
std::vector<char> compile_nvshmem_kernel(const std::string& source, const std::string& name, const std::string& arch,
                                         const std::vector<std::string>& options = {});

}  // namespace tilescale::jit
