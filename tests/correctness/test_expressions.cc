// Expressions on the CPU backend: math intrinsics, casts, integer division, rounding of narrow
// floats, bool and integer semantics.
#include <array>
#include <cmath>

#include "test_util.h"

namespace tilescale::test {
namespace {

// Y(i) = fn(X(i)) element-wise in float32 over N elements.
Tensor apply_unary(const std::function<T::Expr(T::Expr)>& fn, const Tensor& X, DataType out = DataType::Float32) {
  const std::int64_t N = X.shape(0);
  auto f = T::prim_func("unary", [&] {
    auto x = T::Tensor("X", {N}, X.dtype());
    auto y = T::Tensor("Y", {N}, out);
    T::Kernel(T::ceildiv(N, 64), T::threads(64), [&](T::Expr bx) {
      T::Parallel(64, [&](T::Expr i) {
        T::If(bx * 64 + i < N, [&] { y(bx * 64 + i) = fn(x(bx * 64 + i)); });
      });
    });
  });
  Tensor Y = poisoned({N}, out);
  cpu(f)(X, Y);
  return Y;
}

struct MathCase {
  const char* name;
  std::function<T::Expr(T::Expr)> fn;
  std::function<double(double)> ref;
  double lo, hi;
};

class Math : public ::testing::TestWithParam<MathCase> {};

TEST_P(Math, Float32MatchesLibm) {
  const auto& c = GetParam();
  Tensor X = random_tensor({200}, DataType::Float32, 81, c.lo, c.hi);
  Tensor Y = apply_unary(c.fn, X);
  Tensor expected = tensor_from({200}, DataType::Float32, [&](const Shape& i) { return c.ref(X.get(i)); });
  EXPECT_TRUE(close(Y, expected, 1e-6));
}

INSTANTIATE_TEST_SUITE_P(
    Intrinsics, Math,
    ::testing::Values(
        MathCase{"exp", [](T::Expr x) { return T::exp(x); }, [](double x) { return std::exp(x); }, -5, 5},
        MathCase{"exp2", [](T::Expr x) { return T::exp2(x); }, [](double x) { return std::exp2(x); }, -5, 5},
        MathCase{"log", [](T::Expr x) { return T::log(x); }, [](double x) { return std::log(x); }, 0.01, 100},
        MathCase{"log2", [](T::Expr x) { return T::log2(x); }, [](double x) { return std::log2(x); }, 0.01, 100},
        MathCase{"sqrt", [](T::Expr x) { return T::sqrt(x); }, [](double x) { return std::sqrt(x); }, 0, 100},
        MathCase{"rsqrt", [](T::Expr x) { return T::rsqrt(x); }, [](double x) { return 1 / std::sqrt(x); }, 0.01, 100},
        MathCase{"abs", [](T::Expr x) { return T::abs(x); }, [](double x) { return std::fabs(x); }, -5, 5},
        MathCase{"floor", [](T::Expr x) { return T::floor(x); }, [](double x) { return std::floor(x); }, -5, 5},
        MathCase{"ceil", [](T::Expr x) { return T::ceil(x); }, [](double x) { return std::ceil(x); }, -5, 5},
        MathCase{"sin", [](T::Expr x) { return T::sin(x); }, [](double x) { return std::sin(x); }, -5, 5},
        MathCase{"cos", [](T::Expr x) { return T::cos(x); }, [](double x) { return std::cos(x); }, -5, 5},
        MathCase{"tanh", [](T::Expr x) { return T::tanh(x); }, [](double x) { return std::tanh(x); }, -5, 5},
        MathCase{"sigmoid", [](T::Expr x) { return T::sigmoid(x); }, [](double x) { return 1 / (1 + std::exp(-x)); }, -8, 8},
        MathCase{"pow", [](T::Expr x) { return T::pow(x, 1.5f); }, [](double x) { return std::pow(x, 1.5); }, 0, 10},
        MathCase{"min", [](T::Expr x) { return T::min(x, 0.25f); }, [](double x) { return std::min(x, 0.25); }, -1, 1},
        MathCase{"max", [](T::Expr x) { return T::max(x, -0.25f); }, [](double x) { return std::max(x, -0.25); }, -1, 1},
        MathCase{"if_then_else", [](T::Expr x) { return T::if_then_else(x > 0, x, x * 0.5f); },
                 [](double x) { return x > 0 ? x : double(float(x * 0.5)); }, -1, 1}),
    [](const auto& info) { return std::string(info.param.name); });

// Math on float16 values rounds the result to float16.
TEST(MathFloat16, ExpRoundsToFloat16) {
  Tensor X = random_tensor({100}, DataType::Float16, 82, -3, 3);
  Tensor Y = apply_unary([](T::Expr x) { return T::exp(x); }, X, DataType::Float16);
  EXPECT_TRUE(equal(Y, tensor_from({100}, DataType::Float16, [&](const Shape& i) {
    return round_to(DataType::Float16, std::exp(X.get(i)));
  })));
}

// Casts: float → int truncates toward zero and saturates; int → float rounds; float → bool.
TEST(Casts, FloatToIntTruncatesAndSaturates) {
  Tensor X = tensor_from({8}, DataType::Float32, [](const Shape& i) {
    const double v[] = {2.9, -2.9, 127.5, 300.0, -300.0, 0.0, -0.4, 1e10};
    return v[i[0]];
  });
  Tensor Y8 = apply_unary([](T::Expr x) { return T::cast(x, T::int8); }, X, DataType::Int8);
  Tensor Y32 = apply_unary([](T::Expr x) { return T::cast(x, T::int32); }, X, DataType::Int32);
  Tensor Yu8 = apply_unary([](T::Expr x) { return T::cast(x, T::uint8); }, X, DataType::UInt8);
  Tensor Yb = apply_unary([](T::Expr x) { return T::cast(T::cast(x, T::bool_), T::int32); }, X, DataType::Int32);
  const double e8[] = {2, -2, 127, 127, -128, 0, 0, 127};
  const double e32[] = {2, -2, 127, 300, -300, 0, 0, 2147483647};
  const double eu8[] = {2, 0, 127, 255, 0, 0, 0, 255};
  const double eb[] = {1, 1, 1, 1, 1, 0, 1, 1};
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(Y8.get({i}), e8[i]) << "int8 of " << X.get({i});
    EXPECT_EQ(Y32.get({i}), e32[i]) << "int32 of " << X.get({i});
    EXPECT_EQ(Yu8.get({i}), eu8[i]) << "uint8 of " << X.get({i});
    EXPECT_EQ(Yb.get({i}), eb[i]) << "bool of " << X.get({i});
  }
}

TEST(Casts, IntToFloatRounds) {
  // 2049 is not a float16: it rounds to even (2048); 16777217 is not a float32.
  Tensor X = tensor_from({3}, DataType::Int32, [](const Shape& i) { return std::array<double, 3>{2049, 2051, 16777217}[i[0]]; });
  Tensor Yh = apply_unary([](T::Expr x) { return T::cast(x, T::float16); }, X, DataType::Float16);
  Tensor Yf = apply_unary([](T::Expr x) { return T::cast(x, T::float32); }, X, DataType::Float32);
  EXPECT_EQ(Yh.get({0}), 2048);
  EXPECT_EQ(Yh.get({1}), 2052);
  EXPECT_EQ(Yf.get({2}), 16777216);
}

// C division and modulo truncate toward zero; floordiv/floormod round toward −∞.
TEST(IntegerDivision, TruncatingVersusFloor) {
  const std::int64_t N = 12;
  const int a[N] = {7, -7, 7, -7, 0, 13, -13, 1, -1, 100, -100, 5};
  const int b[N] = {2, 2, -2, -2, 3, 4, 4, 7, 7, -9, -9, 5};
  Tensor A = tensor_from({N}, DataType::Int32, [&](const Shape& i) { return a[i[0]]; });
  Tensor B = tensor_from({N}, DataType::Int32, [&](const Shape& i) { return b[i[0]]; });
  auto f = T::prim_func("divmod", [&] {
    auto x = T::Tensor("A", {N}, T::int32);
    auto y = T::Tensor("B", {N}, T::int32);
    auto Q = T::Tensor("Q", {4, N}, T::int32);
    T::Kernel(1, T::threads(32), [&](T::Expr) {
      T::Parallel(N, [&](T::Expr i) {
        Q(0, i) = x(i) / y(i);
        Q(1, i) = x(i) % y(i);
        Q(2, i) = T::floordiv(x(i), y(i));
        Q(3, i) = T::floormod(x(i), y(i));
      });
    });
  });
  Tensor Q = poisoned({4, N}, DataType::Int32);
  cpu(f)(A, B, Q);
  for (int i = 0; i < N; ++i) {
    const int fd = a[i] / b[i] - ((a[i] % b[i] != 0) && ((a[i] < 0) != (b[i] < 0)));
    EXPECT_EQ(Q.get({0, i}), a[i] / b[i]) << a[i] << " / " << b[i];
    EXPECT_EQ(Q.get({1, i}), a[i] % b[i]) << a[i] << " % " << b[i];
    EXPECT_EQ(Q.get({2, i}), fd) << "floordiv(" << a[i] << ", " << b[i] << ")";
    EXPECT_EQ(Q.get({3, i}), a[i] - fd * b[i]) << "floormod(" << a[i] << ", " << b[i] << ")";
  }
}

// float16 arithmetic is float16 arithmetic: every operation rounds to float16.
TEST(Float16Arithmetic, EveryOperationRounds) {
  auto f = T::prim_func("half_sum", [&] {
    auto X = T::Tensor("X", {3}, T::float16);
    auto Y = T::Tensor("Y", {3}, T::float32);
    T::Kernel(1, T::threads(32), [&](T::Expr) {
      // (1024 + 0.5) + 0.5: 1024.5 ties to even (1024), twice; float32 would give 1025.
      Y(0) = T::cast((X(0) + X(1)) + X(1), T::float32);
      // 2048 + 1 = 2048 in float16 (spacing 2 there).
      Y(1) = T::cast(X(2) + X(1) + X(1), T::float32);
      // The same sum in float32 after casting first.
      Y(2) = T::cast(X(0), T::float32) + T::cast(X(1), T::float32) + T::cast(X(1), T::float32);
    });
  });
  Tensor X = Tensor::empty({3}, DataType::Float16);
  X.set({0}, 1024), X.set({1}, 0.5), X.set({2}, 2048);
  Tensor Y = poisoned({3}, DataType::Float32);
  cpu(f)(X, Y);
  EXPECT_EQ(Y.get({0}), 1024);
  EXPECT_EQ(Y.get({1}), 2048);
  EXPECT_EQ(Y.get({2}), 1025);
}

// Element-wise float16 products and sums agree with round_to after every operation.
TEST(Float16Arithmetic, ElementWiseMatchesRoundTo) {
  const std::int64_t N = 256;
  auto f = T::prim_func("half_fma", [&] {
    auto A = T::Tensor("A", {N}, T::float16);
    auto B = T::Tensor("B", {N}, T::float16);
    auto C = T::Tensor("C", {N}, T::float16);
    T::Kernel(1, T::threads(128), [&](T::Expr) {
      T::Parallel(N, [&](T::Expr i) { C(i) = A(i) * B(i) + A(i); });
    });
  });
  Tensor A = random_tensor({N}, DataType::Float16, 83, -50, 50), B = random_tensor({N}, DataType::Float16, 84, -50, 50);
  Tensor C = poisoned({N}, DataType::Float16);
  cpu(f)(A, B, C);
  EXPECT_TRUE(equal(C, tensor_from({N}, DataType::Float16, [&](const Shape& i) {
    const double p = round_to(DataType::Float16, A.get(i) * B.get(i));
    return round_to(DataType::Float16, p + A.get(i));
  })));
}

TEST(Bool, LogicalOperators) {
  const std::int64_t N = 20;
  auto f = T::prim_func("bools", [&] {
    auto X = T::Tensor("X", {N}, T::int32);
    auto Y = T::Tensor("Y", {4, N}, T::int32);
    auto Z = T::Tensor("Z", {N}, T::bool_);
    T::Kernel(1, T::threads(32), [&](T::Expr) {
      T::Parallel(N, [&](T::Expr i) {
        T::Expr x = X(i);
        Y(0, i) = T::cast(x > 0 && x < 5, T::int32);
        Y(1, i) = T::cast(x < -3 || x == 7, T::int32);
        Y(2, i) = T::cast(!(x == 3), T::int32);
        Y(3, i) = T::cast(x != 0, T::int32) + T::cast(x >= 2, T::int32) + T::cast(x <= -2, T::int32);
        Z(i) = x % 2 == 0;
      });
    });
  });
  Tensor X = tensor_from({N}, DataType::Int32, [](const Shape& i) { return double(i[0] - 8); });
  Tensor Y = poisoned({4, N}, DataType::Int32), Z = poisoned({N}, DataType::Bool);
  cpu(f)(X, Y, Z);
  for (int i = 0; i < N; ++i) {
    const int x = i - 8;
    EXPECT_EQ(Y.get({0, i}), x > 0 && x < 5) << x;
    EXPECT_EQ(Y.get({1, i}), x < -3 || x == 7) << x;
    EXPECT_EQ(Y.get({2, i}), !(x == 3)) << x;
    EXPECT_EQ(Y.get({3, i}), (x != 0) + (x >= 2) + (x <= -2)) << x;
    EXPECT_EQ(Z.get({i}), x % 2 == 0) << x;
  }
}

// Arithmetic on bools computes on int32, as C promotes them: true + true == 2 (not true).
TEST(Bool, ArithmeticPromotesToInt32) {
  const std::int64_t N = 20;
  DataType sum_type = DataType::Bool;
  auto f = T::prim_func("bool_arithmetic", [&] {
    auto X = T::Tensor("X", {N}, T::int32);
    auto Y = T::Tensor("Y", {5, N}, T::int32);
    auto F = T::Tensor("F", {N}, T::float32);
    auto B = T::Tensor("B", {N}, T::bool_);
    T::Kernel(1, T::threads(32), [&](T::Expr) {
      T::Parallel(N, [&](T::Expr i) {
        T::Expr x = X(i);
        T::Expr sum = (x > 0) + (x > 3);
        sum_type = sum.dtype();
        Y(0, i) = sum;
        Y(1, i) = (x > 0) - (x > 3) - (x > 5);
        Y(2, i) = (x > 0) * 7 + (x < 0) * T::Expr(true);
        Y(3, i) = T::max(x > 2, x > 5) + T::min(x > 2, x > 5);
        Y(4, i) = (x > 0) + true + 1;
        F(i) = (x > 0) + 0.5f;
        B(i) = (x > 0) + (x > 3);  // 0, 1 or 2 stored as a bool: nonzero is true
      });
    });
  });
  EXPECT_EQ(sum_type, DataType::Int32);
  Tensor X = tensor_from({N}, DataType::Int32, [](const Shape& i) { return double(i[0] - 8); });
  Tensor Y = poisoned({5, N}, DataType::Int32), F = poisoned({N}, DataType::Float32), B = poisoned({N}, DataType::Bool);
  cpu(f)(X, Y, F, B);
  for (int i = 0; i < N; ++i) {
    const int x = i - 8;
    EXPECT_EQ(Y.get({0, i}), (x > 0) + (x > 3)) << x;
    EXPECT_EQ(Y.get({1, i}), (x > 0) - (x > 3) - (x > 5)) << x;
    EXPECT_EQ(Y.get({2, i}), (x > 0) * 7 + (x < 0) * true) << x;
    EXPECT_EQ(Y.get({3, i}), std::max<int>(x > 2, x > 5) + std::min<int>(x > 2, x > 5)) << x;
    EXPECT_EQ(Y.get({4, i}), (x > 0) + true + 1) << x;
    EXPECT_EQ(F.get({i}), (x > 0) + 0.5) << x;
    EXPECT_EQ(B.get({i}), bool((x > 0) + (x > 3))) << x;
  }
}

// int8 arithmetic wraps around (two's complement), as the GPU's 8-bit registers do after a store.
TEST(IntegerOverflow, Int8Wraps) {
  const std::int64_t N = 64;
  auto f = T::prim_func("int8_wrap", [&] {
    auto A = T::Tensor("A", {N}, T::int8);
    auto B = T::Tensor("B", {N}, T::int8);
    auto C = T::Tensor("C", {3, N}, T::int8);
    T::Kernel(1, T::threads(32), [&](T::Expr) {
      T::Parallel(N, [&](T::Expr i) {
        C(0, i) = A(i) + B(i);
        C(1, i) = A(i) * B(i);
        C(2, i) = A(i) - B(i) - 100;
      });
    });
  });
  Tensor A = random_tensor({N}, DataType::Int8, 85, -128, 128), B = random_tensor({N}, DataType::Int8, 86, -128, 128);
  A.set({0}, 100), B.set({0}, 100);  // 200 wraps to -56
  Tensor C = poisoned({3, N}, DataType::Int8);
  cpu(f)(A, B, C);
  EXPECT_EQ(C.get({0, 0}), -56);
  for (int i = 0; i < N; ++i) {
    const auto a = static_cast<int>(A.get({i})), b = static_cast<int>(B.get({i}));
    EXPECT_EQ(C.get({0, i}), static_cast<std::int8_t>(a + b)) << a << " + " << b;
    EXPECT_EQ(C.get({1, i}), static_cast<std::int8_t>(a * b)) << a << " * " << b;
    EXPECT_EQ(C.get({2, i}), static_cast<std::int8_t>(static_cast<std::int8_t>(a - b) - 100)) << a << " - " << b;
  }
}

TEST(IntegerOverflow, Int32WrapsAndShifts) {
  auto f = T::prim_func("int32_wrap", [&] {
    auto A = T::Tensor("A", {1}, T::int32);
    auto Y = T::Tensor("Y", {6}, T::int32);
    T::Kernel(1, T::threads(32), [&](T::Expr) {
      Y(0) = A(0) + 1;                 // INT_MAX + 1
      Y(1) = A(0) * 2;
      Y(2) = (A(0) >> 4) & 0xff;
      Y(3) = T::cast(1, T::int32) << 31;
      Y(4) = -(A(0) + 1);              // -INT_MIN wraps to INT_MIN
      Y(5) = (A(0) ^ 0x0f0f0f0f) | 1;
    });
  });
  Tensor A = Tensor::empty({1}, DataType::Int32);
  A.set({0}, 2147483647);
  Tensor Y = poisoned({6}, DataType::Int32);
  cpu(f)(A, Y);
  const std::int32_t a = 2147483647;
  EXPECT_EQ(Y.get({0}), -2147483648.0);
  EXPECT_EQ(Y.get({1}), -2);
  EXPECT_EQ(Y.get({2}), (a >> 4) & 0xff);
  EXPECT_EQ(Y.get({3}), -2147483648.0);
  EXPECT_EQ(Y.get({4}), -2147483648.0);
  EXPECT_EQ(Y.get({5}), (a ^ 0x0f0f0f0f) | 1);
}

TEST(IntegerMath, AbsMinMaxAndSelect) {
  const std::int64_t N = 7;
  const int v[N] = {-5, 0, 7, -2147483647, 2147483647, -1, 3};
  Tensor X = tensor_from({N}, DataType::Int32, [&](const Shape& i) { return v[i[0]]; });
  auto f = T::prim_func("int_math", [&] {
    auto x = T::Tensor("X", {N}, T::int32);
    auto Y = T::Tensor("Y", {4, N}, T::int32);
    T::Kernel(1, T::threads(32), [&](T::Expr) {
      T::Parallel(N, [&](T::Expr i) {
        Y(0, i) = T::abs(x(i));
        Y(1, i) = T::min(x(i), 2);
        Y(2, i) = T::max(x(i), -3);
        Y(3, i) = T::if_then_else(x(i) % 2 == 0, x(i) / 2, x(i) * 3 + 1);
      });
    });
  });
  Tensor Y = poisoned({4, N}, DataType::Int32);
  cpu(f)(X, Y);
  for (int i = 0; i < N; ++i) {
    EXPECT_EQ(Y.get({0, i}), std::abs(v[i])) << v[i];
    EXPECT_EQ(Y.get({1, i}), std::min(v[i], 2)) << v[i];
    EXPECT_EQ(Y.get({2, i}), std::max(v[i], -3)) << v[i];
    EXPECT_EQ(Y.get({3, i}), v[i] % 2 == 0 ? v[i] / 2 : static_cast<std::int32_t>(std::uint32_t(v[i]) * 3u + 1u)) << v[i];
  }
}

// Special values: infinity, max/min_value, NaN propagation through max.
TEST(Constants, InfinityAndLimits) {
  auto f = T::prim_func("limits", [&] {
    auto Y = T::Tensor("Y", {6}, T::float32);
    auto Z = T::Tensor("Z", {2}, T::int8);
    auto H = T::Tensor("H", {1}, T::float16);
    T::Kernel(1, T::threads(32), [&](T::Expr) {
      Y(0) = T::infinity(T::float32);
      Y(1) = -T::infinity(T::float32);
      Y(2) = T::max_value(T::float32);
      Y(3) = T::cast(T::max_value(T::float16), T::float32);
      Y(4) = T::exp(-T::infinity(T::float32));
      Y(5) = T::cast(T::min_value(T::bfloat16), T::float32);
      Z(0) = T::max_value(T::int8);
      Z(1) = T::min_value(T::int8);
      H(0) = T::max_value(T::float16) * 2;  // overflows to +inf in float16
    });
  });
  Tensor Y = poisoned({6}, DataType::Float32), Z = poisoned({2}, DataType::Int8), H = poisoned({1}, DataType::Float16);
  cpu(f)(Y, Z, H);
  EXPECT_EQ(Y.get({0}), INFINITY);
  EXPECT_EQ(Y.get({1}), -INFINITY);
  EXPECT_EQ(Y.get({2}), double(std::numeric_limits<float>::max()));
  EXPECT_EQ(Y.get({3}), 65504);
  EXPECT_EQ(Y.get({4}), 0);
  EXPECT_EQ(Y.get({5}), -max_finite(DataType::BFloat16));
  EXPECT_EQ(Z.get({0}), 127);
  EXPECT_EQ(Z.get({1}), -128);
  EXPECT_EQ(H.get({0}), INFINITY);
}

}  // namespace
}  // namespace tilescale::test
