// softmax: Y = softmax(X) along each row, X and Y [M, N] in float16, the math in float32.
//
// Each block owns BM whole rows: it copies them into a float32 fragment (the copy converts),
// reduces the row maxima, exponentiates in place, reduces the row sums and divides. The exponential
// is exp2 with the argument scaled by log2(e), the form the GPU evaluates in one instruction, as
// TileLang's kernels write it. N is the full row and static; BM is chosen so that a block holds
// about 4096 elements (32 per thread). A last block that runs past M reads zero rows, whose softmax
// is harmless, and its writes past M are dropped.
#include "examples_list.h"
#include "reference.h"

#include <algorithm>
#include <cmath>

namespace tilescale::examples {
namespace {

namespace T = tilescale::lang;

constexpr int kThreads = 128;
constexpr double kLog2e = 1.4426950408889634;

// Rows per block: a power of two, about 4096 / N, at least 1.
int rows_per_block(std::int64_t N) {
  int bm = 1;
  while (bm < 64 && 2 * bm * N <= 4096) bm *= 2;
  return bm;
}

T::PrimFunc softmax_program(const Sizes& sizes) {
  const std::int64_t M = size_of(sizes, "M"), N = size_of(sizes, "N");
  const int BM = rows_per_block(N);
  return T::prim_func("softmax", [&] {
    auto X = T::Tensor("X", {M, N}, T::float16);
    auto Y = T::Tensor("Y", {M, N}, T::float16);
    T::Kernel(T::ceildiv(M, BM), T::threads(kThreads), [&](T::Expr bx) {
      auto x = T::alloc_fragment({BM, N}, T::float32, "x");
      auto row_max = T::alloc_fragment({BM}, T::float32, "row_max");
      auto row_sum = T::alloc_fragment({BM}, T::float32, "row_sum");
      T::copy(X(bx * BM, 0), x);
      T::reduce_max(x, row_max, 1);
      T::Parallel(BM, N, [&](T::Expr i, T::Expr j) {
        x(i, j) = T::exp2(x(i, j) * kLog2e - row_max(i) * kLog2e);
      });
      T::reduce_sum(x, row_sum, 1);
      T::Parallel(BM, N, [&](T::Expr i, T::Expr j) { x(i, j) = x(i, j) / row_sum(i); });
      T::copy(x, Y(bx * BM, 0));
    });
  });
}

// Reference: every output is a positive fraction computed in float32 and rounded to float16, so
// the rounding bound of kFloat16OutputTolerance applies with no cancellation to worry about, except
// for outputs below 2^-14 ≈ 6.1e-5: float16 subnormals, rounded to a fixed absolute step of 2^-24.
// With inputs in [-2, 2) the smallest output of a row is about 0.07 / N, a subnormal from N ≈ 1200
// on; the tolerance then grows to 4x the half-step relative to the smallest output.
CheckResult check_softmax(const Kernel& kernel, const Sizes& sizes, std::uint64_t seed) {
  const std::int64_t M = size_of(sizes, "M"), N = size_of(sizes, "N");
  // [-2, 2): the outputs of a row differ by up to e^4 ≈ 55x, so a wrong max or sum is visible.
  Tensor X = random_input({M, N}, DataType::Float16, seed, 0, -2.0, 2.0);
  Tensor Y = poisoned_output({M, N}, DataType::Float16);
  run_kernel(kernel, {X, Y});

  std::vector<double> x = values(X), y(M * N);
  for (std::int64_t i = 0; i < M; ++i) {
    const double* row = &x[i * N];
    double mx = row[0];
    for (std::int64_t j = 1; j < N; ++j) mx = std::max(mx, row[j]);
    double sum = 0;
    for (std::int64_t j = 0; j < N; ++j) sum += std::exp(row[j] - mx);
    for (std::int64_t j = 0; j < N; ++j) y[i * N + j] = std::exp(row[j] - mx) / sum;
  }
  double tolerance = kFloat16OutputTolerance;
  if (!y.empty()) {
    const double largest = *std::max_element(y.begin(), y.end());
    const double smallest = std::max(*std::min_element(y.begin(), y.end()), 1e-3 * largest);
    tolerance = std::max(tolerance, 4 * std::ldexp(1.0, -25) / smallest);
  }
  return compare(Y, y, tolerance);
}

}  // namespace

Example softmax_example() {
  return Example{
      .name = "softmax",
      .description = "row-wise softmax of a float16 [M, N] matrix, float32 math, whole rows per block",
      .default_sizes = {{"M", 4096}, {"N", 1024}},
      .test_sizes = {{"M", 100}, {"N", 256}},
      .build = softmax_program,
      .check = check_softmax,
  };
}

}  // namespace tilescale::examples
