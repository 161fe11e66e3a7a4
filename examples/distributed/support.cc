#include "support.h"

namespace tilescale::examples {

using tilescale::detail::cat;

Tensor host_random(const std::vector<std::int64_t>& shape, DataType dtype, std::uint64_t seed, int rank, int stream,
                   double lo, double hi) {
  TS_ICHECK(stream >= 0 && stream < 64, "input stream ", stream, " of a distributed example");
  return random_input(shape, dtype, seed, 64 * rank + stream, lo, hi);
}

Tensor symmetric_copy(const dist::Rank& rank, const Tensor& host) {
  Tensor t = rank.heap().empty(host.shape(), host.dtype());
  t.copy_from(host);
  return t;
}

Tensor symmetric_random(const dist::Rank& rank, const std::vector<std::int64_t>& shape, DataType dtype,
                        std::uint64_t seed, int stream, double lo, double hi) {
  return symmetric_copy(rank, host_random(shape, dtype, seed, rank.rank(), stream, lo, hi));
}

Tensor symmetric_poisoned(const dist::Rank& rank, const std::vector<std::int64_t>& shape, DataType dtype) {
  return symmetric_copy(rank, poisoned_output(shape, dtype));
}

CheckResult check_local_ranks(const dist::World& world, const std::function<CheckResult(int rank)>& check) {
  std::vector<CheckResult> checks;
  for (int r : world.local_ranks()) checks.push_back(check(r));
  return worst(checks);
}

CheckResult worst(const std::vector<CheckResult>& checks) {
  CheckResult w;
  double ratio = -1;
  for (const auto& c : checks) {
    const double r = c.tolerance > 0 ? c.max_relative_error / c.tolerance : c.max_relative_error;
    if (r > ratio) ratio = r, w = c;
  }
  return w;
}

std::string multiples_of_tiles(const Sizes& sizes, const std::vector<std::pair<std::string, std::int64_t>>& dims) {
  for (const auto& [name, tile] : dims)
    if (size_of(sizes, name) % tile != 0)
      return cat(name, "=", size_of(sizes, name), " is not a multiple of the tile, ", tile);
  return "";
}

std::string divides_all(int ranks, const std::vector<std::pair<std::string, std::int64_t>>& values) {
  for (const auto& [name, v] : values)
    if (v % ranks != 0) return cat(name, "=", v, " is not a multiple of the ", ranks, " ranks");
  return "";
}

}  // namespace tilescale::examples
