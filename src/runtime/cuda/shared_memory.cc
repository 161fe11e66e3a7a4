#include "runtime/cuda/shared_memory.h"

#include <cstring>
#include <string>

#include "runtime/cuda/driver.h"
#include "support/env.h"
#include "tilescale/errors.h"

namespace tilescale::cuda {

using tilescale::detail::cat;

namespace {

CUmemAllocationProp properties(int device, bool exportable) {
  CUmemAllocationProp prop;
  std::memset(&prop, 0, sizeof(prop));
  prop.type = CU_MEM_ALLOCATION_TYPE_PINNED;
  prop.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
  prop.location.id = device;
  prop.requestedHandleTypes = exportable ? CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR : CU_MEM_HANDLE_TYPE_NONE;
  return prop;
}

// Maps `handle` (bytes long) at a fresh address readable and writable from every device in `access`.
CUdeviceptr map(CUmemGenericAllocationHandle handle, std::size_t bytes, const std::vector<int>& access, const std::string& what) {
  const Driver& d = driver();
  CUdeviceptr base = 0;
  check(d.MemAddressReserve(&base, bytes, 0, 0, 0), cat("cuMemAddressReserve (", what, ")"));
  CUresult r = d.MemMap(base, bytes, 0, handle, 0);
  if (r != CUDA_SUCCESS) {
    d.MemAddressFree(base, bytes);
    check(r, cat("cuMemMap (", what, ")"));
  }
  std::vector<CUmemAccessDesc> descs;
  for (int dev : access) {
    CUmemAccessDesc a;
    std::memset(&a, 0, sizeof(a));
    a.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
    a.location.id = dev;
    a.flags = CU_MEM_ACCESS_FLAGS_PROT_READWRITE;
    descs.push_back(a);
  }
  r = d.MemSetAccess(base, bytes, descs.data(), descs.size());
  if (r != CUDA_SUCCESS) {
    d.MemUnmap(base, bytes);
    d.MemAddressFree(base, bytes);
    check(r, cat("cuMemSetAccess (", what, ")"));
  }
  return base;
}

bool legacy_forced() {
  const char* v = std::getenv("TILESCALE_IPC_HANDLES");
  if (!v || !*v || std::string(v) == "vmm") return false;
  if (std::string(v) == "legacy") return true;
  throw RuntimeError(cat("cannot read TILESCALE_IPC_HANDLES=", v, " because it is neither vmm nor legacy; unset it or use one of those"));
}

bool vmm_fd_supported(int device) {
  return device_attribute(device, CU_DEVICE_ATTRIBUTE_VIRTUAL_MEMORY_MANAGEMENT_SUPPORTED) != 0 &&
         device_attribute(device, CU_DEVICE_ATTRIBUTE_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR_SUPPORTED) != 0;
}

}  // namespace

std::size_t DeviceHeap::rounded(int device, std::size_t bytes) {
  const CUmemAllocationProp prop = properties(device, false);
  std::size_t granularity = 0;
  check(driver().MemGetAllocationGranularity(&granularity, &prop, CU_MEM_ALLOC_GRANULARITY_RECOMMENDED),
        "cuMemGetAllocationGranularity");
  if (granularity == 0) granularity = 2 << 20;
  return (std::max<std::size_t>(bytes, 1) + granularity - 1) / granularity * granularity;
}

std::unique_ptr<DeviceHeap> DeviceHeap::create(int device, std::size_t bytes, const std::vector<int>& access, bool exportable) {
  set_current_device(device);
  const Driver& d = driver();
  std::unique_ptr<DeviceHeap> h(new DeviceHeap());
  const std::string what = cat(bytes, "-byte symmetric heap on cuda:", device);
  if (exportable && (legacy_forced() || !vmm_fd_supported(device))) {
    h->kind_ = Kind::LegacyIpc;
    h->bytes_ = bytes;
    check(d.MemAlloc(&h->base_, bytes), cat("cuMemAlloc (", what, ")"));
    return h;
  }
  h->bytes_ = rounded(device, bytes);
  const CUmemAllocationProp prop = properties(device, exportable);
  CUresult r = d.MemCreate(&h->handle_, h->bytes_, &prop, 0);
  if (r == CUDA_ERROR_NOT_SUPPORTED && exportable) {  // the driver refuses fd handles: legacy IPC
    h->kind_ = Kind::LegacyIpc;
    h->bytes_ = bytes;
    h->handle_ = 0;
    check(d.MemAlloc(&h->base_, bytes), cat("cuMemAlloc (", what, ")"));
    return h;
  }
  check(r, cat("cuMemCreate (", what, ")"));
  h->base_ = map(h->handle_, h->bytes_, access, what);
  return h;
}

std::unique_ptr<DeviceHeap> DeviceHeap::import_fd(int fd, std::size_t bytes, const std::vector<int>& access) {
  const Driver& d = driver();
  std::unique_ptr<DeviceHeap> h(new DeviceHeap());
  h->imported_ = true;
  h->bytes_ = bytes;
  CUmemGenericAllocationHandle handle = 0;
  check(d.MemImportFromShareableHandle(&handle, reinterpret_cast<void*>(static_cast<std::intptr_t>(fd)),
                                       CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR),
        "cuMemImportFromShareableHandle (a peer's symmetric heap)");
  try {
    h->base_ = map(handle, bytes, access, "a peer's symmetric heap");
  } catch (...) {
    d.MemRelease(handle);
    throw;
  }
  d.MemRelease(handle);  // the mapping keeps the memory
  return h;
}

std::unique_ptr<DeviceHeap> DeviceHeap::import_ipc(const CUipcMemHandle& handle, int device) {
  set_current_device(device);
  std::unique_ptr<DeviceHeap> h(new DeviceHeap());
  h->kind_ = Kind::LegacyIpc;
  h->imported_ = true;
  check(driver().IpcOpenMemHandle(&h->base_, handle, CU_IPC_MEM_LAZY_ENABLE_PEER_ACCESS),
        "cuIpcOpenMemHandle (a peer's symmetric heap)");
  return h;
}

DeviceHeap::~DeviceHeap() {
  const Driver& d = driver();
  if (kind_ == Kind::LegacyIpc) {
    if (imported_) d.IpcCloseMemHandle(base_);
    else d.MemFree(base_);
    return;
  }
  if (base_) {
    d.MemUnmap(base_, bytes_);
    d.MemAddressFree(base_, bytes_);
  }
  if (handle_) d.MemRelease(handle_);
}

int DeviceHeap::export_fd() const {
  TS_ICHECK(kind_ == Kind::Vmm && handle_, "export_fd of a heap that is not an exportable VMM allocation");
  int fd = -1;
  check(driver().MemExportToShareableHandle(&fd, handle_, CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR, 0),
        "cuMemExportToShareableHandle (the symmetric heap)");
  return fd;
}

CUipcMemHandle DeviceHeap::export_ipc_handle() const {
  TS_ICHECK(kind_ == Kind::LegacyIpc && !imported_, "export_ipc_handle of a heap that is not a legacy IPC arena");
  CUipcMemHandle handle;
  check(driver().IpcGetMemHandle(&handle, base_), "cuIpcGetMemHandle (the symmetric heap)");
  return handle;
}

}  // namespace tilescale::cuda
