// The √P × √P process mesh of cannon and summa: rank r sits at row r / q, column r % q, and owns
// the (row, column) block of every matrix: M/q × K/q of A, K/q × N/q of B, M/q × N/q of C.
#pragma once

#include <cmath>
#include <string>

#include "reference.h"
#include "support.h"

namespace tilescale::examples {

// q, when `ranks` is a perfect square; 0 otherwise.
inline int mesh_side(int ranks) {
  const int q = static_cast<int>(std::lround(std::sqrt(static_cast<double>(ranks))));
  return q * q == ranks ? q : 0;
}

// Why the mesh examples cannot run: P not a square, or the blocks not one GEMM tile each.
inline std::string mesh_unsupported(const Sizes& s, int ranks, std::int64_t tile_k) {
  const int q = mesh_side(ranks);
  if (q == 0) return detail::cat(ranks, " ranks do not form a square mesh (use 1, 4, 9, 16...)");
  for (const char* n : {"M", "N", "K"})
    if (size_of(s, n) % q != 0) return detail::cat(n, "=", size_of(s, n), " is not a multiple of the mesh side ", q);
  for (const char* n : {"M", "N"}) {
    const std::int64_t b = size_of(s, n) / q;
    if (b % 32 != 0 || b > 128)
      return detail::cat("the ", n, " block ", n, "/", q, "=", b, " is not a multiple of 32 up to 128 (one GEMM tile per rank)");
  }
  if ((size_of(s, "K") / q) % tile_k != 0)
    return detail::cat("the K block K/", q, "=", size_of(s, "K") / q, " is not a multiple of the K tile ", tile_k);
  return "";
}

// Block (bi, bj) of the row-major [rows, cols] matrix `m`, as values.
inline std::vector<double> block_of(const std::vector<double>& m, std::int64_t cols, std::int64_t bi, std::int64_t bj,
                                    std::int64_t brows, std::int64_t bcols) {
  std::vector<double> out;
  for (std::int64_t i = 0; i < brows; ++i)
    for (std::int64_t j = 0; j < bcols; ++j) out.push_back(m[(bi * brows + i) * cols + bj * bcols + j]);
  return out;
}

// Sets the elements of the CPU tensor `t` (contiguous, from `offset`) to `v`.
inline void store_values(const Tensor& t, std::int64_t offset, const std::vector<double>& v) {
  for (std::size_t i = 0; i < v.size(); ++i) t.set_flat(offset + static_cast<std::int64_t>(i), v[i]);
}

// The check of a mesh GEMM: the C block of each rank of world.local_ranks() (c[r], on the host)
// against its block of A·B, computed in double.
inline CheckResult check_mesh_product(const dist::World& world, const std::vector<Tensor>& c, const std::vector<double>& a,
                                      const std::vector<double>& b, std::int64_t M, std::int64_t N, std::int64_t K, int q) {
  const std::vector<double> full = matmul(a, b, M, N, K);
  return check_local_ranks(world, [&](int r) {
    return compare(c[r], block_of(full, N, r / q, r % q, M / q, N / q), kFloat32SumTolerance);
  });
}

}  // namespace tilescale::examples
