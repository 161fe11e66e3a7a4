#include "runtime/cuda/driver.h"

#include <dlfcn.h>

#include <mutex>
#include <vector>

#include "runtime/cuda/trap_reports.h"
#include "tilescale/errors.h"

namespace tilescale::cuda {

using tilescale::detail::cat;

namespace {

struct Loaded {
  Driver driver;
  std::string why_not;  // "" when usable
};

// Names of CUresult values for when the driver itself is what failed to load.
const char* fallback_error_name(CUresult r) {
  switch (r) {
    case CUDA_SUCCESS: return "CUDA_SUCCESS";
    case CUDA_ERROR_NO_DEVICE: return "CUDA_ERROR_NO_DEVICE";
    case CUDA_ERROR_NOT_INITIALIZED: return "CUDA_ERROR_NOT_INITIALIZED";
    case CUDA_ERROR_OUT_OF_MEMORY: return "CUDA_ERROR_OUT_OF_MEMORY";
    default: return nullptr;
  }
}

Loaded load() {
  Loaded out;
  void* lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char* err = dlerror();
    out.why_not = cat("libcuda.so.1 could not be loaded (", err ? err : "unknown reason",
                      "); is the NVIDIA driver installed?");
    return out;
  }
  // Never dlclose'd: kernels, tensors and static objects may use the driver until exit.
  Driver& d = out.driver;
  std::vector<std::string> missing;
#define TILESCALE_CUDA_DRIVER_LOAD(member, symbol, older)                    \
  {                                                                          \
    void* p = dlsym(lib, #symbol);                                           \
    const char* alt = older;                                                 \
    if (!p && alt) p = dlsym(lib, alt);                                      \
    if (p)                                                                   \
      d.member = reinterpret_cast<decltype(d.member)>(p);                    \
    else                                                                     \
      missing.push_back(#symbol);                                            \
  }
  TILESCALE_CUDA_DRIVER_API(TILESCALE_CUDA_DRIVER_LOAD)
#undef TILESCALE_CUDA_DRIVER_LOAD
  if (!missing.empty()) {
    std::string names;
    for (const auto& m : missing) names += (names.empty() ? "" : ", ") + m;
    out.why_not = cat("libcuda.so.1 lacks ", names, "; the NVIDIA driver is too old for this build of tilescale (CUDA 12 or newer is needed)");
    return out;
  }
  if (CUresult r = d.Init(0); r != CUDA_SUCCESS) {
    const char* name = nullptr;
    const char* what = nullptr;
    d.GetErrorName(r, &name);
    d.GetErrorString(r, &what);
    out.why_not = cat("cuInit failed with ", name ? name : "error", " (", what ? what : "no description", ")");
    return out;
  }
  if (CUresult r = d.DeviceGetCount(&d.device_count); r != CUDA_SUCCESS) {
    out.why_not = cat("cuDeviceGetCount failed with error ", static_cast<int>(r));
    return out;
  }
  if (d.device_count == 0) out.why_not = "the driver reports 0 devices";
  return out;
}

const Loaded& loaded() {
  static const Loaded l = load();
  return l;
}

bool is_sticky(CUresult r) {
  switch (r) {
    case CUDA_ERROR_ILLEGAL_ADDRESS:
    case CUDA_ERROR_LAUNCH_FAILED:
    case CUDA_ERROR_ILLEGAL_INSTRUCTION:
    case CUDA_ERROR_MISALIGNED_ADDRESS:
    case CUDA_ERROR_INVALID_ADDRESS_SPACE:
    case CUDA_ERROR_INVALID_PC:
    case CUDA_ERROR_HARDWARE_STACK_ERROR:
    case CUDA_ERROR_ASSERT:
    case CUDA_ERROR_LAUNCH_TIMEOUT:
      return true;
    default:
      return false;
  }
}

}  // namespace

const Driver& driver() {
  const Loaded& l = loaded();
  if (!l.why_not.empty()) throw RuntimeError("no CUDA device: " + l.why_not);
  return l.driver;
}

std::string cuda_unavailable_reason() { return loaded().why_not; }

std::string describe(CUresult r) {
  const Loaded& l = loaded();
  const char* name = nullptr;
  const char* what = nullptr;
  if (l.driver.GetErrorName) l.driver.GetErrorName(r, &name);
  if (l.driver.GetErrorString) l.driver.GetErrorString(r, &what);
  if (!name) name = fallback_error_name(r);
  std::string s = name ? std::string(name) : cat("CUresult ", static_cast<int>(r));
  if (what) s += cat(" (", what, ")");
  return s;
}

void check(CUresult r, std::string_view call, std::string_view kernel) {
  if (r == CUDA_SUCCESS) return;
  std::string msg = cat("CUDA error ", describe(r), " in ", call);
  if (!kernel.empty()) msg += cat(" of kernel ", kernel);
  if (is_sticky(r)) {
    if (const std::string reports = trap_reports(); !reports.empty()) msg += cat("; ", reports);
    msg += "; the CUDA context is unusable from here on (restart the process). Rerun with "
           "TILESCALE_SYNC_LAUNCH=1 to find the kernel at fault, or under compute-sanitizer to find the access";
  }
  throw RuntimeError(msg);
}

CUdevice device_handle(int device) {
  const Driver& d = driver();
  if (device < 0 || device >= d.device_count)
    throw RuntimeError(cat("cannot use cuda:", device, " because this machine has ", d.device_count,
                           " CUDA device(s); use an index in [0, ", d.device_count, ")"));
  CUdevice h = 0;
  check(d.DeviceGet(&h, device), "cuDeviceGet");
  return h;
}

void set_current_device(int device) {
  const Driver& d = driver();
  static std::mutex mu;
  static std::vector<CUcontext> contexts;
  CUcontext ctx = nullptr;
  {
    std::lock_guard<std::mutex> lock(mu);
    if (contexts.empty()) contexts.resize(d.device_count, nullptr);
    if (device < 0 || device >= d.device_count || !contexts[device]) {
      const CUdevice h = device_handle(device);  // refuses a bad index
      check(d.DevicePrimaryCtxRetain(&contexts[device], h), "cuDevicePrimaryCtxRetain");
    }
    ctx = contexts[device];
  }
  CUcontext current = nullptr;
  if (d.CtxGetCurrent(&current) == CUDA_SUCCESS && current == ctx) return;
  check(d.CtxSetCurrent(ctx), "cuCtxSetCurrent");
}

int device_attribute(int device, CUdevice_attribute attribute) {
  int v = 0;
  check(driver().DeviceGetAttribute(&v, attribute, device_handle(device)), "cuDeviceGetAttribute");
  return v;
}

std::string device_name(int device) {
  char buf[256] = {};
  check(driver().DeviceGetName(buf, sizeof buf - 1, device_handle(device)), "cuDeviceGetName");
  return buf;
}

std::pair<int, int> compute_capability(int device) {
  return {device_attribute(device, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR),
          device_attribute(device, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR)};
}

std::string arch_for_device(int device) {
  auto [major, minor] = compute_capability(device);
  return cat("sm_", major, minor, major >= 9 ? "a" : "");
}

}  // namespace tilescale::cuda
