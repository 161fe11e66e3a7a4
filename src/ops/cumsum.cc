// cumsum(src, dst, dim, reverse): inclusive prefix sum of src along dim into dst (same extents),
// from the end of the dimension when reverse.
#include "ops/tile_op.h"

namespace tilescale::ops {

using tilescale::detail::cat;

ir::Stmt make_cumsum(const Operand& src, const Operand& dst, int dim, bool reverse) {
  ir::Region s = to_region(src, "cumsum");
  return ir::make_tile_op("cumsum", {s, to_region_like(dst, s, "cumsum")}, {},
                          {{"dim", std::int64_t(dim)}, {"reverse", std::int64_t(reverse)}});
}

namespace {

void verify(const ir::TileOpNode& op) {
  const ir::Region& src = op.regions[0];
  const auto dim = op.int_attr("dim");
  if (dim < 0 || dim >= src.rank())
    throw CompileError(cat("cannot cumsum ", describe(src), " along dim ", dim, " because it has rank ", src.rank(),
                           "; pass a dim in [0, ", src.rank(), ")"));
  if (src.rank() != op.regions[1].rank())
    throw CompileError(cat("cannot cumsum from ", describe(src), " to ", describe(op.regions[1]),
                           " because their ranks differ; use tiles of the same shape"));
  check_same_extents("cumsum", src, op.regions[1]);
}

void run_cpu(const ir::TileOpNode& op, const std::vector<RegionView>& r, const std::vector<double>&) {
  const RegionView &src = r[0], &dst = r[1];
  const int dim = static_cast<int>(op.int_attr("dim"));
  const bool reverse = op.int_attr("reverse");
  std::vector<std::int64_t> outer = src.extent;
  outer[dim] = 1;
  std::vector<std::int64_t> i(src.rank());
  for_each_index(outer, [&](const std::int64_t* idx) {
    std::copy(idx, idx + src.rank(), i.begin());
    double run = 0;
    const std::int64_t n = src.extent[dim];
    for (std::int64_t k = 0; k < n; ++k) {
      i[dim] = reverse ? n - 1 - k : k;
      run = round_to(dst.dtype(), run + src.load(i.data()));
      dst.store(i.data(), run);
    }
  });
}

}  // namespace

const TileOpDef& cumsum_def() {
  static const TileOpDef def{"cumsum", verify, run_cpu};
  return def;
}

}  // namespace tilescale::ops
