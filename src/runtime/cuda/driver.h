// The CUDA driver API, loaded at run time.
//
// tilescale never links libcuda: it is opened with dlopen("libcuda.so.1") the first time a CUDA
// device is asked for, so the library builds and every CPU test runs on machines with no GPU and
// no driver. <cuda.h> (a toolkit header) is used only for the types and enums.
//
//   const cuda::Driver& d = cuda::driver();      // RuntimeError "no CUDA device: <why>" otherwise
//   cuda::set_current_device(0);
//   CUdeviceptr p;
//   TS_CU(MemAlloc, &p, 1024);                   // RuntimeError naming cuMemAlloc on failure
//
// The entry points are listed once, in TILESCALE_CUDA_DRIVER_API, as (member, exported symbol,
// older symbol or nullptr). The member is the API name without "cu" (d.LaunchKernel); the symbol is
// the versioned one cuda.h maps the name to (cuMemAlloc → cuMemAlloc_v2), so the signature is the
// one this header declares; where an older driver exports the same signature under the plain name,
// that name is tried second.
#pragma once

#include <cuda.h>

#include <string>
#include <string_view>
#include <utility>

namespace tilescale::cuda {

#define TILESCALE_CUDA_DRIVER_API(X)                                      \
  X(Init, cuInit, nullptr)                                                \
  X(DeviceGet, cuDeviceGet, nullptr)                                      \
  X(DeviceGetCount, cuDeviceGetCount, nullptr)                            \
  X(DeviceGetAttribute, cuDeviceGetAttribute, nullptr)                    \
  X(DeviceGetName, cuDeviceGetName, nullptr)                              \
  X(DevicePrimaryCtxRetain, cuDevicePrimaryCtxRetain, nullptr)            \
  X(CtxSetCurrent, cuCtxSetCurrent, nullptr)                              \
  X(CtxGetCurrent, cuCtxGetCurrent, nullptr)                              \
  X(CtxSynchronize, cuCtxSynchronize, nullptr)                            \
  X(ModuleLoadData, cuModuleLoadData, nullptr)                            \
  X(ModuleUnload, cuModuleUnload, nullptr)                                \
  X(ModuleGetFunction, cuModuleGetFunction, nullptr)                      \
  X(ModuleGetGlobal, cuModuleGetGlobal_v2, nullptr)                       \
  X(FuncSetAttribute, cuFuncSetAttribute, nullptr)                        \
  X(FuncGetAttribute, cuFuncGetAttribute, nullptr)                        \
  X(OccupancyMaxActiveBlocksPerMultiprocessor, cuOccupancyMaxActiveBlocksPerMultiprocessor, nullptr) \
  X(LaunchKernel, cuLaunchKernel, nullptr)                                \
  X(LaunchKernelEx, cuLaunchKernelEx, nullptr)                            \
  X(MemAlloc, cuMemAlloc_v2, nullptr)                                     \
  X(MemFree, cuMemFree_v2, nullptr)                                       \
  X(MemHostAlloc, cuMemHostAlloc, nullptr)                                \
  X(MemFreeHost, cuMemFreeHost, nullptr)                                  \
  X(MemHostGetDevicePointer, cuMemHostGetDevicePointer_v2, nullptr)       \
  X(MemcpyHtoD, cuMemcpyHtoD_v2, nullptr)                                 \
  X(MemcpyDtoH, cuMemcpyDtoH_v2, nullptr)                                 \
  X(MemcpyDtoD, cuMemcpyDtoD_v2, nullptr)                                 \
  X(MemsetD8, cuMemsetD8_v2, nullptr)                                     \
  X(StreamCreate, cuStreamCreate, nullptr)                                \
  X(StreamDestroy, cuStreamDestroy_v2, "cuStreamDestroy")                 \
  X(StreamSynchronize, cuStreamSynchronize, nullptr)                      \
  X(MemsetD8Async, cuMemsetD8Async, nullptr)                              \
  X(MemGetAllocationGranularity, cuMemGetAllocationGranularity, nullptr)  \
  X(MemCreate, cuMemCreate, nullptr)                                      \
  X(MemRelease, cuMemRelease, nullptr)                                    \
  X(MemAddressReserve, cuMemAddressReserve, nullptr)                      \
  X(MemAddressFree, cuMemAddressFree, nullptr)                            \
  X(MemMap, cuMemMap, nullptr)                                            \
  X(MemUnmap, cuMemUnmap, nullptr)                                        \
  X(MemSetAccess, cuMemSetAccess, nullptr)                                \
  X(MemExportToShareableHandle, cuMemExportToShareableHandle, nullptr)    \
  X(MemImportFromShareableHandle, cuMemImportFromShareableHandle, nullptr) \
  X(IpcGetMemHandle, cuIpcGetMemHandle, nullptr)                          \
  X(IpcOpenMemHandle, cuIpcOpenMemHandle_v2, "cuIpcOpenMemHandle")        \
  X(IpcCloseMemHandle, cuIpcCloseMemHandle, nullptr)                      \
  X(DeviceCanAccessPeer, cuDeviceCanAccessPeer, nullptr)                  \
  X(EventCreate, cuEventCreate, nullptr)                                  \
  X(EventRecord, cuEventRecord, nullptr)                                  \
  X(EventSynchronize, cuEventSynchronize, nullptr)                        \
  X(StreamWaitEvent, cuStreamWaitEvent, nullptr)                          \
  X(EventElapsedTime, cuEventElapsedTime_v2, "cuEventElapsedTime")        \
  X(EventDestroy, cuEventDestroy_v2, "cuEventDestroy")                    \
  X(GetErrorName, cuGetErrorName, nullptr)                                \
  X(GetErrorString, cuGetErrorString, nullptr)                            \
  X(TensorMapEncodeTiled, cuTensorMapEncodeTiled, nullptr)

struct Driver {
#define TILESCALE_CUDA_DRIVER_MEMBER(member, symbol, older) decltype(&::symbol) member = nullptr;
  TILESCALE_CUDA_DRIVER_API(TILESCALE_CUDA_DRIVER_MEMBER)
#undef TILESCALE_CUDA_DRIVER_MEMBER
  int device_count = 0;
};

// The loaded, initialised driver. Throws RuntimeError "no CUDA device: <why>" when libcuda.so.1
// cannot be opened or lacks an entry point, cuInit fails, or there are no devices. Loaded once per
// process; a failure is remembered.
const Driver& driver();
// Why driver() would throw; "" when a CUDA device is usable. Never throws.
std::string cuda_unavailable_reason();

// RuntimeError "CUDA error CUDA_ERROR_X (<description>) in <call>[ of kernel <kernel>]" unless
// r == CUDA_SUCCESS. Errors that leave the context unusable (illegal address, launch failure...) say
// so and suggest TILESCALE_SYNC_LAUNCH=1 / compute-sanitizer.
void check(CUresult r, std::string_view call, std::string_view kernel = {});
// "CUDA_ERROR_ILLEGAL_ADDRESS (an illegal memory access was encountered)"; usable without a driver.
std::string describe(CUresult r);

// Calls driver().<member>(args...) and checks the result, naming cu<member> in the error.
#define TS_CU(member, ...) ::tilescale::cuda::check(::tilescale::cuda::driver().member(__VA_ARGS__), "cu" #member)

// Devices, by ordinal. Each throws RuntimeError for an ordinal outside [0, device_count).
CUdevice device_handle(int device);
// Makes the device's primary context (retained once, kept for the process) current on this thread.
void set_current_device(int device);
int device_attribute(int device, CUdevice_attribute attribute);
std::string device_name(int device);
std::pair<int, int> compute_capability(int device);
// The NVRTC/nvcc architecture to compile for: "sm_80", "sm_86", "sm_90a" (9.0 and later get the
// arch-specific "a" variant that wgmma, setmaxnreg and TMA multicast need).
std::string arch_for_device(int device);

}  // namespace tilescale::cuda
