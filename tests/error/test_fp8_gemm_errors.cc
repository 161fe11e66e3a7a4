// fp8 gemms that CUDA cannot lower: the 8-bit matrix instructions (wgmma k32, mma.sync m16n8k32)
// read both operands K-major, and fp8 needs sm_89 or later. Each is a CompileError from the
// lowering (generate_cuda), never an NVRTC static_assert.
#include "test_util.h"

namespace tilescale::test {
namespace {

// C[128, 128] += A · B over 8 warps, fp8 operands in shared memory, A given as [M, K] or [K, M]
// (transpose_A) and B as [K, N] or [N, K] (transpose_B).
T::PrimFunc fp8_gemm(bool transpose_a, bool transpose_b, DataType dt = DataType::Float8E4M3) {
  const std::int64_t M = 128, N = 128, K = 64;
  const std::vector<T::Expr> a_shape = transpose_a ? std::vector<T::Expr>{K, M} : std::vector<T::Expr>{M, K};
  const std::vector<T::Expr> b_shape = transpose_b ? std::vector<T::Expr>{N, K} : std::vector<T::Expr>{K, N};
  return T::prim_func("fp8_gemm", [&] {
    auto A = T::Tensor("A", a_shape, dt);
    auto B = T::Tensor("B", b_shape, dt);
    auto C = T::Tensor("C", {M, N}, T::float16);
    T::Kernel(1, T::threads(256), [&](T::Expr) {
      auto As = T::alloc_shared(a_shape, dt, "A_shared");
      auto Bs = T::alloc_shared(b_shape, dt, "B_shared");
      auto Cf = T::alloc_fragment({M, N}, T::float32, "C_local");
      T::copy(A, As);
      T::copy(B, Bs);
      T::gemm(As, Bs, Cf, transpose_a, transpose_b, T::GemmWarpPolicy::Square, /*clear_accum=*/true);
      T::copy(Cf, C);
    });
  });
}

TEST(Fp8GemmErrors, NMajorBOnHopper) {
  EXPECT_COMPILE_ERROR(generate_cuda(fp8_gemm(false, false), "sm_90a"), "cannot lower T::gemm into C_local for sm_90a",
                       "B = B_shared (float8_e4m3) N-major", "transpose_B=false", "wgmma and mma.sync",
                       "read 8-bit operands K-major only", "store B transposed, as [N, K], and pass transpose_B=true");
}

TEST(Fp8GemmErrors, MMajorAOnHopper) {
  EXPECT_COMPILE_ERROR(generate_cuda(fp8_gemm(true, true, DataType::Float8E5M2), "sm_90a"),
                       "A = A_shared (float8_e5m2) M-major", "transpose_A=true", "K-major only",
                       "store A as [M, K] and pass transpose_A=false");
}

TEST(Fp8GemmErrors, NMajorBOnAda) {
  // sm_89 lowers fp8 to mma.sync m16n8k32, which is K-major too.
  EXPECT_COMPILE_ERROR(generate_cuda(fp8_gemm(false, false), "sm_89"), "for sm_89 with B = B_shared (float8_e4m3) N-major",
                       "because mma.sync read", "pass transpose_B=true");
}

TEST(Fp8GemmErrors, Int8OperandsMustBeKMajorToo) {
  EXPECT_COMPILE_ERROR(generate_cuda(fp8_gemm(false, false, DataType::Int8), "sm_80"), "B = B_shared (int8) N-major",
                       "mma.sync read 8-bit operands K-major only");
}

TEST(Fp8GemmErrors, Fp8BeforeSm89) {
  EXPECT_COMPILE_ERROR(generate_cuda(fp8_gemm(false, true), "sm_80"),
                       "cannot lower T::gemm into C_local for sm_80 with float8_e4m3 operands",
                       "need sm_89 or later", "convert the operands to float16 or bfloat16");
}

// What does lower: TN on sm_89 (mma.sync) and sm_90a (wgmma).
TEST(Fp8GemmErrors, KMajorOperandsLower) {
  EXPECT_NE(generate_cuda(fp8_gemm(false, true), "sm_89").find("tl::gemm_ss<"), std::string::npos);
  EXPECT_NE(generate_cuda(fp8_gemm(false, true), "sm_90a").find("tl::gemm_ss_wgmma<"), std::string::npos);
}

}  // namespace
}  // namespace tilescale::test
