// fp8 gemms on the CPU backend: T::gemm of float8_e4m3 / float8_e5m2 tiles multiplies the values
// as stored (every fp8 value, and every product of two, is exact in float32 and double), and the
// gemm example with fp8=1 (A [M, K], B^T [N, K]) passes its own check.
#include "example.h"
#include "test_util.h"

namespace tilescale::test {
namespace {

// C[M, N] (float32) = A · B^T, A [M, K] and B [N, K] in `in`, 32 x 32 x 32 tiles, pipelined K.
T::PrimFunc tn_gemm(std::int64_t M, std::int64_t N, std::int64_t K, DataType in) {
  constexpr int BM = 32, BN = 32, BK = 32;
  return T::prim_func("fp8_tn_gemm", [&] {
    auto A = T::Tensor("A", {M, K}, in);
    auto B = T::Tensor("B", {N, K}, in);
    auto C = T::Tensor("C", {M, N}, T::float32);
    T::Kernel(T::ceildiv(N, BN), T::ceildiv(M, BM), T::threads(128), [&](T::Expr bx, T::Expr by) {
      auto As = T::alloc_shared({BM, BK}, in, "A_shared");
      auto Bs = T::alloc_shared({BN, BK}, in, "B_shared");
      auto Cf = T::alloc_fragment({BM, BN}, T::float32, "C_local");
      T::clear(Cf);
      T::Pipelined(T::ceildiv(K, BK), 2, [&](T::Expr k) {
        T::copy(A(by * BM, k * BK), As);
        T::copy(B(bx * BN, k * BK), Bs);
        T::gemm(As, Bs, Cf, false, true);
      });
      T::copy(Cf, C(by * BM, bx * BN));
    });
  });
}

TEST(GemmFp8, MultipliesTheStoredValues) {
  const std::int64_t M = 70, N = 45, K = 83;
  for (DataType in : {DataType::Float8E4M3, DataType::Float8E5M2}) {
    SCOPED_TRACE(name(in));
    // Beyond [-1, 1): the values exercise the exponent range, saturation to the largest finite
    // value included (e4m3: 448), as the inputs are rounded when stored.
    Tensor A = random_tensor({M, K}, in, 31, -500, 500);
    Tensor B = random_tensor({N, K}, in, 32, -2, 2);
    Tensor C = poisoned({M, N}, DataType::Float32);
    cpu(tn_gemm(M, N, K, in))(A, B, C);
    Tensor want = tensor_from({M, N}, DataType::Float32, [&](const Shape& i) {
      double s = 0;
      for (std::int64_t k = 0; k < K; ++k) s += A.get({i[0], k}) * B.get({i[1], k});
      return s;
    });
    EXPECT_TRUE(close(C, want, kFloat32SumTolerance));
  }
}

// The example's knob: float16 or bfloat16 output, the default tile and wgmma-shaped ones, tails on
// every side (M, N and K not multiples of the tile), a single K step.
TEST(GemmFp8, ExamplePassesItsCheck) {
  const auto* ex = examples::find_example("gemm");
  ASSERT_NE(ex, nullptr);
  for (const char* spec : {"fp8=1", "fp8=1,bf16=1", "fp8=1,BM=128,BN=256,BK=128,threads=256,stages=4",
                           "fp8=1,M=130,N=72,K=32,BM=64,BN=128,BK=32,threads=128,stages=2",
                           "fp8=1,M=77,N=200,K=300,BM=128,BN=128,BK=64,threads=256,bf16=1"}) {
    SCOPED_TRACE(spec);
    const auto sizes = examples::parse_sizes(spec, ex->test_sizes);
    Kernel k = cpu(ex->build(sizes));
    for (std::uint64_t seed : {1, 2}) {
      const examples::CheckResult r = ex->check(k, sizes, seed);
      EXPECT_TRUE(r.passed()) << "seed " << seed << ": normwise error " << r.max_relative_error << " > tolerance "
                              << r.tolerance;
      // The CPU backend accumulates exactly (in double, then float32): only the output's rounding,
      // at most half a float16 step (2^-11) or bfloat16 step (2^-8) of the peak, remains.
      EXPECT_LE(r.max_relative_error, std::ldexp(1.0, sizes.at("bf16") ? -8 : -11)) << "seed " << seed;
    }
  }
}

}  // namespace
}  // namespace tilescale::test
