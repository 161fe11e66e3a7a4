// compile() of a program it has compiled before in this process returns that kernel without running
// the pipeline again (issue 15: a repeat costs at most 1 ms), and never for a program that differs.
#include <gtest/gtest.h>

#include <chrono>

#include "example.h"
#include "tilescale/tilescale.h"

namespace tilescale {
namespace {

namespace T = lang;

T::PrimFunc scaled(float factor) {
  return T::prim_func("scaled", [factor] {
    auto A = T::Tensor("A", {256}, T::float32);
    auto B = T::Tensor("B", {256}, T::float32);
    T::Kernel(2, T::threads(128), [&](T::Expr bx) { T::Parallel(128, [&](T::Expr i) { B(bx * 128 + i) = A(bx * 128 + i) * factor; }); });
  });
}

bool same_kernel(const Kernel& a, const Kernel& b) { return &a.compile_info() == &b.compile_info(); }

TEST(CompileMemo, TheSameProgramBuiltTwiceIsCompiledOnce) {
  const Kernel first = compile(scaled(2.0f), Target::CPU);
  const Kernel again = compile(scaled(2.0f), Target::CPU);  // built anew: another PrimFunc object
  EXPECT_TRUE(same_kernel(first, again));
}

TEST(CompileMemo, AProgramThatDiffersIsCompiledAgain) {
  const Kernel two = compile(scaled(2.0f), Target::CPU);
  const Kernel three = compile(scaled(3.0f), Target::CPU);
  EXPECT_FALSE(same_kernel(two, three));
  Tensor a = Tensor::empty({256}, DataType::Float32), b = Tensor::zeros({256}, DataType::Float32);
  a.fill_random(1);
  three(a, b);
  EXPECT_FLOAT_EQ(static_cast<const float*>(b.data())[7], 3.0f * static_cast<const float*>(a.data())[7]);
}

TEST(CompileMemo, OptionsAndTargetsAreCompiledApart) {
  const Kernel cpu = compile(scaled(2.0f), Target::CPU);
  EXPECT_FALSE(same_kernel(cpu, compile(scaled(2.0f), CompileOptions{Target::CPU, {"--use_fast_math"}})));
}

// The GEMM example on the CPU backend (tests/gpu times the CUDA pipeline's repeat): the repeat
// returns the first kernel, within 5 ms even on a busy 2-core CI machine.
TEST(CompileMemo, ARepeatOfTheGemmExampleIsFast) {
  const examples::Example* gemm = examples::find_example("gemm");
  ASSERT_NE(gemm, nullptr);
  using Clock = std::chrono::steady_clock;
  auto start = Clock::now();
  const Kernel first = compile(gemm->build(gemm->default_sizes), Target::CPU);
  const double cold_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  const T::PrimFunc rebuilt = gemm->build(gemm->default_sizes);
  start = Clock::now();
  const Kernel again = compile(rebuilt, Target::CPU);
  const double repeat_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  EXPECT_TRUE(same_kernel(first, again));
  EXPECT_LT(repeat_ms, 5.0) << "cold " << cold_ms << " ms";
  std::printf("gemm: first compile %.2f ms, repeat %.3f ms\n", cold_ms, repeat_ms);
}

}  // namespace
}  // namespace tilescale
