// Helpers shared by the distributed examples' runs: per-rank inputs in the symmetric heap, the same
// inputs regenerated on the host, and combining the checks of the ranks this process drives.
//
// A run works on any transport (tilescale/dist.h): on GPUs the heap is device memory the host cannot
// read or write element by element, and under ipc this process drives one rank and cannot read the
// others' tensors. So every input is a host tensor copied into the heap (symmetric_copy), every
// rank's inputs can be regenerated on the host from (seed, rank, stream) (host_random), and each
// local rank copies its outputs to host tensors after its last barrier; the references read only
// those.
#pragma once

#include <cstdint>
#include <functional>
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

// Rank `rank`'s input number `stream` (0 to 63): a CPU tensor of uniform random values in [lo, hi)
// from (seed, rank, stream), rounded to `dtype`. Every rank's inputs differ, and any process can
// compute any rank's inputs without reading that rank's memory.
Tensor host_random(const std::vector<std::int64_t>& shape, DataType dtype, std::uint64_t seed, int rank, int stream,
                   double lo = -1.0, double hi = 1.0);

// A tensor of `rank`'s symmetric heap (a collective allocation) holding the values of the CPU
// tensor `host`, on the heap's device.
Tensor symmetric_copy(const dist::Rank& rank, const Tensor& host);
// The heap tensor holding exactly host_random(shape, dtype, seed, rank.rank(), stream, lo, hi).
Tensor symmetric_random(const dist::Rank& rank, const std::vector<std::int64_t>& shape, DataType dtype,
                        std::uint64_t seed, int stream, double lo = -1.0, double hi = 1.0);
// A heap tensor poisoned like poisoned_output (NaN, or the largest integer).
Tensor symmetric_poisoned(const dist::Rank& rank, const std::vector<std::int64_t>& shape, DataType dtype);

// The worst of check(r) over the ranks this process drives (world.local_ranks()): the only ranks
// whose outputs it holds.
CheckResult check_local_ranks(const dist::World& world, const std::function<CheckResult(int rank)>& check);

// The worst of several checks (the largest error relative to its tolerance).
CheckResult worst(const std::vector<CheckResult>& checks);

// "" when every size named in `dims` is a multiple of its tile, else why not.
std::string multiples_of_tiles(const Sizes& sizes, const std::vector<std::pair<std::string, std::int64_t>>& dims);
// "" when `ranks` divides every one of `values` (named in `what`), else why not.
std::string divides_all(int ranks, const std::vector<std::pair<std::string, std::int64_t>>& values);

}  // namespace tilescale::examples
