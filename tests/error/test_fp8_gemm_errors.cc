// fp8 gemms that CUDA cannot lower: fp8 matrix instructions need sm_89 or later. A CompileError
// from the lowering (generate_cuda), never an NVRTC static_assert. (Every majorness lowers from
// sm_89 on: tests/codegen/test_gemm_types_codegen.cc.)
#include "test_util.h"

namespace tilescale::test {
namespace {

// C[128, 128] = A · B^T over 8 warps, float8_e4m3 operands in shared memory, A [M, K], B [N, K].
T::PrimFunc fp8_gemm() {
  const std::int64_t M = 128, N = 128, K = 64;
  return T::prim_func("fp8_gemm", [&] {
    auto A = T::Tensor("A", {M, K}, T::float8_e4m3);
    auto B = T::Tensor("B", {N, K}, T::float8_e4m3);
    auto C = T::Tensor("C", {M, N}, T::float16);
    T::Kernel(1, T::threads(256), [&](T::Expr) {
      auto As = T::alloc_shared({M, K}, T::float8_e4m3, "A_shared");
      auto Bs = T::alloc_shared({N, K}, T::float8_e4m3, "B_shared");
      auto Cf = T::alloc_fragment({M, N}, T::float32, "C_local");
      T::copy(A, As);
      T::copy(B, Bs);
      T::gemm(As, Bs, Cf, false, true, T::GemmWarpPolicy::Square, /*clear_accum=*/true);
      T::copy(Cf, C);
    });
  });
}

TEST(Fp8GemmErrors, Fp8BeforeSm89) {
  EXPECT_COMPILE_ERROR(generate_cuda(fp8_gemm(), "sm_80"),
                       "cannot lower T::gemm into C_local for sm_80 with float8_e4m3 operands",
                       "need sm_89 or later", "convert the operands to float16 or bfloat16");
}

}  // namespace
}  // namespace tilescale::test
