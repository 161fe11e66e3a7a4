// T::reduce_* and T::cumsum on the CPU backend against plain loops.
#include <algorithm>
#include <type_traits>

#include "test_util.h"

namespace tilescale::test {
namespace {

enum class Kind { Sum, Max, Min, AbsSum, AbsMax };
const char* kind_name(Kind k) {
  switch (k) {
    case Kind::Sum: return "sum";
    case Kind::Max: return "max";
    case Kind::Min: return "min";
    case Kind::AbsSum: return "abssum";
    case Kind::AbsMax: return "absmax";
  }
  return "?";
}

void emit_reduce(Kind k, const T::TileRef& src, const T::TileRef& dst, int dim, bool clear) {
  switch (k) {
    case Kind::Sum: return T::reduce_sum(src, dst, dim, clear);
    case Kind::Max: return T::reduce_max(src, dst, dim, clear);
    case Kind::Min: return T::reduce_min(src, dst, dim, clear);
    case Kind::AbsSum: return T::reduce_abssum(src, dst, dim, clear);
    case Kind::AbsMax: return T::reduce_absmax(src, dst, dim, clear);
  }
}

// Reduction of `values`, then combined with `prev` when not clearing.
double reference(Kind k, const std::vector<double>& values, bool clear, double prev) {
  double acc = k == Kind::Max ? -INFINITY : k == Kind::Min ? INFINITY : 0.0;
  for (double v : values) {
    switch (k) {
      case Kind::Sum: acc += v; break;
      case Kind::AbsSum: acc += std::fabs(v); break;
      case Kind::Max: acc = std::max(acc, v); break;
      case Kind::Min: acc = std::min(acc, v); break;
      case Kind::AbsMax: acc = std::max(acc, std::fabs(v)); break;
    }
  }
  if (clear) return acc;
  switch (k) {
    case Kind::Sum:
    case Kind::AbsSum: return prev + acc;
    case Kind::Min: return std::min(prev, acc);
    default: return std::max(prev, acc);
  }
}

struct ReduceCase {
  Kind kind;
  int dim;
  bool clear;
};

class Reduce : public ::testing::TestWithParam<ReduceCase> {};

// src [R, C] (24×40) → dst [C] (dim 0) or [R] (dim 1); with clear=false dst starts from P.
TEST_P(Reduce, MatchesReference) {
  const auto c = GetParam();
  const std::int64_t R = 24, C = 40, G = 3;  // G blocks, each its own slice
  const std::int64_t out = c.dim == 0 ? C : R;
  auto f = T::prim_func("reduce", [&] {
    auto X = T::Tensor("X", {G, R, C}, T::float32);
    auto P = T::Tensor("P", {G, out}, T::float32);
    auto Y = T::Tensor("Y", {G, out}, T::float32);
    T::Kernel(G, T::threads(128), [&](T::Expr bx) {
      auto src = T::alloc_fragment({R, C}, T::float32, "src");
      auto dst = T::alloc_fragment({out}, T::float32, "dst");
      T::copy(X(bx, 0, 0), src);
      T::copy(P(bx, 0), dst);
      emit_reduce(c.kind, src, dst, c.dim, c.clear);
      T::copy(dst, Y(bx, 0));
    });
  });
  Tensor X = random_tensor({G, R, C}, DataType::Float32, 31, -2, 1);
  Tensor P = random_tensor({G, out}, DataType::Float32, 32, -3, 3);
  Tensor Y = poisoned({G, out}, DataType::Float32);
  cpu(f)(X, P, Y);
  Tensor expected = tensor_from({G, out}, DataType::Float32, [&](const Shape& i) {
    std::vector<double> v;
    const std::int64_t n = c.dim == 0 ? R : C;
    for (std::int64_t k = 0; k < n; ++k) v.push_back(c.dim == 0 ? X.get({i[0], k, i[1]}) : X.get({i[0], i[1], k}));
    return reference(c.kind, v, c.clear, P.get(i));
  });
  EXPECT_TRUE(close(Y, expected, kFloat32SumTolerance));
}

std::vector<ReduceCase> all_reduce_cases() {
  std::vector<ReduceCase> cases;
  for (Kind k : {Kind::Sum, Kind::Max, Kind::Min, Kind::AbsSum, Kind::AbsMax})
    for (int dim : {0, 1})
      for (bool clear : {true, false}) cases.push_back({k, dim, clear});
  return cases;
}

INSTANTIATE_TEST_SUITE_P(AllKinds, Reduce, ::testing::ValuesIn(all_reduce_cases()), [](const auto& info) {
  return std::string(kind_name(info.param.kind)) + "_dim" + std::to_string(info.param.dim) +
         (info.param.clear ? "_clear" : "_accumulate");
});

// Reducing a shared tile in float16 into a float32 fragment (the row maxima of softmax).
TEST(ReduceMixed, Float16SharedIntoFloat32Fragment) {
  const std::int64_t R = 16, C = 64;
  auto f = T::prim_func("reduce_mixed", [&] {
    auto X = T::Tensor("X", {R, C}, T::float16);
    auto Y = T::Tensor("Y", {R}, T::float32);
    T::Kernel(1, T::threads(64), [&](T::Expr) {
      auto S = T::alloc_shared({R, C}, T::float16);
      auto m = T::alloc_fragment({R}, T::float32);
      T::copy(X, S);
      T::reduce_max(S, m, 1);
      T::copy(m, Y);
    });
  });
  Tensor X = random_tensor({R, C}, DataType::Float16, 33), Y = poisoned({R}, DataType::Float32);
  cpu(f)(X, Y);
  Tensor expected = tensor_from({R}, DataType::Float32, [&](const Shape& i) {
    double m = -INFINITY;
    for (std::int64_t j = 0; j < C; ++j) m = std::max(m, X.get({i[0], j}));
    return m;
  });
  EXPECT_TRUE(equal(Y, expected));
}

// Integer reductions are exact: they accumulate in 32 or 64 bits (64 when src or dst has 64,
// unsigned when src is), wrapping as integer hardware does, and the result is stored wrapped to
// dst's type. The reference follows that rule with C++ integers; inputs are random bit patterns
// (so sums wrap and 64-bit values lie far beyond double's 2^53) with the type's lowest value
// planted, whose absolute value wraps to itself.
template <class C>
C raw(const Tensor& t, std::int64_t i) {
  return static_cast<const C*>(t.data())[i];
}

template <class C>
void fill_bits(const Tensor& t, std::uint64_t seed) {
  std::uint64_t x = seed * 0x9e3779b97f4a7c15ULL + 1;
  for (std::int64_t i = 0; i < t.numel(); ++i) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    static_cast<C*>(t.data())[i] = static_cast<C>(x);
  }
  static_cast<C*>(t.data())[0] = std::numeric_limits<C>::lowest();
}

template <class Acc>
Acc fold_reference(Kind k, Acc acc, Acc x) {
  using U = std::make_unsigned_t<Acc>;
  if ((k == Kind::AbsSum || k == Kind::AbsMax) && x < 0) x = static_cast<Acc>(U(0) - U(x));
  switch (k) {
    case Kind::Sum:
    case Kind::AbsSum: return static_cast<Acc>(U(acc) + U(x));
    case Kind::Min: return std::min(acc, x);
    default: return std::max(acc, x);
  }
}

// src [G, R, C] of Src reduced along dim 2 into dst [G, R] of Dst (starting from P when not
// clearing), accumulating in Acc.
template <class Src, class Dst, class Acc>
void check_integer_reduce(DataType src_t, DataType dst_t, Kind k, bool clear) {
  SCOPED_TRACE(std::string(name(src_t)) + " -> " + name(dst_t) + " " + kind_name(k) + (clear ? "" : " accumulate"));
  const std::int64_t G = 2, R = 6, C = 40;
  auto f = T::prim_func("reduce_int", [&] {
    auto X = T::Tensor("X", {G, R, C}, src_t);
    auto P = T::Tensor("P", {G, R}, dst_t);
    auto Y = T::Tensor("Y", {G, R}, dst_t);
    T::Kernel(G, T::threads(32), [&](T::Expr bx) {
      auto src = T::alloc_fragment({R, C}, src_t, "src");
      auto dst = T::alloc_fragment({R}, dst_t, "dst");
      T::copy(X(bx, 0, 0), src);
      T::copy(P(bx, 0), dst);
      emit_reduce(k, src, dst, 1, clear);
      T::copy(dst, Y(bx, 0));
    });
  });
  Tensor X = Tensor::empty({G, R, C}, src_t), P = Tensor::empty({G, R}, dst_t), Y = poisoned({G, R}, dst_t);
  fill_bits<Src>(X, 41);
  fill_bits<Dst>(P, 42);
  cpu(f)(X, P, Y);
  using U = std::make_unsigned_t<Acc>;
  const Acc lowest = std::numeric_limits<Acc>::lowest(), largest = std::numeric_limits<Acc>::max();
  for (std::int64_t row = 0; row < G * R; ++row) {
    Acc acc = k == Kind::Max ? lowest : k == Kind::Min ? largest : 0;
    for (std::int64_t c = 0; c < C; ++c) acc = fold_reference<Acc>(k, acc, static_cast<Acc>(raw<Src>(X, row * C + c)));
    if (!clear) {
      const Acc old = static_cast<Acc>(raw<Dst>(P, row));
      acc = k == Kind::Sum || k == Kind::AbsSum ? static_cast<Acc>(U(old) + U(acc)) : fold_reference<Acc>(k == Kind::AbsMax ? Kind::Max : k, old, acc);
    }
    EXPECT_EQ(raw<Dst>(Y, row), static_cast<Dst>(acc)) << "row " << row;
  }
}

TEST(IntegerReduce, ExactInTheAccumulatorWidthForEveryType) {
  for (Kind k : {Kind::Sum, Kind::Max, Kind::Min, Kind::AbsSum, Kind::AbsMax})
    for (bool clear : {true, false}) {
      check_integer_reduce<std::int8_t, std::int8_t, std::int32_t>(DataType::Int8, DataType::Int8, k, clear);
      check_integer_reduce<std::int16_t, std::int16_t, std::int32_t>(DataType::Int16, DataType::Int16, k, clear);
      check_integer_reduce<std::int32_t, std::int32_t, std::int32_t>(DataType::Int32, DataType::Int32, k, clear);
      check_integer_reduce<std::int64_t, std::int64_t, std::int64_t>(DataType::Int64, DataType::Int64, k, clear);
      check_integer_reduce<std::uint8_t, std::uint8_t, std::uint32_t>(DataType::UInt8, DataType::UInt8, k, clear);
      check_integer_reduce<std::uint16_t, std::uint16_t, std::uint32_t>(DataType::UInt16, DataType::UInt16, k, clear);
      check_integer_reduce<std::uint32_t, std::uint32_t, std::uint32_t>(DataType::UInt32, DataType::UInt32, k, clear);
      check_integer_reduce<std::uint64_t, std::uint64_t, std::uint64_t>(DataType::UInt64, DataType::UInt64, k, clear);
      // Mixed widths: a 64-bit side makes the accumulator 64-bit (an int32 sum does not wrap at 2^31).
      check_integer_reduce<std::int32_t, std::int64_t, std::int64_t>(DataType::Int32, DataType::Int64, k, clear);
      check_integer_reduce<std::int64_t, std::int32_t, std::int64_t>(DataType::Int64, DataType::Int32, k, clear);
      check_integer_reduce<std::int8_t, std::int32_t, std::int32_t>(DataType::Int8, DataType::Int32, k, clear);
    }
}

struct CumsumCase {
  int dim;
  bool reverse;
};

class Cumsum : public ::testing::TestWithParam<CumsumCase> {};

TEST_P(Cumsum, MatchesReference) {
  const auto c = GetParam();
  const std::int64_t R = 12, C = 20;
  auto f = T::prim_func("cumsum", [&] {
    auto X = T::Tensor("X", {R, C}, T::float32);
    auto Y = T::Tensor("Y", {R, C}, T::float32);
    T::Kernel(1, T::threads(32), [&](T::Expr) {
      auto S = T::alloc_shared({R, C}, T::float32);
      auto F = T::alloc_fragment({R, C}, T::float32);
      T::copy(X, S);
      T::cumsum(S, F, c.dim, c.reverse);
      T::copy(F, Y);
    });
  });
  Tensor X = random_tensor({R, C}, DataType::Float32, 34), Y = poisoned({R, C}, DataType::Float32);
  cpu(f)(X, Y);
  Tensor expected = tensor_from({R, C}, DataType::Float32, [&](const Shape& i) {
    const std::int64_t n = c.dim == 0 ? R : C, at = i[c.dim];
    double s = 0;
    for (std::int64_t k = 0; k < n; ++k) {
      const bool included = c.reverse ? k >= at : k <= at;
      if (included) s += c.dim == 0 ? X.get({k, i[1]}) : X.get({i[0], k});
    }
    return s;
  });
  EXPECT_TRUE(close(Y, expected, kFloat32SumTolerance));
}

INSTANTIATE_TEST_SUITE_P(DimsAndDirections, Cumsum,
                         ::testing::Values(CumsumCase{0, false}, CumsumCase{0, true}, CumsumCase{1, false},
                                           CumsumCase{1, true}),
                         [](const auto& info) {
                           return "dim" + std::to_string(info.param.dim) + (info.param.reverse ? "_reverse" : "_forward");
                         });

// In-place cumsum of a 1-D fragment (src and dst the same buffer).
TEST(CumsumInPlace, OneDimensional) {
  const std::int64_t N = 50;
  auto f = T::prim_func("cumsum_1d", [&] {
    auto X = T::Tensor("X", {N}, T::int32);
    auto Y = T::Tensor("Y", {N}, T::int32);
    T::Kernel(1, T::threads(32), [&](T::Expr) {
      auto F = T::alloc_fragment({N}, T::int32);
      T::copy(X, F);
      T::cumsum(F, F);
      T::copy(F, Y);
    });
  });
  Tensor X = random_tensor({N}, DataType::Int32, 35, -100, 100), Y = poisoned({N}, DataType::Int32);
  cpu(f)(X, Y);
  double run = 0;
  Tensor expected = tensor_from({N}, DataType::Int32, [&](const Shape& i) { return run += X.get(i); });
  EXPECT_TRUE(equal(Y, expected));
}

// Integer prefix sums are exact, wrapping in dst's type (int64 sums went through double and lost
// their low bits beyond 2^53).
TEST(CumsumInteger, Int64IsExactAndWraps) {
  const std::int64_t R = 4, C = 40;
  for (bool reverse : {false, true}) {
    auto f = T::prim_func("cumsum_int64", [&] {
      auto X = T::Tensor("X", {R, C}, T::int64);
      auto Y = T::Tensor("Y", {R, C}, T::int64);
      T::Kernel(1, T::threads(32), [&](T::Expr) {
        auto S = T::alloc_shared({R, C}, T::int64, "S");
        auto P = T::alloc_shared({R, C}, T::int64, "P");
        T::copy(X, S);
        T::cumsum(S, P, 1, reverse);
        T::copy(P, Y);
      });
    });
    Tensor X = Tensor::empty({R, C}, DataType::Int64), Y = poisoned({R, C}, DataType::Int64);
    fill_bits<std::int64_t>(X, 44);
    cpu(f)(X, Y);
    for (std::int64_t r = 0; r < R; ++r) {
      std::uint64_t run = 0;
      for (std::int64_t k = 0; k < C; ++k) {
        const std::int64_t c = reverse ? C - 1 - k : k;
        run += static_cast<std::uint64_t>(raw<std::int64_t>(X, r * C + c));
        EXPECT_EQ(raw<std::int64_t>(Y, r * C + c), static_cast<std::int64_t>(run)) << r << ", " << c << (reverse ? " reverse" : "");
      }
    }
  }
}

}  // namespace
}  // namespace tilescale::test
