// What a call of a compiled kernel costs the host beside a raw cuLaunchKernel of the same function:
// C = A + B over 3 float32 tensors of 256 elements, one block, called back to back. The host time
// per call is measured over a burst short enough (1000 calls) that the GPU queue never fills, so
// the launches never wait for the GPU; each burst is followed by a synchronisation, not timed.
// After 3 warm-up bursts of each, the bursts of the contenders alternate; medians are printed.
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

// Host microseconds per call of `launch` over one burst, then an untimed synchronisation.
double burst_us(const std::function<void()>& launch) {
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kBurst; ++i) launch();
  const double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count() / kBurst;
  TS_CU(CtxSynchronize);
  return us;
}

// The median host microseconds per call of each of `launches`, their bursts interleaved.
std::vector<double> host_us_per_call(const std::vector<std::function<void()>>& launches) {
  for (const auto& launch : launches)
    for (int w = 0; w < 3; ++w) burst_us(launch);
  std::vector<std::vector<double>> us(launches.size());
  for (int b = 0; b < kBursts; ++b)
    for (size_t i = 0; i < launches.size(); ++i) us[i].push_back(burst_us(launches[i]));
  std::vector<double> medians;
  for (auto& u : us) {
    std::sort(u.begin(), u.end());
    medians.push_back(u[u.size() / 2]);
  }
  return medians;
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
  const std::vector<Arg> made(args.begin(), args.end());
  const std::vector<double> us = host_us_per_call({
      [&] { TS_CU(LaunchKernel, function, 1, 1, 1, kN, 1, 1, 0, nullptr, params, nullptr); },
      [&] { kernel.call(args); },
      [&] { kernel.call(made); },
  });
  std::printf("host time per call of a 3-tensor kernel (median of %d interleaved bursts of %d calls)\n", kBursts, kBurst);
  std::printf("  tilescale Kernel::call      %6.2f us\n  raw cuLaunchKernel          %6.2f us\n  ratio                       %6.2f\n",
              us[1], us[0], us[1] / us[0]);
  std::printf("  Kernel::call on made Args   %6.2f us\n", us[2]);
  // Where the difference goes: the call's parts on their own, host only (no launch among them).
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
}

}  // namespace tilescale::bench
