// Loading compiled kernels onto a device and launching them with the generated-code ABI.
//
//   jit::JitResult bin = jit::compile_cached({spec.name, spec.source, cuda::arch_for_device(0), {}});
//   auto k = cuda::LoadedKernel::load(spec, bin.cubin, /*device=*/0);
//   runtime::Bindings b = runtime::check_arguments(*spec.func, args, Device::cuda(0));  // args: Args
//   k->launch(args, b, stream);
//
// A cubin is loaded (cuModuleLoadData) once per device and cubin, however many times load() is
// called; modules stay loaded for the life of the process. load() prepares the function for launch:
// it checks the block size against the function's register-limited maximum, and when the kernel
// needs more than 48 KB of shared memory (dynamic plus static) it checks the device's opt-in maximum
// and raises the function's dynamic shared memory limit.
//
// launch() passes the arguments in the order kernel_spec.h fixes (tensor pointers, then one int per
// symbolic dimension, then the scalar parameters' values, then each tensor's strides but the last as
// long long), with the grid
// evaluated from spec.grid and the bindings, on the caller's stream (0: the legacy default stream).
// Before launching it checks every tensor: on this device, last-dimension stride 1, data pointer
// aligned to 16 bytes; each failure is a RuntimeError naming the kernel and the parameter. A kernel
// that loads tiles by TMA also gets the tensor maps of spec.tensor_maps, built from the arguments'
// shapes and strides for every launch (tensor_maps_buildable says beforehand whether they can be).
// A distributed kernel gets its rank's DistContext after the strides. The module of a kernel that
// calls NVSHMEM (spec.nvshmem) gets nvshmemx_cumodule_init when loaded (nvshmem_host.h).
// With TILESCALE_SYNC_LAUNCH=1 it waits for the kernel and reports an execution error as this kernel's.
#pragma once

#include <cuda.h>

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "codegen/cuda/kernel_spec.h"
#include "runtime/arguments.h"
#include "tilescale/tensor.h"

namespace tilescale::cuda {

// The host image of tl::dist::Context (device/tilescale/dist.h), the last parameter of a
// distributed kernel but its tensor maps (kernel_spec.h), passed by value.
struct DistContext {
  std::int32_t rank = 0;
  std::int32_t num_ranks = 1;
  std::uint64_t wait_budget_ns = 0;  // 0: waits never give up
  std::uint64_t control = 0;         // a tl::dist::WaitControl* (wait_control.h), or 0
  std::uint64_t base[64] = {};       // base[p]: where rank p's symmetric heap is mapped here
};
static_assert(sizeof(DistContext) == 24 + 64 * 8, "DistContext must match tl::dist::Context");

class LoadedKernel {
 public:
  // CompileError when the kernel cannot run on `device` as specified (shared memory or block size
  // beyond the device's limits); RuntimeError for driver failures (a cubin for another arch...).
  static std::shared_ptr<const LoadedKernel> load(const KernelSpec& spec, const std::vector<char>& cubin, int device);

  // A distributed kernel needs `dist`, its rank's context. When it waits (spec.waits) and
  // `ranks_sharing_device` ranks of this process launch it together on this device, all their
  // blocks must be resident at once: RuntimeError (how many blocks were needed, how many fit)
  // instead of a launch that would hang.
  void launch(const std::vector<Arg>& args, const runtime::Bindings& bindings, CUstream stream = nullptr,
              const DistContext* dist = nullptr, int ranks_sharing_device = 1) const;

  // Whether every tensor map of the kernel can be built for `args`: TMA needs each dimension in
  // [1, 2^32] and each stride but the last a multiple of 16 bytes below 2^40. Otherwise `why` names
  // the parameter and the requirement. True for kernels without tensor maps.
  bool tensor_maps_buildable(const std::vector<Arg>& args, std::string& why) const;

  // spec.grid evaluated with `bindings` (InternalError when an extent cannot be evaluated).
  std::array<std::int64_t, 3> grid(const runtime::Bindings& bindings) const;

  const std::string& name() const { return name_; }
  int device() const { return device_; }
  CUfunction function() const { return function_; }
  int registers_per_thread() const { return registers_; }

 private:
  LoadedKernel() = default;
  std::string name_;
  ir::PrimFunc func_;
  std::vector<ir::Var> symbolic_dims_;  // func_->symbolic_dims(), passed in this order
  std::vector<ir::Expr> grid_;
  int threads_ = 0;
  std::size_t shared_bytes_ = 0;
  std::vector<TensorMapSpec> tensor_maps_;
  std::int64_t persistent_blocks_ = 0;  // T::persistent: the blocks that fit on the device at once
  bool distributed_ = false;
  bool waits_ = false;
  bool sync_launch_ = false;  // TILESCALE_SYNC_LAUNCH=1 when the kernel was loaded: wait for each launch
  std::int64_t resident_blocks_ = 0;  // kernels that wait: the blocks that fit on the device at once
  int device_ = 0;
  CUfunction function_ = nullptr;
  int registers_ = 0;
};

}  // namespace tilescale::cuda
