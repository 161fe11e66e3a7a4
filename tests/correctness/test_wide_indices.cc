// 64-bit safety on the CPU backend: a 64-bit constant next to an int32 expression promotes it
// (never truncates the constant), and indices into dimensions longer than 2^31 are computed in 64
// bits. The large tensors are views with stride 0 along their long dimension, so they take a few
// bytes of memory: every element of the dimension is the same one, and an index that wrapped at
// 2^31 would be out of bounds (a RuntimeError) instead.
#include "test_util.h"

namespace tilescale::test {
namespace {

// bx < 4294967297 was bx < 1: the constant was cut to int32. Now bx is widened to int64.
TEST(WideConstants, SixtyFourBitConstantPromotesTheInt32Side) {
  auto f = T::prim_func("wide_constants", [&] {
    auto X = T::Tensor("X", {3}, T::int8);
    auto U = T::Tensor("U", {3}, T::uint32);
    auto Y = T::Tensor("Y", {3, 5}, T::int64);
    T::Kernel(3, T::threads(32), [&](T::Expr bx) {
      Y(bx, 0) = T::if_then_else(bx < T::Expr(4294967297LL), 1, 0);
      Y(bx, 1) = T::Expr(4294967297LL) - bx;     // an int64 difference
      Y(bx, 2) = X(bx) + 1000;                   // int8 + 1000 is an int32 sum, not an int8 one
      Y(bx, 3) = U(bx) + (-1);                   // uint32 + (-1) is an int64 sum: 0 + (-1) is -1
      Y(bx, 4) = (bx + 2147483647) * 2 < T::Expr(8589934592LL);  // the int32 side computed in int64
    });
  });
  Tensor X = tensor_from({3}, DataType::Int8, [](const Shape& i) { return 100 + i[0]; });
  Tensor U = tensor_from({3}, DataType::UInt32, [](const Shape& i) { return i[0]; });
  Tensor Y = poisoned({3, 5}, DataType::Int64);
  cpu(f)(X, U, Y);
  for (std::int64_t b = 0; b < 3; ++b) {
    EXPECT_EQ(Y.get({b, 0}), 1) << b;
    EXPECT_EQ(Y.get({b, 1}), 4294967297.0 - b) << b;
    EXPECT_EQ(Y.get({b, 2}), 1100 + b) << b;
    EXPECT_EQ(Y.get({b, 3}), b - 1) << b;
    EXPECT_EQ(Y.get({b, 4}), 1) << b;  // (b + 2^31 - 1) * 2 < 2^33: true; wrapped in int32 it is negative
  }
}

// An unsigned 64-bit constant beyond 2^63 stays unsigned (it was a negative int64).
TEST(WideConstants, UnsignedConstantBeyondInt64) {
  auto f = T::prim_func("u64_constant", [&] {
    auto Y = T::Tensor("Y", {2}, T::int32);
    T::Kernel(1, T::threads(32), [&](T::Expr) {
      Y(0) = T::Expr(18446744073709551615ULL) > T::Expr(0ULL);
      Y(1) = T::Expr(9223372036854775808ULL) > 0;
    });
  });
  Tensor Y = poisoned({2}, DataType::Int32);
  cpu(f)(Y);
  EXPECT_EQ(Y.get({0}), 1);
  EXPECT_EQ(Y.get({1}), 1);
}

// A [3e9, 3] int8 view with stride 0 along dim 0: A(r, j) is data[j] for every r. The kernel
// addresses rows beyond 2^31 with int32 arithmetic (bx * 2^30 + 7) in loads, guards and tile-op
// regions; widen_indices makes it 64-bit, as it does for the symbolic int64 extent. (Outputs may not
// have stride 0, so stores beyond 2^31 are checked on the GPU, gpu.GpuWide.*.)
void check_long_dimension(const T::Expr& rows) {
  auto f = T::prim_func("long_dim", [&] {
    auto A = T::Tensor("A", {rows, 3}, T::int8);
    auto B = T::Tensor("B", {3}, T::int8);
    auto C = T::Tensor("C", {3, 3}, T::int8);
    T::Kernel(3, T::threads(32), [&](T::Expr bx) {
      T::Expr row = bx * 1073741824 + 7;  // 2147483655 for block 2: beyond int32
      T::If(row < rows, [&] { B(bx) = A(row, bx) + 1; });
      auto F = T::alloc_fragment({1, 3}, T::int8, "F");
      T::copy(A(row, 0), F);
      T::copy(F, C(bx, 0));
    });
  });
  const std::int8_t a[3] = {10, 20, 30};
  Tensor A = Tensor::wrap(const_cast<std::int8_t*>(a), {3'000'000'000, 3}, DataType::Int8, {0, 1});
  Tensor B = poisoned({3}, DataType::Int8), C = poisoned({3, 3}, DataType::Int8);
  cpu(f)(A, B, C);
  for (int j = 0; j < 3; ++j) {
    EXPECT_EQ(B.get({j}), a[j] + 1) << j;
    for (int r = 0; r < 3; ++r) EXPECT_EQ(C.get({r, j}), a[j]) << r << ", " << j;
  }
}

TEST(WideIndices, ConstantDimensionBeyond2To31) { check_long_dimension(T::Expr(3'000'000'000LL)); }
TEST(WideIndices, SymbolicInt64Dimension) { check_long_dimension(T::dynamic("N", T::int64)); }

}  // namespace
}  // namespace tilescale::test
