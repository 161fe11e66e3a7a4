// What a call of a compiled kernel costs the host beside a raw cuLaunchKernel of the same function:
// C = A + B over 3 float32 tensors of 256 elements, one block, called back to back. The host time
// per call is measured over a burst short enough (1000 calls) that the GPU queue never fills, so
// the launches never wait for the GPU; each burst is followed by a synchronisation, not timed.
#include <algorithm>
#include <chrono>
#include <functional>
#include <cstdio>

#include "bench.h"
#include "runtime/cuda/driver.h"
#include "jit/cache.h"
#include "runtime/arguments.h"

namespace tilescale::bench {

namespace {

namespace T = lang;

constexpr int kN = 256, kBurst = 1000, kBursts = 20;

// The median over the bursts of the host microseconds per call of `launch`.
double host_us_per_call(const std::function<void()>& launch) {
  std::vector<double> us;
  for (int b = 0; b < kBursts; ++b) {
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < kBurst; ++i) launch();
    us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count() / kBurst);
    TS_CU(CtxSynchronize);
  }
  std::sort(us.begin(), us.end());
  return us[us.size() / 2];
}

}  // namespace

void call_overhead_bench() {
  const T::PrimFunc add = T::prim_func("add3", [] {
    auto A = T::Tensor("A", {kN}, T::float32);
    auto B = T::Tensor("B", {kN}, T::float32);
    auto C = T::Tensor("C", {kN}, T::float32);
    T::Kernel(1, T::threads(kN), [&](T::Expr) { T::Parallel(kN, [&](T::Expr i) { C(i) = A(i) + B(i); }); });
  });
  const Kernel kernel = compile(add, Target::CUDA);
  std::vector<Tensor> args;
  for (int i = 0; i < 3; ++i) {
    Tensor h = Tensor::empty({kN}, DataType::Float32);
    h.fill_random(i + 1);
    args.push_back(h.to(Device::cuda()));
  }
  const Tensor expected_a = args[0].to(Device::cpu()), expected_b = args[1].to(Device::cpu());
  kernel.call(args);
  const Tensor c = args[2].to(Device::cpu());
  for (int i = 0; i < kN; ++i)
    if (static_cast<const float*>(c.data())[i] !=
        static_cast<const float*>(expected_a.data())[i] + static_cast<const float*>(expected_b.data())[i])
      throw RuntimeError(detail::cat("call overhead: add3 is wrong at element ", i));
  // The peer: the same generated function, loaded by hand and launched with cuLaunchKernel and
  // arguments made once.
  const std::string arch = kernel.compile_info().arch;
  const std::vector<char> cubin = jit::compile_cached({"add3", generate_cuda(add, arch), arch, {}}).cubin;
  CUmodule module = nullptr;
  CUfunction function = nullptr;
  TS_CU(ModuleLoadData, &module, cubin.data());
  TS_CU(ModuleGetFunction, &function, module, "add3");
  void* pointers[3] = {args[0].data(), args[1].data(), args[2].data()};
  void* params[3] = {&pointers[0], &pointers[1], &pointers[2]};
  const double raw = host_us_per_call([&] { TS_CU(LaunchKernel, function, 1, 1, 1, kN, 1, 1, 0, nullptr, params, nullptr); });
  const double ours = host_us_per_call([&] { kernel.call(args); });
  std::printf("host time per call of a 3-tensor kernel (median of %d bursts of %d calls)\n", kBursts, kBurst);
  std::printf("  tilescale Kernel::call  %6.2f us\n  raw cuLaunchKernel      %6.2f us\n  ratio                   %6.2f\n", ours,
              raw, ours / raw);
  // Where the difference goes: the call's parts on their own, host only (no launch among them).
  const std::vector<Arg> made(args.begin(), args.end());
  const auto part_ns = [](const std::function<void()>& f) {
    constexpr int kRuns = 100000;
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < kRuns; ++i) f();
    return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count() / kRuns;
  };
  std::printf("  of which, host only:\n");
  std::printf("    Tensors to Args           %6.0f ns\n", part_ns([&] { std::vector<Arg> a(args.begin(), args.end()); }));
  std::printf("    argument checks           %6.0f ns\n", part_ns([&] { runtime::check_arguments(*add.node(), made, Device::cuda()); }));
  std::printf("    set_current_device        %6.0f ns\n", part_ns([] { cuda::set_current_device(0); }));
  std::printf("  Kernel::call on made Args %6.2f us\n", host_us_per_call([&] { kernel.call(made); }));
}

}  // namespace tilescale::bench
