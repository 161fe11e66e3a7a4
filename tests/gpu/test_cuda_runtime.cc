// The CUDA runtime on a real device: tensors in device memory, copies both ways, and a hand-written
// kernel compiled by the JIT and launched through LoadedKernel with the generated-code ABI
// (kernel_spec.h). Every test skips, with the reason, where there is no CUDA device.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "codegen/cuda/kernel_spec.h"
#include "example.h"
#include "ir/IR.h"
#include "jit/cache.h"
#include "jit/nvrtc.h"
#include "runtime/arguments.h"
#include "runtime/cuda/driver.h"
#include "runtime/cuda/module.h"
#include "tilescale/errors.h"
#include "tilescale/tensor.h"
#include "tilescale/tilescale.h"
#include "skips.h"

namespace tilescale {
namespace {

template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(CudaTensor, RoundTripsThroughDeviceMemory) {
  SKIP_WITHOUT_GPU();
  for (DataType t : {DataType::Float32, DataType::Float16, DataType::Int8, DataType::BFloat16}) {
    SCOPED_TRACE(name(t));
    Tensor a = Tensor::empty({37, 129}, t);
    a.fill_random(7);
    Tensor d = a.to(Device::cuda());
    EXPECT_EQ(d.device(), Device::cuda());
    EXPECT_EQ(d.shape(), a.shape());
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(d.data()) % 256, 0u);
    Tensor d2 = Tensor::empty({37, 129}, t, Device::cuda());
    d2.copy_from(d);  // device to device
    Tensor back = d2.to(Device::cpu());
    for (std::int64_t i = 0; i < a.numel(); ++i) ASSERT_EQ(back.get_flat(i), a.get_flat(i)) << i;
  }
}

TEST(CudaTensor, ZerosAreZeroAndEmptyTensorsWork) {
  SKIP_WITHOUT_GPU();
  Tensor z = Tensor::zeros({1000}, DataType::Float32, Device::cuda()).to(Device::cpu());
  for (std::int64_t i = 0; i < z.numel(); ++i) ASSERT_EQ(z.get_flat(i), 0.0);
  Tensor e = Tensor::zeros({0, 5}, DataType::Float16, Device::cuda());
  EXPECT_EQ(e.to(Device::cpu()).numel(), 0);
}

TEST(CudaTensor, HostAccessAndNonContiguousCopiesAreClearErrors) {
  SKIP_WITHOUT_GPU();
  Tensor d = Tensor::zeros({4, 4}, DataType::Float32, Device::cuda());
  EXPECT_NE(error_of([&] { d.get({0, 0}); }).find("from the host"), std::string::npos);
  Tensor h = Tensor::empty({4, 8}, DataType::Float32);
  Tensor view = Tensor::wrap(h.data(), {4, 4}, DataType::Float32, {8, 1});
  EXPECT_NE(error_of([&] { view.to(Device::cuda()); }).find("not contiguous"), std::string::npos);
  EXPECT_NE(error_of([&] { d.copy_from(Tensor::empty({4, 5}, DataType::Float32)); }).find("shape or dtype differ"),
            std::string::npos);
}

// A hand-written kernel with the generated-code ABI: B[i][j] = 2 * A[i][j] + i, for A and B of shape
// [M, N] (symbolic), A possibly with a row stride other than N.
const char* kScaleSource = R"(
extern "C" __global__ void scale_rows(const float* __restrict__ A, float* __restrict__ B, int M, int N,
                                      long long A_stride0, long long B_stride0) {
  int j = blockIdx.x * blockDim.x + threadIdx.x;
  int i = blockIdx.y;
  if (i < M && j < N) B[i * B_stride0 + j] = 2.0f * A[i * A_stride0 + j] + (float)i;
}
)";

cuda::KernelSpec scale_spec(std::size_t shared_bytes = 0) {
  using namespace ir;
  Var M = make_var("M"), N = make_var("N");
  Buffer A = make_buffer("A", {M, N}, DataType::Float32, Scope::Global);
  Buffer B = make_buffer("B", {M, N}, DataType::Float32, Scope::Global);
  cuda::KernelSpec spec;
  spec.name = spec.symbol = "scale_rows";
  spec.source = kScaleSource;
  spec.func = make_prim_func("scale_rows", {A, B}, make_seq({}));
  // ceildiv(N, 128), M, 1
  spec.grid = {make_binary(BinaryOp::FloorDiv, make_binary(BinaryOp::Add, N, make_int(127)), make_int(128)), M, make_int(1)};
  spec.threads = 128;
  spec.shared_bytes = shared_bytes;
  return spec;
}

// The bindings passed to launch() must come from this spec's func: the grid refers to its variables.
std::shared_ptr<const cuda::LoadedKernel> load_scale(const cuda::KernelSpec& spec) {
  jit::JitResult bin = jit::compile_cached({spec.name, spec.source, cuda::arch_for_device(0), {}});
  return cuda::LoadedKernel::load(spec, bin.cubin, 0);
}

TEST(CudaLaunch, RunsAHandWrittenKernelWithTheAbi) {
  SKIP_WITHOUT_GPU();
  const cuda::KernelSpec spec = scale_spec();
  auto k = load_scale(spec);
  EXPECT_EQ(k->name(), "scale_rows");
  EXPECT_GT(k->registers_per_thread(), 0);

  const std::int64_t M = 19, N = 300, pitch = N + 12;  // A's rows are padded: stride 312, not 300
  Tensor a_host = Tensor::empty({M, N}, DataType::Float32);
  a_host.fill_random(3);
  Tensor a_padded = Tensor::zeros({M, pitch}, DataType::Float32, Device::cuda());
  Tensor a_dev = Tensor::wrap(a_padded.data(), {M, N}, DataType::Float32, {pitch, 1}, Device::cuda());
  // Fill the padded rows from the host, one row at a time.
  for (std::int64_t i = 0; i < M; ++i) {
    Tensor row_h = Tensor::wrap(static_cast<float*>(a_host.data()) + i * N, {N}, DataType::Float32);
    Tensor row_d = Tensor::wrap(static_cast<float*>(a_padded.data()) + i * pitch, {N}, DataType::Float32, {}, Device::cuda());
    row_d.copy_from(row_h);
  }
  Tensor b_dev = Tensor::zeros({M, N}, DataType::Float32, Device::cuda());

  const std::vector<Arg> args = {a_dev, b_dev};
  runtime::Bindings b = runtime::check_arguments(*spec.func, args, Device::cuda(0));
  auto g = k->grid(b);
  EXPECT_EQ(g[0], 3);
  EXPECT_EQ(g[1], M);
  EXPECT_EQ(g[2], 1);
  k->launch(args, b);
  cuda::check(cuda::driver().CtxSynchronize(), "cuCtxSynchronize", "scale_rows");

  Tensor out = b_dev.to(Device::cpu());
  for (std::int64_t i = 0; i < M; ++i)
    for (std::int64_t j = 0; j < N; ++j) ASSERT_EQ(out.get({i, j}), 2.0f * static_cast<float>(a_host.get({i, j})) + i) << i << "," << j;
}

TEST(CudaLaunch, LoadsEachCubinOncePerDevice) {
  SKIP_WITHOUT_GPU();
  auto a = load_scale(scale_spec()), b = load_scale(scale_spec());
  EXPECT_EQ(a->function(), b->function());
}

TEST(CudaLaunch, LaunchesOnTheCallersStreamAndSyncLaunchWorks) {
  SKIP_WITHOUT_GPU();
  const cuda::KernelSpec spec = scale_spec();
  ::setenv("TILESCALE_SYNC_LAUNCH", "1", 1);  // read when the kernel is loaded
  auto k = load_scale(spec);
  ::unsetenv("TILESCALE_SYNC_LAUNCH");
  Tensor a = Tensor::zeros({2, 8}, DataType::Float32, Device::cuda());
  Tensor b = Tensor::empty({2, 8}, DataType::Float32, Device::cuda());
  const std::vector<Arg> args = {a, b};
  auto bind = runtime::check_arguments(*spec.func, args, Device::cuda(0));
  EXPECT_NO_THROW(k->launch(args, bind, nullptr));
  Tensor out = b.to(Device::cpu());
  EXPECT_EQ(out.get({1, 7}), 1.0);
}

TEST(CudaLaunch, ChecksTensorsBeforeLaunch) {
  SKIP_WITHOUT_GPU();
  const cuda::KernelSpec spec = scale_spec();
  auto k = load_scale(spec);
  Tensor good = Tensor::zeros({4, 64}, DataType::Float32, Device::cuda());
  Tensor host = Tensor::zeros({4, 64}, DataType::Float32);
  runtime::Bindings bind;
  for (const auto& v : spec.func->symbolic_dims()) bind[v.get()] = v->name == "M" ? 4 : 64;

  std::string msg = error_of([&] { k->launch({host, good}, bind); });
  EXPECT_NE(msg.find("parameter A is float32[4, 64] on cpu"), std::string::npos) << msg;

  Tensor misaligned = Tensor::wrap(static_cast<float*>(good.data()) + 1, {4, 63}, DataType::Float32, {64, 1}, Device::cuda());
  msg = error_of([&] { k->launch({good, misaligned}, bind); });
  EXPECT_NE(msg.find("parameter B"), std::string::npos) << msg;
  EXPECT_NE(msg.find("16-byte aligned"), std::string::npos) << msg;

  Tensor column = Tensor::wrap(good.data(), {4, 16}, DataType::Float32, {1, 4}, Device::cuda());
  msg = error_of([&] { k->launch({column, good}, bind); });
  EXPECT_NE(msg.find("parameter A"), std::string::npos) << msg;
  EXPECT_NE(msg.find("stride 4 in its last dimension"), std::string::npos) << msg;
}

TEST(CudaLaunch, SharedMemoryBeyondTheDeviceIsACompileError) {
  SKIP_WITHOUT_GPU();
  const int optin = cuda::device_attribute(0, CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN);
  std::string msg = error_of([&] { load_scale(scale_spec(static_cast<std::size_t>(optin) + 1024)); });
  EXPECT_NE(msg.find("kernel scale_rows needs"), std::string::npos) << msg;
  EXPECT_NE(msg.find("reduce tile sizes or num_stages"), std::string::npos) << msg;
  // Exactly the limit is fine: the opt-in is raised and the kernel launches.
  const cuda::KernelSpec spec = scale_spec(static_cast<std::size_t>(optin));
  auto k = load_scale(spec);
  Tensor a = Tensor::zeros({1, 8}, DataType::Float32, Device::cuda());
  Tensor b = Tensor::empty({1, 8}, DataType::Float32, Device::cuda());
  auto bind = runtime::check_arguments(*spec.func, {a, b}, Device::cuda(0));
  EXPECT_NO_THROW(k->launch({a, b}, bind));
  cuda::check(cuda::driver().CtxSynchronize(), "cuCtxSynchronize");
}

// A kernel that faults leaves the CUDA context unusable, so this runs in a fresh process (gtest's
// "threadsafe" death-test style re-executes the test binary rather than forking a CUDA process).
void launch_faulting_kernel() {
  using namespace ir;
  Var N = make_var("N");
  cuda::KernelSpec spec;
  spec.name = spec.symbol = "bad_write";
  spec.source = R"(extern "C" __global__ void bad_write(float* A, int N) { A[threadIdx.x + (1ll << 40)] = 1.0f; })";
  spec.func = make_prim_func("bad_write", {make_buffer("A", {N}, DataType::Float32, Scope::Global)}, make_seq({}));
  spec.grid = {make_int(1), make_int(1), make_int(1)};
  spec.threads = 32;
  try {
    ::setenv("TILESCALE_SYNC_LAUNCH", "1", 1);  // read when the kernel is loaded
    auto k = cuda::LoadedKernel::load(spec, jit::compile_cached({spec.name, spec.source, cuda::arch_for_device(0), {}}).cubin, 0);
    Tensor a = Tensor::zeros({32}, DataType::Float32, Device::cuda());
    k->launch({a}, runtime::check_arguments(*spec.func, {a}, Device::cuda(0)));
  } catch (const RuntimeError& e) {
    std::fprintf(stderr, "%s\n", e.what());
    std::_Exit(3);
  }
  std::_Exit(0);
}

TEST(CudaLaunchDeathTest, SyncLaunchNamesTheFaultingKernel) {
  SKIP_WITHOUT_GPU();
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(launch_faulting_kernel(), ::testing::ExitedWithCode(3),
              "CUDA error CUDA_ERROR_ILLEGAL_ADDRESS .* in cuStreamSynchronize .* of kernel bad_write; the CUDA context is unusable");
}

// A barrier wait that never completes stops its kernel after the timeout (0.2 s here, compiled in;
// 10 s by default) instead of hanging it, and the error of the call that sees the failure names the
// kernel, block, thread, barrier and parity (runtime/cuda/hang_report.h). Fresh process, as above.
void launch_hanging_kernel() {
  using namespace ir;
  Var N = make_var("N");
  cuda::KernelSpec spec;
  spec.name = spec.symbol = "waits_forever";
  spec.source = R"(#define TL_MBARRIER_TIMEOUT_NS 200000000ull
#include "tilescale/mbarrier.h"
extern "C" __global__ void waits_forever(float* A, int N) {
  extern __shared__ __align__(16) unsigned char smem[];
  uint64_t* barriers = reinterpret_cast<uint64_t*>(smem + 64);  // full[2], empty[2]
  if (threadIdx.x == 0)
    for (int s = 0; s < 4; ++s) tl::mbarrier_init(&barriers[s], 1);
  __syncthreads();
  if (threadIdx.x == 37) tl::mbarrier_wait(&barriers[3], 0);  // empty[1]: nobody arrives
}
)";
  spec.func = make_prim_func("waits_forever", {make_buffer("A", {N}, DataType::Float32, Scope::Global)}, make_seq({}));
  spec.grid = {make_int(1), make_int(1), make_int(1)};
  spec.threads = 64;
  spec.shared_bytes = 128;
  spec.pipeline_barriers = 64;
  spec.pipeline_stages = 2;
  try {
    auto k = cuda::LoadedKernel::load(spec, jit::compile_cached({spec.name, spec.source, cuda::arch_for_device(0), {}}).cubin, 0);
    Tensor a = Tensor::zeros({32}, DataType::Float32, Device::cuda());
    k->launch({a}, runtime::check_arguments(*spec.func, {a}, Device::cuda(0)));
    cuda::check(cuda::driver().CtxSynchronize(), "cuCtxSynchronize");
  } catch (const RuntimeError& e) {
    std::fprintf(stderr, "%s\n", e.what());
    std::_Exit(3);
  }
  std::_Exit(0);
}

TEST(CudaLaunchDeathTest, AWaitThatNeverCompletesIsReportedNotHung) {
  SKIP_WITHOUT_GPU();
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(launch_hanging_kernel(), ::testing::ExitedWithCode(3),
              "in cuCtxSynchronize; kernel waits_forever: block \\(0, 0, 0\\) thread 37 waited .* s on mbarrier empty\\[1\\] of "
              "the warp-specialized pipeline \\(phase parity 0\\) and stopped the kernel: the consumers never released");
}

TEST(CudaDriver, ReportsTheDevice) {
  SKIP_WITHOUT_GPU();
  EXPECT_GT(cuda::driver().device_count, 0);
  EXPECT_FALSE(cuda::device_name(0).empty());
  auto [major, minor] = cuda::compute_capability(0);
  EXPECT_GE(major, 7);
  if (major == 9 && minor == 0) {
    EXPECT_EQ(cuda::arch_for_device(0), "sm_90a");
  }
  EXPECT_NE(error_of([] { cuda::device_handle(999); }).find("cuda:999"), std::string::npos);
}

}  // namespace
}  // namespace tilescale

namespace tilescale {
namespace {

// Issue 15: compiling the GEMM example again in the same process (its CUDA pipeline: warp plans,
// layout inference, shared-memory planning, code generation) returns the first kernel in at most a
// millisecond, without running the pipeline.
TEST(CudaCompileMemo, ARepeatOfTheGemmExampleTakesAtMostAMillisecond) {
  SKIP_WITHOUT_GPU();
  const examples::Example* gemm = examples::find_example("gemm");
  using Clock = std::chrono::steady_clock;
  auto start = Clock::now();
  const Kernel first = compile(gemm->build(gemm->default_sizes), Target::CUDA);
  const double first_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  const lang::PrimFunc rebuilt = gemm->build(gemm->default_sizes);
  start = Clock::now();
  const Kernel again = compile(rebuilt, Target::CUDA);
  const double repeat_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  EXPECT_EQ(&first.compile_info(), &again.compile_info());
  EXPECT_LE(repeat_ms, 1.0);
  std::printf("gemm on CUDA: first compile() %.1f ms (disk cache %s), repeat %.3f ms\n", first_ms,
              first.compile_info().cache_hit ? "hit" : "miss", repeat_ms);
}

}  // namespace
}  // namespace tilescale
