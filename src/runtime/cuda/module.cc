#include "runtime/cuda/module.h"

#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <mutex>
#include <string>

#include "ir/eval.h"
#include "jit/hash.h"
#include "runtime/cuda/driver.h"
#include "runtime/cuda/hang_report.h"
#include "runtime/cuda/nvshmem_host.h"
#include "support/env.h"
#include "tilescale/errors.h"

namespace tilescale::cuda {

using tilescale::detail::cat;

namespace {

constexpr std::size_t kDefaultSharedLimit = 48 * 1024;

// One CUmodule per (device, cubin), loaded on first use (with its hang report, hang_report.h) and
// kept until exit.
CUmodule module_for(int device, const std::vector<char>& cubin, const KernelSpec& spec) {
  const std::string& kernel = spec.name;
  static std::mutex mu;
  static std::map<std::pair<int, std::string>, CUmodule> modules;
  const std::string key = jit::Hasher().add_bytes(cubin.data(), cubin.size()).hex();
  std::lock_guard<std::mutex> lock(mu);
  auto it = modules.find({device, key});
  if (it != modules.end()) return it->second;
  set_current_device(device);
  CUmodule m = nullptr;
  check(driver().ModuleLoadData(&m, cubin.data()), "cuModuleLoadData", kernel);
  if (spec.nvshmem) nvshmem_host().init_module(m, kernel);
  attach_hang_report(m, kernel, PipelineBarriers{spec.pipeline_barriers, spec.pipeline_stages});
  modules.emplace(std::make_pair(device, key), m);
  return m;
}

int function_attribute(CUfunction f, CUfunction_attribute a, const std::string& kernel) {
  int v = 0;
  check(driver().FuncGetAttribute(&v, a, f), "cuFuncGetAttribute", kernel);
  return v;
}

// One kernel argument, stored so cuLaunchKernel can take its address.
struct alignas(8) Slot {
  unsigned char bytes[8];
};

// What cuLaunchKernel takes: the values of the kernel's parameters in `slots`, then the tensor
// maps, and one address per parameter in `pointers` (of a slot, of the distributed context, of a
// map), made by `finish` once every value is in place.
struct LaunchParameters {
  std::vector<Slot> slots;
  std::vector<CUtensorMap> maps;
  std::vector<void*> pointers;

  void clear() {
    slots.clear();
    maps.clear();
    pointers.clear();
  }
  template <typename V>
  void put(const V& value) {
    static_assert(sizeof(value) <= sizeof(Slot));
    std::memcpy(slots.emplace_back().bytes, &value, sizeof(value));
  }
  // The signature's order: the slots, the distributed context (if any), the tensor maps.
  void finish(const DistContext* dist) {
    for (auto& s : slots) pointers.push_back(s.bytes);
    if (dist) pointers.push_back(const_cast<DistContext*>(dist));
    for (auto& m : maps) pointers.push_back(&m);
  }
};

// The tensor map of `spec` over tensor `t` (src/passes/tma.h): dimensions innermost first,
// zeros for elements outside the tensor. The element type only needs the right size.
CUtensorMap encode_tensor_map(const TensorMapSpec& spec, const Tensor& t, const std::string& kernel) {
  const int rank = t.rank();
  const std::int64_t E = bytes(t.dtype());
  cuuint64_t dims[5], strides[4];
  cuuint32_t box[5], element_strides[5];
  for (int i = 0; i < rank; ++i) {
    dims[i] = static_cast<cuuint64_t>(t.shape()[rank - 1 - i]);
    box[i] = static_cast<cuuint32_t>(spec.box[i]);
    element_strides[i] = 1;
  }
  for (int i = 0; i + 1 < rank; ++i) strides[i] = static_cast<cuuint64_t>(t.strides()[rank - 2 - i] * E);
  const CUtensorMapDataType type = E == 1 ? CU_TENSOR_MAP_DATA_TYPE_UINT8
                                   : E == 2 ? CU_TENSOR_MAP_DATA_TYPE_UINT16
                                   : E == 4 ? CU_TENSOR_MAP_DATA_TYPE_INT32
                                            : CU_TENSOR_MAP_DATA_TYPE_INT64;
  const CUtensorMapSwizzle swizzle = spec.swizzle_bytes == 128 ? CU_TENSOR_MAP_SWIZZLE_128B
                                     : spec.swizzle_bytes == 64 ? CU_TENSOR_MAP_SWIZZLE_64B
                                     : spec.swizzle_bytes == 32 ? CU_TENSOR_MAP_SWIZZLE_32B
                                                                : CU_TENSOR_MAP_SWIZZLE_NONE;
  CUtensorMap map;
  check(driver().TensorMapEncodeTiled(&map, type, static_cast<cuuint32_t>(rank), t.data(), dims, strides, box, element_strides,
                                      CU_TENSOR_MAP_INTERLEAVE_NONE, swizzle, CU_TENSOR_MAP_L2_PROMOTION_L2_128B,
                                      CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE),
        "cuTensorMapEncodeTiled", kernel);
  return map;
}

}  // namespace

bool LoadedKernel::tensor_maps_buildable(const std::vector<Arg>& args, std::string& why) const {
  for (const auto& m : tensor_maps_) {
    const Tensor& t = args.at(static_cast<size_t>(m.param)).tensor();
    const std::string& p = func_->params[static_cast<size_t>(m.param)].name();
    const std::int64_t E = bytes(t.dtype());
    for (int d = 0; d < t.rank(); ++d) {
      if (t.shape()[d] < 1 || t.shape()[d] > (std::int64_t{1} << 32)) {
        why = cat(p, "'s dimension ", d, " is ", t.shape()[d], ", outside [1, 2^32]");
        return false;
      }
      if (d + 1 < t.rank() && ((t.strides()[d] * E) % 16 != 0 || t.strides()[d] * E >= (std::int64_t{1} << 40))) {
        why = cat(p, "'s stride in dimension ", d, " is ", t.strides()[d] * E, " bytes, not a multiple of 16 below 2^40");
        return false;
      }
    }
  }
  return true;
}

std::shared_ptr<const LoadedKernel> LoadedKernel::load(const KernelSpec& spec, const std::vector<char>& cubin, int device) {
  TS_ICHECK(spec.func, "kernel spec ", spec.name, " has no signature");
  TS_ICHECK(spec.grid.size() == 3, "kernel spec ", spec.name, " has ", spec.grid.size(), " grid extents, not 3");
  TS_ICHECK(spec.threads > 0, "kernel spec ", spec.name, " has block size ", spec.threads);
  TS_ICHECK(!cubin.empty(), "empty cubin for kernel ", spec.name);
  const Driver& d = driver();
  std::shared_ptr<LoadedKernel> k(new LoadedKernel());
  k->name_ = spec.name;
  k->func_ = spec.func;
  k->symbolic_dims_ = spec.func->symbolic_dims();
  k->grid_ = spec.grid;
  k->threads_ = spec.threads;
  k->shared_bytes_ = spec.shared_bytes;
  k->tensor_maps_ = spec.tensor_maps;
  k->device_ = device;

  CUmodule module = module_for(device, cubin, spec);
  set_current_device(device);
  CUresult r = d.ModuleGetFunction(&k->function_, module, spec.symbol.c_str());
  if (r == CUDA_ERROR_NOT_FOUND)
    throw InternalError(cat("the cubin compiled for kernel ", spec.name, " has no function ", spec.symbol, " (is it extern \"C\"?)"));
  check(r, "cuModuleGetFunction", spec.name);
  CUfunction f = k->function_;
  k->registers_ = function_attribute(f, CU_FUNC_ATTRIBUTE_NUM_REGS, spec.name);

  const int max_threads = function_attribute(f, CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK, spec.name);
  if (spec.threads > max_threads)
    throw CompileError(cat("cannot launch kernel ", spec.name, " with ", spec.threads, " threads per block because it uses ",
                           k->registers_, " registers per thread, so ", device_name(device), " allows at most ", max_threads,
                           "; use fewer threads or smaller tiles per thread"));

  const std::size_t static_shared = function_attribute(f, CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES, spec.name);
  const std::size_t total = static_shared + spec.shared_bytes;
  if (total > kDefaultSharedLimit) {
    const std::size_t optin = device_attribute(device, CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN);
    if (total > optin)
      throw CompileError(cat("kernel ", spec.name, " needs ", total, " bytes of shared memory (", spec.shared_bytes,
                             " dynamic + ", static_shared, " static) but ", device_name(device), " allows ", optin,
                             "; reduce tile sizes or num_stages"));
    const int current = function_attribute(f, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, spec.name);
    if (static_cast<std::size_t>(current) < spec.shared_bytes)
      check(d.FuncSetAttribute(f, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, static_cast<int>(spec.shared_bytes)),
            "cuFuncSetAttribute(MAX_DYNAMIC_SHARED_SIZE_BYTES)", spec.name);
  }
  k->distributed_ = spec.distributed;
  k->waits_ = spec.waits;
  k->sync_launch_ = env_switch("TILESCALE_SYNC_LAUNCH", false);
  if (spec.persistent || spec.waits) {
    int per_sm = 0;
    check(d.OccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, f, spec.threads, spec.shared_bytes),
          "cuOccupancyMaxActiveBlocksPerMultiprocessor", spec.name);
    const std::int64_t sms = device_attribute(device, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
    k->resident_blocks_ = per_sm * sms;
    if (spec.persistent) k->persistent_blocks_ = std::max(per_sm, 1) * sms;
  }
  return k;
}

std::array<std::int64_t, 3> LoadedKernel::grid(const runtime::Bindings& bindings) const {
  std::array<std::int64_t, 3> g{};
  for (int i = 0; i < 3; ++i) {
    auto v = ir::eval_int(grid_[i], bindings);
    TS_ICHECK(v, "grid extent ", i, " of kernel ", name_, " cannot be evaluated from the arguments' shapes");
    TS_ICHECK(*v >= 0, "grid extent ", i, " of kernel ", name_, " is negative (", *v, ")");
    g[i] = *v;
  }
  return g;
}

void LoadedKernel::launch(const std::vector<Arg>& args, const runtime::Bindings& bindings, CUstream stream,
                          const DistContext* dist, int ranks_sharing_device) const {
  TS_ICHECK(distributed_ == (dist != nullptr), "kernel ", name_, distributed_ ? " is distributed but got no context"
                                                                          : " is not distributed but got a context");
  const auto& params = func_->params;
  if (args.size() != params.size())
    throw RuntimeError(cat("cannot launch kernel ", name_, " with ", args.size(), " arguments because it takes ",
                           params.size(), "; pass one argument per parameter"));
  const Device here = Device::cuda(device_);
  for (size_t i = 0; i < args.size(); ++i) {
    if (params[i].scalar) continue;
    TS_ICHECK(args[i].kind() == Arg::Kind::Tensor, "argument ", i, " of kernel ", name_, " is not a tensor after the checks");
    const Tensor& t = args[i].tensor();
    const std::string& p = params[i].name();
    if (t.device() != here)
      throw RuntimeError(cat("cannot launch kernel ", name_, " on ", here.to_string(), " because parameter ", p, " is ",
                             t.describe(), "; copy it with .to(Device::cuda(", device_, "))"));
    if (t.rank() > 0 && t.shape().back() > 1 && t.strides().back() != 1)
      throw RuntimeError(cat("cannot launch kernel ", name_, " because parameter ", p, " (", t.describe(),
                             ") has stride ", t.strides().back(), " in its last dimension; the last dimension must be "
                             "contiguous (stride 1): pass a contiguous copy"));
    if (reinterpret_cast<std::uintptr_t>(t.data()) % 16 != 0)
      throw RuntimeError(cat("cannot launch kernel ", name_, " because parameter ", p, " (", t.describe(),
                             ") starts at address ", t.data(), ", not 16-byte aligned; pass a tensor whose data is "
                             "aligned to 16 bytes (a fresh allocation is)"));
  }

  std::array<std::int64_t, 3> g = grid(bindings);
  if (g[0] == 0 || g[1] == 0 || g[2] == 0) return;  // an empty problem: nothing to run
  if (persistent_blocks_ > 0) g = {std::min(g[0] * g[1] * g[2], persistent_blocks_), 1, 1};  // each walks the grid
  if (g[0] > std::numeric_limits<std::int32_t>::max() || g[1] > 65535 || g[2] > 65535)
    throw RuntimeError(cat("cannot launch kernel ", name_, " because its grid (", g[0], ", ", g[1], ", ", g[2],
                           ") exceeds the CUDA limits (2^31-1, 65535, 65535); use smaller inputs or larger tiles"));

  const std::int64_t blocks = g[0] * g[1] * g[2];
  if (waits_ && blocks * ranks_sharing_device > resident_blocks_) {
    const std::string ranks = ranks_sharing_device > 1 ? cat(ranks_sharing_device, " ranks sharing ", here.to_string(), " × ") : "";
    throw RuntimeError(cat("cannot launch kernel ", name_, " because its blocks wait for each other", ranks_sharing_device > 1 ? " and for the other ranks'" : "",
                           ", so all of them must be resident at once: that takes ", ranks, blocks, " blocks, but ",
                           device_name(device_), " holds ", resident_blocks_, " of them (", threads_, " threads and ",
                           shared_bytes_, " bytes of shared memory each); use fewer or smaller blocks",
                           ranks_sharing_device > 1 ? ", or fewer ranks per GPU (the ipc transport time-slices ranks of separate processes)" : ""));
  }
  // The kernel's parameters in the generated signature's order: tensor pointers, symbolic
  // dimensions, scalars, the strides of each tensor but the last, then the distributed context and
  // the tensor maps.
  thread_local LaunchParameters lp;  // reused: a launch allocates nothing once it has run once
  lp.clear();
  for (size_t i = 0; i < args.size(); ++i)
    if (!params[i].scalar) lp.put(static_cast<CUdeviceptr>(reinterpret_cast<std::uintptr_t>(args[i].tensor().data())));
  for (const auto& v : symbolic_dims_) {
    auto it = bindings.find(v.get());
    TS_ICHECK(it != bindings.end(), "symbolic dimension ", v->name, " of kernel ", name_, " is not bound by the arguments");
    // The kernel takes each dimension in its declared type; the argument checks made sure it fits.
    if (bits(v->dtype) == 64) {
      lp.put(static_cast<std::int64_t>(it->second));
      continue;
    }
    TS_ICHECK(wrap_to(v->dtype, it->second) == it->second, "dimension ", v->name, " = ", it->second, " of kernel ", name_,
              " passed the argument checks but does not fit ", tilescale::name(v->dtype));
    lp.put(static_cast<std::int32_t>(it->second));
  }
  for (size_t i = 0; i < args.size(); ++i) {  // the checks made sure each value fits its type
    const ir::Var& v = params[i].scalar;
    if (!v) continue;
    if (v->dtype == DataType::Float32) lp.put(runtime::float_argument(args[i]));
    else if (v->dtype == DataType::Int64) lp.put(static_cast<std::int64_t>(args[i].int_value()));
    else lp.put(static_cast<std::int32_t>(args[i].int_value()));
  }
  for (size_t i = 0; i < args.size(); ++i) {
    if (params[i].scalar) continue;
    const Tensor& t = args[i].tensor();
    for (int d = 0; d + 1 < t.rank(); ++d) lp.put(static_cast<long long>(t.strides()[d]));
  }
  for (const auto& m : tensor_maps_) lp.maps.push_back(encode_tensor_map(m, args.at(static_cast<size_t>(m.param)).tensor(), name_));
  lp.finish(dist);

  set_current_device(device_);
  const Driver& d = driver();
  check(d.LaunchKernel(function_, static_cast<unsigned>(g[0]), static_cast<unsigned>(g[1]), static_cast<unsigned>(g[2]),
                       static_cast<unsigned>(threads_), 1, 1, static_cast<unsigned>(shared_bytes_), stream,
                       lp.pointers.data(), nullptr),
        "cuLaunchKernel", name_);
  if (sync_launch_) check(d.StreamSynchronize(stream), "cuStreamSynchronize (TILESCALE_SYNC_LAUNCH=1)", name_);
}

}  // namespace tilescale::cuda
