// layernorm: Y = (X - mean) / sqrt(var + eps) * gamma + beta over each row of X [M, N], with X,
// gamma [N], beta [N] and Y in float16, the statistics in float32 (eps = 1e-5, the biased variance
// of torch.nn.LayerNorm).
//
// Each block owns BM whole rows in a float32 fragment. The mean and the variance are two
// reduce_sums, the variance taken over the centred values (two passes, which does not lose digits
// to cancellation the way E[x²] - E[x]² does). gamma and beta are staged once per block in shared
// memory, where any thread can read any column. Rows past M read as zeros (mean 0, variance 0,
// finite output) and are never written back.
#include "examples_list.h"
#include "reference.h"

#include <cmath>

namespace tilescale::examples {
namespace {

namespace T = tilescale::lang;

constexpr double kEps = 1e-5;

// Rows per block: a power of two, about 4096 / N, at least 1.
int rows_per_block(std::int64_t N) {
  int bm = 1;
  while (bm < 64 && 2 * bm * N <= 4096) bm *= 2;
  return bm;
}

// Knobs in the sizes: BM (rows per block, 0 = rows_per_block(N)) and threads.
T::PrimFunc layernorm_program(const Sizes& sizes) {
  const std::int64_t M = size_of(sizes, "M"), N = size_of(sizes, "N");
  const int BM = size_of(sizes, "BM") > 0 ? static_cast<int>(size_of(sizes, "BM")) : rows_per_block(N);
  const int kThreads = static_cast<int>(size_of(sizes, "threads"));
  const double inv_n = 1.0 / static_cast<double>(N);
  return T::prim_func("layernorm", [&] {
    auto X = T::Tensor("X", {M, N}, T::float16);
    auto gamma = T::Tensor("gamma", {N}, T::float16);
    auto beta = T::Tensor("beta", {N}, T::float16);
    auto Y = T::Tensor("Y", {M, N}, T::float16);
    T::Kernel(T::ceildiv(M, BM), T::threads(kThreads), [&](T::Expr bx) {
      auto gamma_shared = T::alloc_shared({N}, T::float16, "gamma_shared");
      auto beta_shared = T::alloc_shared({N}, T::float16, "beta_shared");
      auto x = T::alloc_fragment({BM, N}, T::float32, "x");
      auto squares = T::alloc_fragment({BM, N}, T::float32, "squares");
      auto mean = T::alloc_fragment({BM}, T::float32, "mean");
      auto rstd = T::alloc_fragment({BM}, T::float32, "rstd");
      T::copy(gamma, gamma_shared);
      T::copy(beta, beta_shared);
      T::copy(X(bx * BM, 0), x);

      T::reduce_sum(x, mean, 1);
      T::Parallel(BM, [&](T::Expr i) { mean(i) = mean(i) * inv_n; });
      T::Parallel(BM, N, [&](T::Expr i, T::Expr j) {
        x(i, j) = x(i, j) - mean(i);
        squares(i, j) = x(i, j) * x(i, j);
      });
      T::reduce_sum(squares, rstd, 1);
      T::Parallel(BM, [&](T::Expr i) { rstd(i) = T::rsqrt(rstd(i) * inv_n + kEps); });

      T::Parallel(BM, N, [&](T::Expr i, T::Expr j) {
        x(i, j) = x(i, j) * rstd(i) * T::cast(gamma_shared(j), T::float32) + T::cast(beta_shared(j), T::float32);
      });
      T::copy(x, Y(bx * BM, 0));
    });
  });
}

// Reference: two-pass statistics in double. The float32 statistics differ by ~1e-6 relative; the
// outputs that cancel to near zero (x̂·gamma ≈ -beta) lose at most ~1e-6 absolute against a floor
// of ~3e-3, so the float16 rounding bound of kFloat16OutputTolerance applies.
CheckResult check_layernorm(const Kernel& kernel, const Sizes& sizes, std::uint64_t seed) {
  const std::int64_t M = size_of(sizes, "M"), N = size_of(sizes, "N");
  // X in [-1, 3): rows with a mean far from zero, so that a missing centring is visible.
  Tensor X = random_input({M, N}, DataType::Float16, seed, 0, -1.0, 3.0);
  Tensor gamma = random_input({N}, DataType::Float16, seed, 1, 0.5, 1.5);
  Tensor beta = random_input({N}, DataType::Float16, seed, 2, -1.0, 1.0);
  Tensor Y = poisoned_output({M, N}, DataType::Float16);
  run_kernel(kernel, {X, gamma, beta, Y});

  std::vector<double> x = values(X), g = values(gamma), b = values(beta), y(M * N);
  for (std::int64_t i = 0; i < M; ++i) {
    const double* row = &x[i * N];
    double mean = 0, var = 0;
    for (std::int64_t j = 0; j < N; ++j) mean += row[j];
    mean /= static_cast<double>(N);
    for (std::int64_t j = 0; j < N; ++j) var += (row[j] - mean) * (row[j] - mean);
    var /= static_cast<double>(N);
    const double rstd = 1.0 / std::sqrt(var + kEps);
    for (std::int64_t j = 0; j < N; ++j) y[i * N + j] = (row[j] - mean) * rstd * g[j] + b[j];
  }
  return compare(Y, y, kFloat16OutputTolerance);
}

}  // namespace

Example layernorm_example() {
  return Example{
      .name = "layernorm",
      .description = "row-wise LayerNorm with gamma and beta, float16 in and out, float32 statistics",
      .default_sizes = {{"M", 4096}, {"N", 1024}, {"BM", 0}, {"threads", 128}},
      .test_sizes = {{"M", 70}, {"N", 128}, {"BM", 0}, {"threads", 128}},
      .build = layernorm_program,
      .check = check_layernorm,
  };
}

}  // namespace tilescale::examples
