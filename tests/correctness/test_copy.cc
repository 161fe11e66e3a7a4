// T::copy, T::fill and T::clear on the CPU backend against plain C++ references.
#include "test_util.h"

namespace tilescale::test {
namespace {

// global → shared → global, tiles of 32×16 over a 70×45 tensor (neither dim a multiple).
TEST(Copy, GlobalSharedGlobalRaggedTiles) {
  const std::int64_t M = 70, N = 45;
  auto f = T::prim_func("copy_gsg", [&] {
    auto A = T::Tensor("A", {M, N}, T::float32);
    auto B = T::Tensor("B", {M, N}, T::float32);
    T::Kernel(T::ceildiv(N, 16), T::ceildiv(M, 32), T::threads(128), [&](T::Expr bx, T::Expr by) {
      auto As = T::alloc_shared({32, 16}, T::float32, "A_shared");
      T::copy(A(by * 32, bx * 16), As);
      T::copy(As, B(by * 32, bx * 16));
    });
  });
  Tensor A = random_tensor({M, N}, DataType::Float32, 1), B = poisoned({M, N}, DataType::Float32);
  cpu(f)(A, B);
  EXPECT_TRUE(equal(B, A));
}

// A tile that runs past the tensor's end reads zeros there: the padded output shows them.
TEST(Copy, TilePastTheEndReadsZero) {
  const std::int64_t M = 37, N = 21, BM = 16, BN = 8;
  const std::int64_t PM = (M + BM - 1) / BM * BM, PN = (N + BN - 1) / BN * BN;
  auto f = T::prim_func("copy_pad", [&] {
    auto A = T::Tensor("A", {M, N}, T::float16);
    auto P = T::Tensor("P", {PM, PN}, T::float16);
    T::Kernel(PN / BN, PM / BM, T::threads(64), [&](T::Expr bx, T::Expr by) {
      auto As = T::alloc_shared({BM, BN}, T::float16);
      T::copy(A(by * BM, bx * BN), As);
      T::copy(As, P(by * BM, bx * BN));
    });
  });
  Tensor A = random_tensor({M, N}, DataType::Float16, 2), P = poisoned({PM, PN}, DataType::Float16);
  cpu(f)(A, P);
  Tensor expected = tensor_from({PM, PN}, DataType::Float16,
                                [&](const Shape& i) { return i[0] < M && i[1] < N ? A.get(i) : 0.0; });
  EXPECT_TRUE(equal(P, expected));
}

// Writes past the tensor's end are dropped, and elements outside the written tile stay as they were.
TEST(Copy, WritesPastTheEndDroppedOthersUntouched) {
  const std::int64_t M = 20, N = 13;
  auto f = T::prim_func("copy_tail", [&] {
    auto S = T::Tensor("S", {16, 16}, T::float32);
    auto D = T::Tensor("D", {M, N}, T::float32);
    T::Kernel(1, T::threads(32), [&](T::Expr) {
      auto Ss = T::alloc_shared({16, 16}, T::float32);
      T::copy(S, Ss);
      T::copy(Ss, D(9, 5));  // rows 9..24 (past 20), columns 5..20 (past 13)
    });
  });
  Tensor S = random_tensor({16, 16}, DataType::Float32, 3);
  Tensor D = random_tensor({M, N}, DataType::Float32, 4, 10.0, 20.0);
  Tensor before = copy_of(D);
  cpu(f)(S, D);
  Tensor expected = tensor_from({M, N}, DataType::Float32, [&](const Shape& i) {
    if (i[0] >= 9 && i[1] >= 5) return S.get({i[0] - 9, i[1] - 5});
    return before.get(i);
  });
  EXPECT_TRUE(equal(D, expected));
}

// global → fragment, element-wise work, fragment → global.
TEST(Copy, GlobalFragmentGlobal) {
  const std::int64_t M = 50, N = 72;
  auto f = T::prim_func("copy_frag", [&] {
    auto A = T::Tensor("A", {M, N}, T::float32);
    auto B = T::Tensor("B", {M, N}, T::float32);
    T::Kernel(T::ceildiv(N, 32), T::ceildiv(M, 32), T::threads(128), [&](T::Expr bx, T::Expr by) {
      auto F = T::alloc_fragment({32, 32}, T::float32, "F");
      T::copy(A(by * 32, bx * 32), F);
      T::Parallel(32, 32, [&](T::Expr i, T::Expr j) { F(i, j) = F(i, j) * 2 + 1; });
      T::copy(F, B(by * 32, bx * 32));
    });
  });
  Tensor A = random_tensor({M, N}, DataType::Float32, 5), B = poisoned({M, N}, DataType::Float32);
  cpu(f)(A, B);
  Tensor expected = tensor_from({M, N}, DataType::Float32, [&](const Shape& i) {
    return double(float(float(A.get(i) * 2.0f) + 1.0f));
  });
  EXPECT_TRUE(equal(B, expected));
}

// Copies convert to the destination's dtype (round to nearest even; fp8 saturates).
struct ConversionCase {
  DataType from, to;
  double lo, hi;
};

class CopyConversion : public ::testing::TestWithParam<ConversionCase> {};

TEST_P(CopyConversion, RoundsLikeRoundTo) {
  const auto c = GetParam();
  const std::int64_t N = 300;
  auto f = T::prim_func("convert", [&] {
    auto X = T::Tensor("X", {N}, c.from);
    auto Y = T::Tensor("Y", {N}, c.to);
    T::Kernel(T::ceildiv(N, 128), T::threads(128), [&](T::Expr bx) {
      auto F = T::alloc_fragment({128}, c.to, "F");
      T::copy(X(bx * 128), F);
      T::copy(F, Y(bx * 128));
    });
  });
  Tensor X = random_tensor({N}, c.from, 6, c.lo, c.hi), Y = poisoned({N}, c.to);
  cpu(f)(X, Y);
  Tensor expected = tensor_from({N}, c.to, [&](const Shape& i) { return round_to(c.to, X.get(i)); });
  EXPECT_TRUE(equal(Y, expected));
}

INSTANTIATE_TEST_SUITE_P(
    Dtypes, CopyConversion,
    ::testing::Values(ConversionCase{DataType::Float16, DataType::Float32, -100, 100},
                      ConversionCase{DataType::Float32, DataType::BFloat16, -3, 3},
                      ConversionCase{DataType::Float32, DataType::Float16, -70000, 70000},
                      ConversionCase{DataType::Float32, DataType::Float8E4M3, -1000, 1000},
                      ConversionCase{DataType::Float32, DataType::Float8E5M2, -1e5, 1e5},
                      ConversionCase{DataType::Float16, DataType::Int8, -300, 300},
                      ConversionCase{DataType::Int32, DataType::Float16, -5000, 5000}),
    [](const auto& info) { return std::string(name(info.param.from)) + "_to_" + name(info.param.to); });

// Saturation is visible: values beyond fp8's range come out at its largest finite value.
TEST(Copy, Fp8SaturatesToMaxFinite) {
  auto f = T::prim_func("fp8_sat", [&] {
    auto X = T::Tensor("X", {4}, T::float32);
    auto Y = T::Tensor("Y", {4}, T::float8_e4m3);
    auto Z = T::Tensor("Z", {4}, T::float8_e5m2);
    T::Kernel(1, T::threads(32), [&](T::Expr) {
      T::copy(X, Y);
      T::copy(X, Z);
    });
  });
  Tensor X = Tensor::empty({4}, DataType::Float32);
  X.set({0}, 1e6), X.set({1}, -1e6), X.set({2}, 449), X.set({3}, 0.5);
  Tensor Y = poisoned({4}, DataType::Float8E4M3), Z = poisoned({4}, DataType::Float8E5M2);
  cpu(f)(X, Y, Z);
  EXPECT_EQ(Y.get({0}), 448);
  EXPECT_EQ(Y.get({1}), -448);
  EXPECT_EQ(Y.get({2}), 448);
  EXPECT_EQ(Y.get({3}), 0.5);
  EXPECT_EQ(Z.get({0}), 57344);
  EXPECT_EQ(Z.get({1}), -57344);
  EXPECT_EQ(Z.get({2}), 448);
  EXPECT_EQ(Z.get({3}), 0.5);
}

// T::region with explicit extents, on the source and on the destination side.
TEST(Copy, RegionWithExplicitExtents) {
  const std::int64_t M = 40, N = 30;
  auto f = T::prim_func("copy_region", [&] {
    auto A = T::Tensor("A", {M, N}, T::float32);
    auto B = T::Tensor("B", {M, N}, T::float32);
    T::Kernel(T::ceildiv(M, 16), T::threads(64), [&](T::Expr bx) {
      auto S = T::alloc_shared({16, 8}, T::float32);
      // Columns 3..10 of this block's rows into S; then S into columns 20..27 of B.
      T::copy(T::region(A, {bx * 16, 3}, {16, 8}), S);
      T::copy(S, T::region(B, {bx * 16, 20}, {16, 8}));
    });
  });
  Tensor A = random_tensor({M, N}, DataType::Float32, 7);
  Tensor B = random_tensor({M, N}, DataType::Float32, 8, 5, 6);
  Tensor before = copy_of(B);
  cpu(f)(A, B);
  Tensor expected = tensor_from({M, N}, DataType::Float32, [&](const Shape& i) {
    return i[1] >= 20 && i[1] < 28 ? A.get({i[0], i[1] - 17}) : before.get(i);
  });
  EXPECT_TRUE(equal(B, expected));
}

// A [1, N] row of a 2-D tensor into a 1-D fragment and back into a 1-D output.
TEST(Copy, RowIntoOneDimensionalFragment) {
  const std::int64_t M = 9, N = 48;
  auto f = T::prim_func("copy_row", [&] {
    auto A = T::Tensor("A", {M, N}, T::float32);
    auto R = T::Tensor("R", {M, N}, T::float32);
    auto S = T::Tensor("S", {M}, T::float32);
    T::Kernel(M, T::threads(32), [&](T::Expr bx) {
      auto row = T::alloc_fragment({N}, T::float32, "row");
      auto total = T::alloc_fragment({1}, T::float32, "total");
      T::copy(A(bx, 0), row);  // extent [1, N] inferred from the 1-D fragment
      T::reduce_sum(row, total, 0);
      T::copy(row, T::region(R, {bx, 0}, {1, N}));
      T::copy(total, S(bx));
    });
  });
  Tensor A = random_tensor({M, N}, DataType::Float32, 9);
  Tensor R = poisoned({M, N}, DataType::Float32), S = poisoned({M}, DataType::Float32);
  cpu(f)(A, R, S);
  EXPECT_TRUE(equal(R, A));
  Tensor expected = tensor_from({M}, DataType::Float32, [&](const Shape& i) {
    double s = 0;
    for (std::int64_t j = 0; j < N; ++j) s += A.get({i[0], j});
    return s;
  });
  EXPECT_TRUE(close(S, expected, kFloat32SumTolerance));
}

// A 3-D tensor's [1, 16, 16] slice into a 2-D shared tile.
TEST(Copy, SliceOfThreeDimensionalTensor) {
  const std::int64_t B = 3, M = 16, N = 16;
  auto f = T::prim_func("copy_3d", [&] {
    auto X = T::Tensor("X", {B, M, N}, T::bfloat16);
    auto Y = T::Tensor("Y", {B, M, N}, T::bfloat16);
    T::Kernel(B, T::threads(32), [&](T::Expr bz) {
      auto S = T::alloc_shared({M, N}, T::bfloat16);
      T::copy(X(bz, 0, 0), S);
      T::copy(S, Y(bz, 0, 0));
    });
  });
  Tensor X = random_tensor({B, M, N}, DataType::BFloat16, 10), Y = poisoned({B, M, N}, DataType::BFloat16);
  cpu(f)(X, Y);
  EXPECT_TRUE(equal(Y, X));
}

// Arguments need not be contiguous: a transposed view (strides {1, 4}) reads as its logical shape.
TEST(Copy, StridedArgument) {
  const std::int64_t M = 5, N = 4;
  auto f = T::prim_func("strided_arg", [&] {
    auto A = T::Tensor("A", {M, N}, T::float32);
    auto B = T::Tensor("B", {M, N}, T::float32);
    T::Kernel(1, T::threads(32), [&](T::Expr) {
      auto S = T::alloc_shared({M, N}, T::float32);
      T::copy(A, S);
      T::Parallel(M, N, [&](T::Expr i, T::Expr j) { B(i, j) = S(i, j) + A(i, j) * 10; });
    });
  });
  Tensor base = random_tensor({N, M}, DataType::Float32, 12);
  Tensor At = Tensor::wrap(base.data(), {M, N}, DataType::Float32, {1, M});
  ASSERT_FALSE(At.is_contiguous());
  Tensor B = poisoned({M, N}, DataType::Float32);
  cpu(f)(At, B);
  EXPECT_TRUE(equal(B, tensor_from({M, N}, DataType::Float32, [&](const Shape& i) {
    const float a = float(base.get({i[1], i[0]}));
    return double(a + a * 10.0f);
  })));
}

// The CPU backend fills fresh shared and fragment buffers with poison (NaN), so reading what was
// never written is visible in the result rather than silently zero.
TEST(Copy, UnwrittenOnChipBuffersArePoisoned) {
  auto f = T::prim_func("poison", [&] {
    auto Y = T::Tensor("Y", {2, 4}, T::float32);
    T::Kernel(1, T::threads(32), [&](T::Expr) {
      auto S = T::alloc_shared({4}, T::float32);
      auto F = T::alloc_fragment({4}, T::float32);
      T::copy(S, Y(0, 0));
      T::copy(F, Y(1, 0));
    });
  });
  Tensor Y = Tensor::zeros({2, 4}, DataType::Float32);
  cpu(f)(Y);
  for (std::int64_t i = 0; i < Y.numel(); ++i) EXPECT_TRUE(std::isnan(Y.get_flat(i))) << i;
}

TEST(Fill, FillAndClearFragmentsAndShared) {
  auto f = T::prim_func("fill", [&] {
    auto A = T::Tensor("A", {8, 8}, T::float32);
    auto B = T::Tensor("B", {8, 8}, T::float16);
    auto C = T::Tensor("C", {8, 8}, T::int32);
    T::Kernel(1, T::threads(32), [&](T::Expr) {
      auto F = T::alloc_fragment({8, 8}, T::float32);
      auto S = T::alloc_shared({8, 8}, T::float16);
      auto I = T::alloc_fragment({8, 8}, T::int32);
      T::fill(F, 2.5);
      T::fill(S, -1);
      T::fill(I, 7);
      T::clear(T::region(I, {2, 2}, {4, 4}));  // the middle only
      T::copy(F, A);
      T::copy(S, B);
      T::copy(I, C);
    });
  });
  Tensor A = poisoned({8, 8}, DataType::Float32), B = poisoned({8, 8}, DataType::Float16),
         C = poisoned({8, 8}, DataType::Int32);
  cpu(f)(A, B, C);
  Tensor a = Tensor::empty({8, 8}, DataType::Float32), b = Tensor::empty({8, 8}, DataType::Float16);
  a.fill(2.5), b.fill(-1);
  EXPECT_TRUE(equal(A, a));
  EXPECT_TRUE(equal(B, b));
  Tensor c = tensor_from({8, 8}, DataType::Int32, [](const Shape& i) {
    return i[0] >= 2 && i[0] < 6 && i[1] >= 2 && i[1] < 6 ? 0.0 : 7.0;
  });
  EXPECT_TRUE(equal(C, c));
}

// fill of a global region that runs past the tensor's end: in-range elements set, the rest kept.
TEST(Fill, GlobalRegionPastTheEnd) {
  const std::int64_t M = 10, N = 10;
  auto f = T::prim_func("fill_global", [&] {
    auto D = T::Tensor("D", {M, N}, T::float32);
    T::Kernel(1, T::threads(32), [&](T::Expr) { T::fill(T::region(D, {6, 4}, {8, 3}), 9.0); });
  });
  Tensor D = random_tensor({M, N}, DataType::Float32, 11);
  Tensor before = copy_of(D);
  cpu(f)(D);
  Tensor expected = tensor_from({M, N}, DataType::Float32, [&](const Shape& i) {
    return i[0] >= 6 && i[1] >= 4 && i[1] < 7 ? 9.0 : before.get(i);
  });
  EXPECT_TRUE(equal(D, expected));
}

}  // namespace
}  // namespace tilescale::test
