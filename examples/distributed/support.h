// Helpers shared by the distributed examples' runs: per-rank inputs in the symmetric heap,
// gathering results, combining the checks of all ranks.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "distributed_example.h"
#include "reference.h"

namespace tilescale::examples {

// Tolerance for float32 sums (P partials, a GEMM's K products) against a double reference: each
// float32 addition rounds by at most 2^-24 of the partial sum, and max_relative_error measures
// against a floor of 1e-3 of the largest expected value, so a sum that cancels to near zero sees
// those roundings magnified up to 1000x: a few hundred of them stay well below 5e-4, while a term
// missing, doubled or taken from the wrong rank (of the order of the values themselves) does not.
inline constexpr double kFloat32SumTolerance = 5e-4;

// A tensor of rank `rank`'s symmetric heap with uniform random values in [lo, hi) from (seed, rank,
// stream): every rank's inputs differ, and the host can recompute them.
Tensor symmetric_random(const dist::Rank& rank, const std::vector<std::int64_t>& shape, DataType dtype,
                        std::uint64_t seed, int stream, double lo = -1.0, double hi = 1.0);
// A tensor of the symmetric heap poisoned like poisoned_output (NaN, or the largest integer).
Tensor symmetric_poisoned(const dist::Rank& rank, const std::vector<std::int64_t>& shape, DataType dtype);

// The worst of several checks (the largest error relative to its tolerance).
CheckResult worst(const std::vector<CheckResult>& checks);

// "" when every size named in `dims` is a multiple of its tile, else why not.
std::string multiples_of_tiles(const Sizes& sizes, const std::vector<std::pair<std::string, std::int64_t>>& dims);
// "" when `ranks` divides every one of `values` (named in `what`), else why not.
std::string divides_all(int ranks, const std::vector<std::pair<std::string, std::int64_t>>& values);

}  // namespace tilescale::examples
