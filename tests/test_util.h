// Helpers shared by the correctness and error tests: tensors with random or poisoned contents,
// CPU compilation, comparison against plain C++ references, and error-message matching.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <limits>
#include <string>
#include <typeinfo>
#include <vector>

#include "tilescale/tilescale.h"

namespace tilescale::test {

namespace T = tilescale::lang;
using Shape = std::vector<std::int64_t>;

inline Tensor random_tensor(Shape shape, DataType t, std::uint64_t seed, double lo = -1.0, double hi = 1.0) {
  Tensor x = Tensor::empty(std::move(shape), t);
  x.fill_random(seed, lo, hi);
  return x;
}

// Poison: NaN for floats, a recognisable sentinel for integers, so an element the kernel should
// have written but did not shows up in the comparison.
inline double poison_value(DataType t) {
  if (is_float(t)) return std::numeric_limits<double>::quiet_NaN();
  if (is_bool(t)) return 1;
  return bits(t) == 8 ? (is_signed(t) ? -77 : 177) : -7777;
}

inline Tensor poisoned(Shape shape, DataType t) {
  Tensor x = Tensor::empty(std::move(shape), t);
  x.fill(poison_value(t));
  return x;
}

// A tensor whose element at `index` is f(index), stored in t (rounded as t rounds).
inline Tensor tensor_from(Shape shape, DataType t, const std::function<double(const Shape&)>& f) {
  Tensor x = Tensor::empty(shape, t);
  Shape idx(shape.size(), 0);
  for (std::int64_t n = 0; n < x.numel(); ++n) {
    std::int64_t rest = n;
    for (int d = static_cast<int>(shape.size()) - 1; d >= 0; --d) {
      idx[d] = rest % shape[d];
      rest /= shape[d];
    }
    x.set(idx, f(idx));
  }
  return x;
}

inline Tensor copy_of(const Tensor& x) {
  Tensor y = Tensor::empty(x.shape(), x.dtype());
  for (std::int64_t i = 0; i < x.numel(); ++i) y.set_flat(i, x.get_flat(i));
  return y;
}

// Tolerance for float32 results of sums (gemm, reductions, cumsum, atomics) against a double
// reference: each float32 rounding costs 2^-24 relative to the partial sum, and max_relative_error
// measures against a floor of 1e-3·max|expected|, so an element that cancels to near zero sees the
// sum's rounding magnified up to ~1000x: tens of roundings of 6e-8 then stay below 1e-4, while a
// missing or doubled term (≥ 1e-3 of the peak) does not.
inline constexpr double kFloat32SumTolerance = 1e-4;

inline Kernel cpu(const T::PrimFunc& f) { return compile(f, Target::CPU); }

// got ≈ expected within `tol` (tilescale::max_relative_error), with the worst element described.
inline ::testing::AssertionResult close(const Tensor& got, const Tensor& expected, double tol) {
  const double err = max_relative_error(got, expected);
  if (err <= tol) return ::testing::AssertionSuccess();
  auto failure = ::testing::AssertionFailure();
  failure << "max relative error " << err << " > " << tol << " (" << got.describe() << " vs " << expected.describe() << ")";
  if (got.shape() == expected.shape()) {
    int shown = 0;
    for (std::int64_t i = 0; i < got.numel() && shown < 5; ++i) {
      const double g = got.get_flat(i), e = expected.get_flat(i);
      const bool bad = std::isnan(g) != std::isnan(e) || (!std::isnan(g) && std::fabs(g - e) > tol * std::max(1.0, std::fabs(e)));
      if (bad) {
        failure << "\n  flat index " << i << ": got " << g << ", expected " << e;
        ++shown;
      }
    }
  }
  return failure;
}

// Every element bit-identical as double (NaN equal to NaN).
inline ::testing::AssertionResult equal(const Tensor& got, const Tensor& expected) {
  if (got.shape() != expected.shape())
    return ::testing::AssertionFailure() << "shape " << got.describe() << " vs " << expected.describe();
  int shown = 0;
  auto failure = ::testing::AssertionFailure();
  for (std::int64_t i = 0; i < got.numel(); ++i) {
    const double g = got.get_flat(i), e = expected.get_flat(i);
    if (g == e || (std::isnan(g) && std::isnan(e))) continue;
    if (shown++ < 8) failure << "\n  flat index " << i << ": got " << g << ", expected " << e;
  }
  if (shown == 0) return ::testing::AssertionSuccess();
  return failure << "\n  (" << shown << " elements differ)";
}

// Runs f and checks that it throws exactly `Error` (CompileError, RuntimeError...) whose message
// contains every one of `parts`.
template <typename Error>
::testing::AssertionResult throws(const std::function<void()>& f, std::initializer_list<std::string> parts) {
  try {
    f();
  } catch (const Error& e) {
    if (typeid(e) != typeid(Error))
      return ::testing::AssertionFailure() << "threw a subclass " << typeid(e).name() << ": " << e.what();
    const std::string msg = e.what();
    for (const auto& p : parts)
      if (msg.find(p) == std::string::npos)
        return ::testing::AssertionFailure() << "message lacks \"" << p << "\":\n  " << msg;
    // TILESCALE_TEST_SHOW_MESSAGES=1 prints every expected message, to review their wording.
    if (std::getenv("TILESCALE_TEST_SHOW_MESSAGES")) std::printf("    [%s] %s\n", typeid(Error).name(), msg.c_str());
    return ::testing::AssertionSuccess() << msg;
  } catch (const tilescale::Error& e) {
    return ::testing::AssertionFailure() << "threw the wrong class " << typeid(e).name() << ": " << e.what();
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << "threw a non-tilescale exception " << typeid(e).name() << ": " << e.what();
  }
  return ::testing::AssertionFailure() << "did not throw";
}

// The message of the CompileError/RuntimeError f throws ("" when it throws nothing).
inline std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

}  // namespace tilescale::test

#define EXPECT_COMPILE_ERROR(stmt, ...) \
  EXPECT_TRUE(::tilescale::test::throws<::tilescale::CompileError>([&] { stmt; }, {__VA_ARGS__}))
#define EXPECT_RUNTIME_ERROR(stmt, ...) \
  EXPECT_TRUE(::tilescale::test::throws<::tilescale::RuntimeError>([&] { stmt; }, {__VA_ARGS__}))
