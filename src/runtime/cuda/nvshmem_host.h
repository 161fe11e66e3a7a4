// NVSHMEM's host library, loaded at run time: tilescale links nothing of NVSHMEM, so it builds and
// runs without it, and the `nvshmem` transport (runtime/dist/nvshmem.cc) opens
// libnvshmem_host.so.N of the installation jit/nvshmem_installation.h finds on first use.
//
//   const cuda::NvshmemHost& h = cuda::nvshmem_host();   // RuntimeError when it cannot be loaded
//   cuda::NvshmemUniqueId id = h.unique_id();              // on PE 0; the bytes travel to every PE
//   h.init(pe, pes, id);                                   // on every PE, its device current
//   void* heap = h.malloc(bytes, "the symmetric heap");   // collective
//   h.init_module(module, "simple_shift");                // every module of a kernel that calls NVSHMEM
//
// Only the exported host API is used (nvshmemx_hostlib_init_attr and the rest), never the
// header-inline nvshmem_init, which needs the device library's host objects linked into the binary
// (REFERENCE.md §3). The attribute and unique-id structures are NVSHMEM's stable ABI (their
// version words and sizes: a 128-byte unique id, a 144-byte version-1 init attribute), which 3.4
// and 3.8 both accept.
//
// One NVSHMEM per process: init once, finalize once (the transport's lifetime).
#pragma once

#include <cuda.h>

#include <array>
#include <cstddef>
#include <string>

namespace tilescale::cuda {

// NVSHMEM's nvshmemx_uniqueid_t, as bytes: what PE 0 makes and every PE passes to init.
using NvshmemUniqueId = std::array<unsigned char, 128>;

class NvshmemHost {
 public:
  // nvshmemx_get_uniqueid. RuntimeError with NVSHMEM's status when it fails.
  NvshmemUniqueId unique_id() const;
  // nvshmemx_hostlib_init_attr for PE `pe` of `pes`, bootstrapped by `id` (every PE passes PE 0's),
  // or, when `id` is null, by NVSHMEM's own bootstrap (NVSHMEM_BOOTSTRAP=MPI/PMI...). Then checks
  // that NVSHMEM agrees: nvshmem_my_pe() == pe and nvshmem_n_pes() == pes. RuntimeError otherwise.
  void init(int pe, int pes, const NvshmemUniqueId* id) const;
  void finalize() const;  // nvshmemx_hostlib_finalize
  // nvshmem_malloc (collective): RuntimeError naming `what` and NVSHMEM_SYMMETRIC_SIZE when null.
  void* malloc(std::size_t bytes, const std::string& what) const;
  void free(void* p) const;
  // nvshmem_ptr: where PE `pe`'s copy of the symmetric object `p` is mapped in this process, null
  // when that PE is not reachable by loads and stores.
  void* peer_pointer(const void* p, int pe) const;
  // nvshmemx_cumodule_init on `module` of kernel `kernel`, when the module holds NVSHMEM's device
  // state (the symbol nvshmemi_device_lib_version_d); RuntimeError naming the kernel when it fails.
  void init_module(CUmodule module, const std::string& kernel) const;
  const std::string& library() const { return path_; }  // the path it was loaded from

 private:
  friend const NvshmemHost& nvshmem_host();
  struct Api;
  const Api* api_ = nullptr;
  std::string path_;
};

// The loaded library (once per process). RuntimeError "cannot load NVSHMEM's host library because
// <why>; <what to do>" when NVSHMEM is not found or the library lacks an entry point.
const NvshmemHost& nvshmem_host();

}  // namespace tilescale::cuda
