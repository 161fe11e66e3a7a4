// fill(dst, value) and clear(dst) (= fill with zero): every element of the tile set to value.
#include "ops/tile_op.h"

namespace tilescale::ops {

using tilescale::detail::cat;

ir::Stmt make_fill(const Operand& dst, ir::Expr value) {
  return ir::make_tile_op("fill", {to_region(dst, "fill")}, {ir::make_cast(dst.buffer->dtype, std::move(value))});
}

namespace {

void verify(const ir::TileOpNode& op) {
  if (op.args.size() != 1 || op.args[0]->dtype != op.regions[0].buffer->dtype)
    throw InternalError(cat("fill of ", op.regions[0].buffer->name, " needs one value of its dtype"));
}

void run_cpu(const ir::TileOpNode&, const std::vector<RegionView>& r, const std::vector<double>& args) {
  for_each_index(r[0].extent, [&](const std::int64_t* idx) { r[0].store(idx, args[0]); });
}

}  // namespace

const TileOpDef& fill_def() {
  static const TileOpDef def{"fill", verify, run_cpu};
  return def;
}

}  // namespace tilescale::ops
