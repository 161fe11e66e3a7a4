// T::reduce_* and T::cumsum on the CPU backend against plain loops.
#include <algorithm>

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

}  // namespace
}  // namespace tilescale::test
