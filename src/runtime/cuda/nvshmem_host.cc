#include "runtime/cuda/nvshmem_host.h"

#include <dlfcn.h>

#include <cstring>

#include "jit/nvshmem_installation.h"
#include "runtime/cuda/driver.h"
#include "tilescale/errors.h"

namespace tilescale::cuda {

using tilescale::detail::cat;

namespace {

// NVSHMEM's version-1 ABI structures (device_host/nvshmem_types.h, bootstrap_device_host/
// nvshmem_uniqueid.h): each begins with a version word, (1 << 16) + its size.
struct UniqueIdArgs {
  int version;
  void* id;
  int myrank;
  int nranks;
};
static_assert(sizeof(UniqueIdArgs) == 24, "nvshmemx_uniqueid_args_v1 is 24 bytes");
struct InitArgs {
  int version;
  UniqueIdArgs uid_args;
  char content[96];
};
static_assert(sizeof(InitArgs) == 128, "nvshmemx_init_args_v1 is 128 bytes");
struct InitAttr {
  int version;
  void* mpi_comm;
  InitArgs args;
};
static_assert(sizeof(InitAttr) == 144, "nvshmemx_init_attr_v1 is 144 bytes");

constexpr int abi_version(std::size_t size) { return (1 << 16) + static_cast<int>(size); }
constexpr unsigned kInitWithUniqueId = 1u << 3;  // NVSHMEMX_INIT_WITH_UNIQUEID

}  // namespace

struct NvshmemHost::Api {
  int (*get_uniqueid)(void*) = nullptr;
  int (*set_attr_uniqueid_args)(int, int, const void*, InitAttr*) = nullptr;
  int (*hostlib_init_attr)(unsigned, InitAttr*) = nullptr;
  void (*hostlib_finalize)() = nullptr;
  int (*my_pe)() = nullptr;
  int (*n_pes)() = nullptr;
  void* (*malloc)(std::size_t) = nullptr;
  void (*free)(void*) = nullptr;
  void* (*ptr)(const void*, int) = nullptr;
  int (*cumodule_init)(CUmodule) = nullptr;
};

namespace {

// Sets `member` to `symbol` of `lib`, or adds the symbol to `missing`.
template <typename F>
void load(void* lib, const char* symbol, F*& member, std::string& missing) {
  if (void* p = dlsym(lib, symbol)) member = reinterpret_cast<F*>(p);
  else missing += cat(missing.empty() ? "" : ", ", symbol);
}

}  // namespace

const NvshmemHost& nvshmem_host() {
  static const NvshmemHost host = [] {
    const jit::NvshmemSearch& search = jit::find_nvshmem();
    if (!search.installation) throw RuntimeError("cannot load NVSHMEM's host library because " + search.why_not);
    NvshmemHost h;
    h.path_ = search.installation->host_library;
    // RTLD_GLOBAL: NVSHMEM opens its bootstrap and transport plugins, which call back into it.
    void* lib = dlopen(h.path_.c_str(), RTLD_NOW | RTLD_GLOBAL);
    if (!lib)
      throw RuntimeError(cat("cannot load NVSHMEM's host library ", h.path_, " because ", dlerror(),
                             "; check that NVSHMEM ", search.installation->version, " matches this CUDA and driver"));
    auto* api = new NvshmemHost::Api();  // lives as long as the process, as the library does
    std::string missing;
    load(lib, "nvshmemx_get_uniqueid", api->get_uniqueid, missing);
    load(lib, "nvshmemx_set_attr_uniqueid_args", api->set_attr_uniqueid_args, missing);
    load(lib, "nvshmemx_hostlib_init_attr", api->hostlib_init_attr, missing);
    load(lib, "nvshmemx_hostlib_finalize", api->hostlib_finalize, missing);
    load(lib, "nvshmem_my_pe", api->my_pe, missing);
    load(lib, "nvshmem_n_pes", api->n_pes, missing);
    load(lib, "nvshmem_malloc", api->malloc, missing);
    load(lib, "nvshmem_free", api->free, missing);
    load(lib, "nvshmem_ptr", api->ptr, missing);
    load(lib, "nvshmemx_cumodule_init", api->cumodule_init, missing);
    if (!missing.empty())
      throw RuntimeError(cat("cannot use NVSHMEM's host library ", h.path_, " because it lacks ", missing,
                             "; use NVSHMEM 3.4 or newer"));
    h.api_ = api;
    return h;
  }();
  return host;
}

NvshmemUniqueId NvshmemHost::unique_id() const {
  NvshmemUniqueId id{};
  const int version = abi_version(id.size());
  std::memcpy(id.data(), &version, sizeof(version));
  if (const int status = api_->get_uniqueid(id.data()); status != 0)
    throw RuntimeError(cat("cannot make NVSHMEM's unique id because nvshmemx_get_uniqueid returned ", status,
                           "; run with NVSHMEM_DEBUG=INFO to see why"));
  return id;
}

void NvshmemHost::init(int pe, int pes, const NvshmemUniqueId* id) const {
  InitAttr attr{};
  attr.version = abi_version(sizeof(InitAttr));
  attr.args.version = abi_version(sizeof(InitArgs));
  attr.args.uid_args = {abi_version(sizeof(UniqueIdArgs)), nullptr, -1, -1};
  NvshmemUniqueId uid{};
  if (id) {
    uid = *id;
    if (const int status = api_->set_attr_uniqueid_args(pe, pes, uid.data(), &attr); status != 0)
      throw RuntimeError(cat("cannot initialise NVSHMEM as PE ", pe, " of ", pes,
                             " because nvshmemx_set_attr_uniqueid_args returned ", status));
  }
  if (const int status = api_->hostlib_init_attr(id ? kInitWithUniqueId : 0, &attr); status != 0)
    throw RuntimeError(cat("cannot initialise NVSHMEM as PE ", pe, " of ", pes, " because nvshmemx_hostlib_init_attr returned ",
                           status, "; run with NVSHMEM_DEBUG=INFO to see why"));
  if (api_->my_pe() != pe || api_->n_pes() != pes)
    throw RuntimeError(cat("cannot use NVSHMEM as PE ", pe, " of ", pes, " because NVSHMEM made this process PE ", api_->my_pe(),
                           " of ", api_->n_pes(), "; launch one process per rank with the launcher's RANK and WORLD_SIZE"));
}

void NvshmemHost::finalize() const { api_->hostlib_finalize(); }

void* NvshmemHost::malloc(std::size_t bytes, const std::string& what) const {
  void* p = api_->malloc(bytes);
  if (!p)
    throw RuntimeError(cat("cannot allocate ", what, " (", bytes, " bytes) with nvshmem_malloc because NVSHMEM's symmetric "
                           "heap is too small or the device is out of memory; raise NVSHMEM_SYMMETRIC_SIZE or lower "
                           "WorldOptions::heap_bytes"));
  return p;
}

void NvshmemHost::free(void* p) const { api_->free(p); }

void* NvshmemHost::peer_pointer(const void* p, int pe) const { return api_->ptr(p, pe); }

void NvshmemHost::init_module(CUmodule module, const std::string& kernel) const {
  CUdeviceptr version = 0;
  std::size_t bytes = 0;
  const CUresult found = driver().ModuleGetGlobal(&version, &bytes, module, "nvshmemi_device_lib_version_d");
  if (found == CUDA_ERROR_NOT_FOUND) return;  // the kernel was linked without NVSHMEM's device state
  check(found, "cuModuleGetGlobal (nvshmemi_device_lib_version_d)", kernel);
  if (const int status = api_->cumodule_init(module); status != 0)
    throw RuntimeError(cat("cannot prepare kernel ", kernel, " for NVSHMEM because nvshmemx_cumodule_init returned ", status,
                           "; run it on a rank of an nvshmem world (tilescale::dist::World::nvshmem), after the world "
                           "is made"));
}

}  // namespace tilescale::cuda
