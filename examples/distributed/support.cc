#include "support.h"

#include <limits>

namespace tilescale::examples {

using tilescale::detail::cat;

Tensor symmetric_random(const dist::Rank& rank, const std::vector<std::int64_t>& shape, DataType dtype,
                        std::uint64_t seed, int stream, double lo, double hi) {
  Tensor t = rank.heap().empty(shape, dtype);
  t.fill_random(derive_seed(seed, 64 * rank.rank() + stream), lo, hi);
  return t;
}

Tensor symmetric_poisoned(const dist::Rank& rank, const std::vector<std::int64_t>& shape, DataType dtype) {
  Tensor t = rank.heap().empty(shape, dtype);
  if (is_float(dtype)) t.fill(std::numeric_limits<double>::quiet_NaN());
  else t.fill(static_cast<double>((std::int64_t{1} << (bits(dtype) - 1)) - 1));
  return t;
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
