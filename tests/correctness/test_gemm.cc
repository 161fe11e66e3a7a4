// T::gemm on the CPU backend against a plain triple loop in double.
#include "gemm_sr_kernels.h"
#include "test_util.h"

namespace tilescale::test {
namespace {

struct GemmCase {
  bool ta, tb;
  DataType in;
};

// C[M, N] = op(A) · op(B) with A stored [M, K] ([K, M] when transposed) and B stored [K, N]
// ([N, K] when transposed); sizes not multiples of the 32×32×32 tiles, K looped with Pipelined.
T::PrimFunc tiled_gemm(std::int64_t M, std::int64_t N, std::int64_t K, bool ta, bool tb, DataType in, DataType acc) {
  constexpr int BM = 32, BN = 32, BK = 32;
  return T::prim_func("gemm", [&] {
    auto A = T::Tensor("A", ta ? T::Shape{K, M} : T::Shape{M, K}, in);
    auto B = T::Tensor("B", tb ? T::Shape{N, K} : T::Shape{K, N}, in);
    auto C = T::Tensor("C", {M, N}, acc);
    T::Kernel(T::ceildiv(N, BN), T::ceildiv(M, BM), T::threads(128), [&](T::Expr bx, T::Expr by) {
      auto As = T::alloc_shared(ta ? T::Shape{BK, BM} : T::Shape{BM, BK}, in, "A_shared");
      auto Bs = T::alloc_shared(tb ? T::Shape{BN, BK} : T::Shape{BK, BN}, in, "B_shared");
      auto Cf = T::alloc_fragment({BM, BN}, acc, "C_local");
      T::clear(Cf);
      T::Pipelined(T::ceildiv(K, BK), 3, [&](T::Expr k) {
        if (ta) T::copy(A(k * BK, by * BM), As);
        else T::copy(A(by * BM, k * BK), As);
        if (tb) T::copy(B(bx * BN, k * BK), Bs);
        else T::copy(B(k * BK, bx * BN), Bs);
        T::gemm(As, Bs, Cf, ta, tb);
      });
      T::copy(Cf, C(by * BM, bx * BN));
    });
  });
}

Tensor reference_gemm(const Tensor& A, const Tensor& B, std::int64_t M, std::int64_t N, std::int64_t K, bool ta,
                      bool tb, DataType out) {
  return tensor_from({M, N}, out, [&](const Shape& i) {
    double s = 0;
    for (std::int64_t k = 0; k < K; ++k)
      s += (ta ? A.get({k, i[0]}) : A.get({i[0], k})) * (tb ? B.get({i[1], k}) : B.get({k, i[1]}));
    return s;
  });
}

class Gemm : public ::testing::TestWithParam<GemmCase> {};

TEST_P(Gemm, MatchesReference) {
  const auto c = GetParam();
  const std::int64_t M = 70, N = 45, K = 83;
  Tensor A = random_tensor(c.ta ? Shape{K, M} : Shape{M, K}, c.in, 21);
  Tensor B = random_tensor(c.tb ? Shape{N, K} : Shape{K, N}, c.in, 22);
  Tensor C = poisoned({M, N}, DataType::Float32);
  cpu(tiled_gemm(M, N, K, c.ta, c.tb, c.in, DataType::Float32))(A, B, C);
  EXPECT_TRUE(close(C, reference_gemm(A, B, M, N, K, c.ta, c.tb, DataType::Float32), kFloat32SumTolerance));
}

INSTANTIATE_TEST_SUITE_P(Transposes, Gemm,
                         ::testing::Values(GemmCase{false, false, DataType::Float16},
                                           GemmCase{false, true, DataType::Float16},
                                           GemmCase{true, false, DataType::Float16},
                                           GemmCase{true, true, DataType::Float16},
                                           GemmCase{false, false, DataType::BFloat16},
                                           GemmCase{true, true, DataType::BFloat16},
                                           GemmCase{false, true, DataType::Float32}),
                         [](const auto& info) {
                           return std::string(info.param.ta ? "T" : "N") + (info.param.tb ? "T" : "N") + "_" +
                                  name(info.param.in);
                         });

// int8 operands accumulate exactly into an int32 fragment.
TEST(GemmInt, Int8IntoInt32IsExact) {
  const std::int64_t M = 40, N = 33, K = 70;
  Tensor A = random_tensor({M, K}, DataType::Int8, 23, -128, 128);
  Tensor B = random_tensor({K, N}, DataType::Int8, 24, -128, 128);
  Tensor C = poisoned({M, N}, DataType::Int32);
  cpu(tiled_gemm(M, N, K, false, false, DataType::Int8, DataType::Int32))(A, B, C);
  EXPECT_TRUE(equal(C, reference_gemm(A, B, M, N, K, false, false, DataType::Int32)));
}

// clear_accum=true overwrites C (here full of poison); clear_accum=false adds to what C holds.
TEST(GemmAccumulate, ClearAccumTrueAndFalse) {
  const std::int64_t M = 32, N = 16, K = 64;
  auto f = T::prim_func("gemm_accum", [&] {
    auto A = T::Tensor("A", {M, K}, T::float16);
    auto B = T::Tensor("B", {K, N}, T::float16);
    auto D = T::Tensor("D", {M, N}, T::float32);
    auto C1 = T::Tensor("C1", {M, N}, T::float32);
    auto C2 = T::Tensor("C2", {M, N}, T::float32);
    T::Kernel(1, T::threads(128), [&](T::Expr) {
      auto As = T::alloc_shared({M, 16}, T::float16);
      auto Bs = T::alloc_shared({16, N}, T::float16);
      auto Cf = T::alloc_fragment({M, N}, T::float32, "C_clear");
      auto Df = T::alloc_fragment({M, N}, T::float32, "C_accum");
      T::copy(D, Df);
      T::serial(K / 16, [&](T::Expr k) {
        T::copy(A(0, k * 16), As);
        T::copy(B(k * 16, 0), Bs);
        // Cleared every step: only the last K slice survives.
        T::gemm(As, Bs, Cf, T::GemmOptions{.clear_accum = true});
        T::gemm(As, Bs, Df, T::GemmOptions{.policy = T::GemmWarpPolicy::FullRow, .clear_accum = false});
      });
      T::copy(Cf, C1);
      T::copy(Df, C2);
    });
  });
  Tensor A = random_tensor({M, K}, DataType::Float16, 25), B = random_tensor({K, N}, DataType::Float16, 26);
  Tensor D = random_tensor({M, N}, DataType::Float32, 27, -4, 4);
  Tensor C1 = poisoned({M, N}, DataType::Float32), C2 = poisoned({M, N}, DataType::Float32);
  cpu(f)(A, B, D, C1, C2);
  Tensor last = tensor_from({M, N}, DataType::Float32, [&](const Shape& i) {
    double s = 0;
    for (std::int64_t k = K - 16; k < K; ++k) s += A.get({i[0], k}) * B.get({k, i[1]});
    return s;
  });
  Tensor full = reference_gemm(A, B, M, N, K, false, false, DataType::Float32);
  Tensor accumulated = tensor_from({M, N}, DataType::Float32, [&](const Shape& i) { return D.get(i) + full.get(i); });
  EXPECT_TRUE(close(C1, last, kFloat32SumTolerance));
  EXPECT_TRUE(close(C2, accumulated, kFloat32SumTolerance));
}

// gemm on fragment operands (A in registers, as FlashAttention's second gemm) and a region of a
// larger shared buffer.
TEST(GemmOperands, FragmentAAndSharedRegionB) {
  const std::int64_t M = 16, N = 24, K = 32;
  auto f = T::prim_func("gemm_frag", [&] {
    auto A = T::Tensor("A", {M, K}, T::float32);
    auto B = T::Tensor("B", {2 * K, N}, T::float16);
    auto C = T::Tensor("C", {M, N}, T::float32);
    T::Kernel(1, T::threads(64), [&](T::Expr) {
      auto Af = T::alloc_fragment({M, K}, T::float32);
      auto Ah = T::alloc_fragment({M, K}, T::float16);
      auto Bs = T::alloc_shared({2 * K, N}, T::float16);
      auto Cf = T::alloc_fragment({M, N}, T::float32);
      T::copy(A, Af);
      T::copy(Af, Ah);  // round to float16 on the way
      T::copy(B, Bs);
      T::gemm(Ah, T::region(Bs, {K, 0}, {K, N}), Cf, T::GemmOptions{.clear_accum = true});
      T::copy(Cf, C);
    });
  });
  Tensor A = random_tensor({M, K}, DataType::Float32, 28), B = random_tensor({2 * K, N}, DataType::Float16, 29);
  Tensor C = poisoned({M, N}, DataType::Float32);
  cpu(f)(A, B, C);
  Tensor expected = tensor_from({M, N}, DataType::Float32, [&](const Shape& i) {
    double s = 0;
    for (std::int64_t k = 0; k < K; ++k) s += round_to(DataType::Float16, A.get({i[0], k})) * B.get({K + k, i[1]});
    return s;
  });
  EXPECT_TRUE(close(C, expected, kFloat32SumTolerance));
}

// B in registers (gemm_sr on CUDA): B's tile brought into a fragment through shared memory (in a
// Pipelined loop) or straight from global memory (in a serial one), every transpose, tails on
// every side.
TEST(GemmOperands, FragmentBAllTransposes) {
  const std::int64_t M = 70, N = 100, K = 83;
  for (DataType dt : {DataType::Float16, DataType::BFloat16})
    for (bool ta : {false, true})
      for (bool tb : {false, true})
        for (bool through_shared : {false, true}) {
          const int stages = through_shared ? 3 : 0;
          SCOPED_TRACE(testing::Message() << name(dt) << " ta=" << ta << " tb=" << tb << " through_shared=" << through_shared);
          Tensor A = random_tensor(ta ? Shape{K, M} : Shape{M, K}, dt, 31);
          Tensor B = random_tensor(tb ? Shape{N, K} : Shape{K, N}, dt, 32);
          Tensor C = poisoned({M, N}, DataType::Float32);
          cpu(sr_kernels::gemm_b_in_registers(M, N, K, ta, tb, dt, through_shared, stages))(A, B, C);
          EXPECT_TRUE(close(C, sr_kernels::reference_gemm(A, B, M, N, K, ta, tb), kFloat32SumTolerance));
        }
}

// B in registers as the float16 copy of an earlier gemm's accumulator, read transposed.
TEST(GemmOperands, FragmentBFromAnEarlierAccumulator) {
  const std::int64_t M = 70, N = 64, KK = 32, J = 48;
  for (DataType dt : {DataType::Float16, DataType::BFloat16}) {
    SCOPED_TRACE(name(dt));
    Tensor A = random_tensor({M, KK}, dt, 33), X = random_tensor({N, J}, dt, 34), Y = random_tensor({J, KK}, dt, 35);
    Tensor C = poisoned({M, N}, DataType::Float32);
    cpu(sr_kernels::gemm_b_from_accumulator(M, N, KK, J, dt))(A, X, Y, C);
    EXPECT_TRUE(close(C, sr_kernels::reference_gemm_b_from_accumulator(A, X, Y, M, N, KK, J, dt), kFloat32SumTolerance));
  }
}

}  // namespace
}  // namespace tilescale::test
