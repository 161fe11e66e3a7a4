// Bounded distributed waits on a real device (device/tilescale/dist.h, "Bounded waits";
// runtime/cuda/wait_control.h): a T::wait_eq that nobody satisfies, launched through the driver
// with a hand-filled Context, ends its kernel instead of hanging it, either when its budget runs
// out (and the error names rank, block, thread, address and values) or when the host asks the rank
// to stop. The trap leaves the CUDA context unusable, so each runs in a fresh process (gtest's
// "threadsafe" death tests re-execute the test binary). Skipped, with the reason, without a GPU.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <thread>

#include "codegen/cuda/codegen.h"
#include "jit/cache.h"
#include "pipeline.h"
#include "runtime/cuda/driver.h"
#include "runtime/cuda/module.h"
#include "runtime/cuda/wait_control.h"
#include "tilescale/tilescale.h"
#include "skips.h"

namespace tilescale {
namespace {

namespace T = tilescale::lang;
using tilescale::detail::cat;

// tl::dist::Context (device/tilescale/dist.h), as the kernel takes it by value.
struct HostContext {
  int rank;
  int num_ranks;
  std::uint64_t wait_budget_ns;
  CUdeviceptr control;
  std::uint64_t base[64];
};

// Launches one block of 32 threads that wait for flag[0] == 1 on a zeroed flag, with the given
// budget and rank 0's wait control; stop_after_ms > 0 requests a stop that long after the launch.
// Prints the error of the synchronize and exits 3 when `expected(message, flag address)` holds, 4
// when not; exits 0 when the kernel ends.
using Expectation = std::function<bool(const std::string& message, std::uintptr_t flag)>;
void launch_wait_for_nobody(std::uint64_t budget_ns, int stop_after_ms, const Expectation& expected) {
  std::uintptr_t flag_address = 0;
  try {
    const T::PrimFunc func = T::prim_func("wait_for_nobody", [] {
      auto flag = T::Tensor("flag", {1}, T::int32);
      T::Kernel(1, T::threads(32), [&](T::Expr) { T::wait_eq(flag(0), 1); });
    });
    const std::string arch = cuda::arch_for_device(0);
    const cuda::Target target = cuda::target_for_arch(arch);
    const cuda::KernelSpec spec = cuda::generate(run_pipeline(func.node(), PipelineOptions{Target::CUDA, "", target.sm}), target);
    auto kernel = cuda::LoadedKernel::load(spec, jit::compile_cached({spec.name, spec.source, arch, {}}).cubin, 0);
    Tensor flag = Tensor::zeros({1}, DataType::Int32, Device::cuda());
    auto control = cuda::WaitControl::create(0);
    HostContext context{};
    context.rank = 0;
    context.num_ranks = 1;
    context.wait_budget_ns = budget_ns;
    context.control = control->device_pointer();
    void* flag_pointer = flag.data();
    flag_address = reinterpret_cast<std::uintptr_t>(flag_pointer);
    void* params[] = {&flag_pointer, &context};  // kernel_spec.h: the tensor, no dims or strides, the Context
    const cuda::Driver& d = cuda::driver();
    cuda::check(d.LaunchKernel(kernel->function(), 1, 1, 1, 32, 1, 1, static_cast<unsigned>(spec.shared_bytes), nullptr,
                               params, nullptr),
                "cuLaunchKernel", spec.name);
    if (stop_after_ms > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(stop_after_ms));
      control->request_stop();
    }
    cuda::check(d.CtxSynchronize(), "cuCtxSynchronize");
  } catch (const RuntimeError& e) {
    const std::string message = e.what();
    std::fprintf(stderr, "%s\n", message.c_str());
    std::_Exit(expected(message, flag_address) ? 3 : 4);
  }
  std::_Exit(0);
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

TEST(DistWaitDeathTest, AWaitPastItsBudgetIsReportedWithRankAddressAndValues) {
  SKIP_WITHOUT_GPU();
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const Expectation names_the_flag = [](const std::string& message, std::uintptr_t flag) {
    char address[32];
    std::snprintf(address, sizeof address, "0x%llx", static_cast<unsigned long long>(flag));
    return contains(message, cat("in T::wait_eq on address ", address, ": expected 1, observed 0"));
  };
  EXPECT_EXIT(launch_wait_for_nobody(50'000'000, 0, names_the_flag), ::testing::ExitedWithCode(3),
              "in cuCtxSynchronize; rank 0: block \\(0, 0, 0\\) thread [0-9]+ ran out of its wait budget .* after [0-9.]+ ms in "
              "T::wait_eq on address 0x[0-9a-f]+: expected 1, observed 0");
}

TEST(DistWaitDeathTest, AStopRequestFromTheHostEndsAnUnboundedWait) {
  SKIP_WITHOUT_GPU();
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const Expectation says_stopped = [](const std::string& message, std::uintptr_t) {
    return contains(message, "rank 0: the host stopped its waits");
  };
  EXPECT_EXIT(launch_wait_for_nobody(0, 100, says_stopped), ::testing::ExitedWithCode(3),
              "in cuCtxSynchronize; rank 0: the host stopped its waits");
}

}  // namespace
}  // namespace tilescale
