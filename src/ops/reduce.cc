// reduce_{sum,max,min,abssum,absmax}(src, dst, dim, clear): dst = reduction of src along dim.
// dst has src's extent without `dim`; with clear=false the result is combined with dst's contents.
#include <cmath>
#include <limits>

#include "ops/tile_op.h"

namespace tilescale::ops {

using tilescale::detail::cat;

namespace {
constexpr const char* kKinds[] = {"sum", "max", "min", "abssum", "absmax"};
}

ir::Stmt make_reduce(const std::string& kind, const Operand& src, const Operand& dst, int dim, bool clear) {
  return ir::make_tile_op("reduce", {to_region(src, "reduce"), to_region(dst, "reduce")}, {},
                          {{"kind", kind}, {"dim", std::int64_t(dim)}, {"clear", std::int64_t(clear)}});
}

namespace {

const std::string& kind_of(const ir::TileOpNode& op) { return std::get<std::string>(op.attrs.at("kind")); }

void verify(const ir::TileOpNode& op) {
  const ir::Region &src = op.regions[0], &dst = op.regions[1];
  const std::string opname = "reduce_" + kind_of(op);
  const auto dim = op.int_attr("dim");
  if (dim < 0 || dim >= src.rank())
    throw CompileError(cat("cannot ", opname, " ", describe(src), " along dim ", dim, " because it has rank ",
                           src.rank(), "; pass a dim in [0, ", src.rank(), ")"));
  ir::Region reduced = src;
  reduced.base.erase(reduced.base.begin() + dim);
  reduced.extent.erase(reduced.extent.begin() + dim);
  check_same_extents(opname.c_str(), reduced, dst);
}

void run_cpu(const ir::TileOpNode& op, const std::vector<RegionView>& r, const std::vector<double>&) {
  const RegionView &src = r[0], &dst = r[1];
  const std::string& kind = kind_of(op);
  const int dim = static_cast<int>(op.int_attr("dim"));
  const bool clear = op.int_attr("clear");
  const bool is_abs = kind == "abssum" || kind == "absmax";
  const bool is_sum = kind == "sum" || kind == "abssum";
  const double init = is_sum || kind == "absmax" ? 0.0
                      : kind == "max"            ? -std::numeric_limits<double>::infinity()
                                                 : std::numeric_limits<double>::infinity();
  auto combine = [&](double acc, double x) {
    if (is_abs) x = std::fabs(x);
    if (is_sum) return acc + x;
    return kind == "min" ? std::min(acc, x) : std::max(acc, x);
  };
  std::vector<std::int64_t> outer = src.extent;
  outer[dim] = 1;
  // dst indices are src indices without `dim` (unit dims of dst matched by position of non-unit ones).
  std::vector<int> dst_dims;
  for (int d = 0; d < dst.rank(); ++d)
    if (dst.extent[d] != 1) dst_dims.push_back(d);
  std::vector<std::int64_t> di(dst.rank(), 0), si(src.rank());
  for_each_index(outer, [&](const std::int64_t* idx) {
    std::copy(idx, idx + src.rank(), si.begin());
    double acc = init;
    for (std::int64_t k = 0; k < src.extent[dim]; ++k) {
      si[dim] = k;
      acc = combine(acc, src.load(si.data()));
    }
    size_t n = 0;
    for (int d = 0; d < src.rank(); ++d)
      if (d != dim && src.extent[d] != 1 && n < dst_dims.size()) di[dst_dims[n++]] = idx[d];
    if (!clear) acc = is_sum ? dst.load(di.data()) + acc : combine(dst.load(di.data()), acc);
    dst.store(di.data(), acc);
  });
}

}  // namespace

const TileOpDef& reduce_def() {
  static const TileOpDef def{"reduce", verify, run_cpu};
  return def;
}

}  // namespace tilescale::ops
