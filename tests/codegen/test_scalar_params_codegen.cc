// Kernels with scalar parameters (T::ScalarParam) generate CUDA that takes each scalar by value at
// its place in the parameter ABI (src/codegen/cuda/kernel_spec.h: after the symbolic dimensions,
// before the strides) and that NVRTC compiles for sm_80 and sm_90a.
#include <gtest/gtest.h>

#include "jit/nvrtc.h"
#include "scalar_param_programs.h"

namespace tilescale::test {
namespace {

std::string signature(const std::string& source) {
  const size_t at = source.find("__global__");
  return source.substr(at, source.find('{', at) - at);
}

TEST(ScalarParamsCodegen, TakenByValueAndCompiledByNvrtc) {
  if (std::string why = jit::nvrtc_unavailable_reason(); !why.empty()) GTEST_SKIP() << "NVRTC unavailable: " << why;
  for (const char* arch : {"sm_80", "sm_90a"}) {
    const std::string masked = generate_cuda(scalar_params::masked_scale(1300), arch);
    const std::string sig = signature(masked);
    EXPECT_NE(sig.find("const float* __restrict__ A, float* __restrict__ B, int valid_len, float scale, float bias)"),
              std::string::npos)
        << arch << ": " << sig;
    EXPECT_FALSE(generate_ptx(scalar_params::masked_scale(1300), arch).empty()) << arch;

    const std::string iota = generate_cuda(scalar_params::iota(700), arch);
    EXPECT_NE(signature(iota).find("long long* __restrict__ Out, long long n, int first, int step)"), std::string::npos)
        << arch << ": " << signature(iota);
    EXPECT_FALSE(generate_ptx(scalar_params::iota(700), arch).empty()) << arch;
  }
}

// Symbolic dimensions come before the scalars, strides after them.
TEST(ScalarParamsCodegen, SitBetweenSymbolicDimensionsAndStrides) {
  T::Expr M = T::dynamic("M");
  T::PrimFunc f = T::prim_func("rows", [&] {
    T::Expr limit = T::ScalarParam("limit", T::int32);
    auto X = T::Tensor("X", {M, 64}, T::float32);
    T::Kernel(T::ceildiv(M, 4), T::threads(128), [&](T::Expr bx) {
      T::Parallel(4, 64, [&](T::Expr i, T::Expr j) {
        T::If(bx * 4 + i < M && j < limit, [&] { X(bx * 4 + i, j) = 0.0f; });
      });
    });
  });
  if (std::string why = jit::nvrtc_unavailable_reason(); !why.empty()) GTEST_SKIP() << "NVRTC unavailable: " << why;
  const std::string sig = signature(generate_cuda(f, "sm_90a"));
  EXPECT_NE(sig.find("float* __restrict__ X, int M, int limit, long long X_stride0)"), std::string::npos) << sig;
}

}  // namespace
}  // namespace tilescale::test
