#include "nccl.h"

#include "support/python_module.h"

#include <dlfcn.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <numeric>
#include <vector>

#include "runtime/cuda/driver.h"
#include "tilescale/errors.h"

namespace tilescale::bench {

using tilescale::detail::cat;
namespace fs = std::filesystem;

namespace {

// NCCL's ABI, as nccl.h declares it: enums are ints, communicators and streams pointers.
using ncclComm_t = void*;
using ncclResult_t = int;
constexpr ncclResult_t ncclSuccess = 0;
constexpr int ncclFloat16 = 6, ncclFloat32 = 7, ncclBfloat16 = 9;
constexpr int ncclSum = 0;

struct Api {
  ncclResult_t (*GetVersion)(int*) = nullptr;
  ncclResult_t (*CommInitAll)(ncclComm_t*, int, const int*) = nullptr;
  ncclResult_t (*CommDestroy)(ncclComm_t) = nullptr;
  ncclResult_t (*AllGather)(const void*, void*, std::size_t, int, ncclComm_t, void*) = nullptr;
  ncclResult_t (*ReduceScatter)(const void*, void*, std::size_t, int, int, ncclComm_t, void*) = nullptr;
  const char* (*GetErrorString)(ncclResult_t) = nullptr;
  std::string path;     // the library opened
  std::string why_not;  // "" when loaded
};

constexpr const char* kLibrary = "libnccl.so.2";

// Where `python3 -c 'import nvidia.nccl'` finds the wheel's library, "" when it does not.
std::string wheel_from_python() {
  const std::string dir = python_module_dir("nvidia.nccl");
  return dir.empty() ? "" : cat(dir, "/lib/", kLibrary);
}

Api load() {
  Api api;
  void* lib = nullptr;
  std::string first_error;
  auto open = [&](const std::string& path) {
    if (lib) return;
    lib = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (lib) api.path = path;
    else if (const char* e = dlerror(); first_error.empty() && e) first_error = e;
  };
  open(kLibrary);
  for (const char* env : {"CUDA_HOME", "CUDA_PATH"})
    if (const char* root = std::getenv(env); root && *root) open(cat(root, "/lib64/", kLibrary));
  open(cat("/usr/local/cuda/lib64/", kLibrary));
  open(cat("/usr/local/cuda/lib/", kLibrary));
  std::error_code ec;
  if (!lib)
    for (const auto& [dir, found_by] : python_site_packages([](const char* name) { return std::getenv(name); }))
      if (const fs::path p = dir / "nvidia" / "nccl" / "lib" / kLibrary; fs::exists(p, ec)) open(p.string());
  if (!lib)
    if (const std::string p = wheel_from_python(); !p.empty()) open(p);
  if (!lib) {
    api.why_not = cat("NCCL was not found (", first_error, "; not in the CUDA toolkit, nor as the nvidia-nccl-cu13 or -cu12 "
                      "wheel of a python3 on PATH); install it (python3 -m pip install nvidia-nccl-cu13) or put ",
                      kLibrary, " on LD_LIBRARY_PATH");
    return api;
  }
  std::string missing;
  auto get = [&](auto& fn, const char* symbol) {
    if (void* p = dlsym(lib, symbol)) fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(p);
    else missing += cat(missing.empty() ? "" : ", ", symbol);
  };
  get(api.GetVersion, "ncclGetVersion");
  get(api.CommInitAll, "ncclCommInitAll");
  get(api.CommDestroy, "ncclCommDestroy");
  get(api.AllGather, "ncclAllGather");
  get(api.ReduceScatter, "ncclReduceScatter");
  get(api.GetErrorString, "ncclGetErrorString");
  if (!missing.empty()) api.why_not = cat(api.path, " lacks ", missing, "; use NCCL 2.x");
  return api;
}

const Api& api() {
  static const Api loaded = load();
  return loaded;
}

void keep_multicast_off() {
  const char* now = std::getenv("NCCL_NVLS_ENABLE");
  if (now && std::strcmp(now, "0") == 0) return;
  if (now) std::fprintf(stderr, "note: NCCL_NVLS_ENABLE=%s overridden with 0: NVLink multicast stays off on these hosts\n", now);
  setenv("NCCL_NVLS_ENABLE", "0", 1);
}

int nccl_type(const Tensor& t) {
  switch (t.dtype()) {
    case DataType::Float16: return ncclFloat16;
    case DataType::BFloat16: return ncclBfloat16;
    case DataType::Float32: return ncclFloat32;
    default: throw InternalError(cat("the NCCL benchmarks pass no ", t.describe()));
  }
}

void check(ncclResult_t r, const char* call) {
  if (r != ncclSuccess)
    throw RuntimeError(cat("cannot run ", call, " because NCCL failed: ", api().GetErrorString(r),
                           "; rerun with NCCL_DEBUG=WARN for NCCL's own report"));
}

}  // namespace

struct Nccl::Comms {
  std::vector<ncclComm_t> comms;
};

Nccl::Nccl(int ranks) {
  keep_multicast_off();
  if (!api().why_not.empty()) {
    why_not_ = api().why_not;
    return;
  }
  const int gpus = cuda::driver().device_count;
  if (gpus < ranks) {
    why_not_ = cat("NCCL needs one GPU per rank; ", gpus, gpus == 1 ? " GPU" : " GPUs", " here");
    return;
  }
  auto c = std::make_unique<Comms>();
  c->comms.resize(ranks);
  std::vector<int> devices(ranks);
  std::iota(devices.begin(), devices.end(), 0);
  if (const ncclResult_t r = api().CommInitAll(c->comms.data(), ranks, devices.data()); r != ncclSuccess) {
    why_not_ = cat("ncclCommInitAll failed: ", api().GetErrorString(r));
    return;
  }
  comms_ = std::move(c);
  cuda::set_current_device(0);  // ncclCommInitAll leaves the last device current
  int version = 0;
  api().GetVersion(&version);
  // NCCL encodes its version as major·10000 + minor·100 + patch (2.9 and later).
  description_ = cat("NCCL ", version / 10000, ".", version / 100 % 100, ".", version % 100, " (", api().path, ")");
}

Nccl::~Nccl() {
  if (comms_)
    for (ncclComm_t c : comms_->comms) api().CommDestroy(c);
}

void Nccl::all_gather(int rank, const Tensor& in, const Tensor& out, void* stream) const {
  TS_ICHECK(comms_, "NCCL all_gather without communicators");
  TS_ICHECK(out.numel() == in.numel() * static_cast<std::int64_t>(comms_->comms.size()), "all_gather of ", in.describe(),
            " into ", out.describe());
  check(api().AllGather(in.data(), out.data(), in.numel(), nccl_type(in), comms_->comms.at(rank), stream), "ncclAllGather");
}

void Nccl::reduce_scatter_sum(int rank, const Tensor& in, const Tensor& out, void* stream) const {
  TS_ICHECK(comms_, "NCCL reduce_scatter without communicators");
  TS_ICHECK(in.numel() == out.numel() * static_cast<std::int64_t>(comms_->comms.size()), "reduce_scatter of ",
            in.describe(), " into ", out.describe());
  check(api().ReduceScatter(in.data(), out.data(), out.numel(), nccl_type(in), ncclSum, comms_->comms.at(rank), stream),
        "ncclReduceScatter");
}

}  // namespace tilescale::bench
