// Device memory that several ranks map: CUDA virtual memory management (VMM) allocations, shared
// between processes as POSIX file descriptors, and legacy CUDA IPC as the fallback.
//
//   auto heap = cuda::DeviceHeap::create(/*device=*/0, bytes, /*access=*/{0}, /*exportable=*/true);
//   int fd = heap->export_fd();                       // send it to the peers (dist/fd_passing.h)
//   auto view = cuda::DeviceHeap::import_fd(fd, heap_bytes, /*access=*/{0});  // in a peer process
//
// A heap is one physical allocation of at least `bytes` (rounded up to the device's recommended
// VMM granularity) mapped at a fresh virtual address, readable and writable from every device in
// `access` (which lets ranks on other GPUs of the process reach it over peer access). An imported
// heap is the same physical memory mapped into this process. Both unmap and release on destruction.
//
// When the device or driver does not support VMM with POSIX-fd handles (the device attribute says
// so, or cuMemCreate refuses the handle type), create() with `exportable` makes a cuMemAlloc arena
// instead (legacy CUDA IPC): export_ipc_handle() gives its 64-byte handle and import_ipc() opens a
// peer's (a process cannot open its own). TILESCALE_IPC_HANDLES=legacy forces that route (tests).
#pragma once

#include <cuda.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace tilescale::cuda {

class DeviceHeap {
 public:
  enum class Kind { Vmm, LegacyIpc };

  // RuntimeError naming the step (and the device and size) when the driver refuses.
  static std::unique_ptr<DeviceHeap> create(int device, std::size_t bytes, const std::vector<int>& access, bool exportable);
  static std::unique_ptr<DeviceHeap> import_fd(int fd, std::size_t bytes, const std::vector<int>& access);
  static std::unique_ptr<DeviceHeap> import_ipc(const CUipcMemHandle& handle, int device);
  ~DeviceHeap();
  DeviceHeap(const DeviceHeap&) = delete;
  DeviceHeap& operator=(const DeviceHeap&) = delete;

  Kind kind() const { return kind_; }
  std::byte* base() const { return reinterpret_cast<std::byte*>(static_cast<std::uintptr_t>(base_)); }
  std::size_t bytes() const { return bytes_; }  // as mapped (granularity-rounded)
  // A new file descriptor for the allocation (the caller closes it); VMM heaps made exportable.
  int export_fd() const;
  // Legacy heaps made exportable.
  CUipcMemHandle export_ipc_handle() const;

  // Rounds `bytes` up to the recommended VMM granularity of `device`.
  static std::size_t rounded(int device, std::size_t bytes);

 private:
  DeviceHeap() = default;
  Kind kind_ = Kind::Vmm;
  bool imported_ = false;
  CUdeviceptr base_ = 0;
  std::size_t bytes_ = 0;
  CUmemGenericAllocationHandle handle_ = 0;  // VMM: the physical allocation (0 once released)
};

}  // namespace tilescale::cuda
