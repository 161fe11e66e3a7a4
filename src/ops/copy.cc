// copy(src, dst): element-wise copy of a tile with conversion to dst's dtype.
#include "ops/tile_op.h"

namespace tilescale::ops {

using tilescale::detail::cat;

ir::Stmt make_copy(const Operand& src, const Operand& dst) {
  // The side written as a whole buffer or region gives its extent to the other.
  if (!src.extent.empty()) {
    ir::Region s = to_region(src, "copy");
    return ir::make_tile_op("copy", {s, to_region_like(dst, s, "copy")});
  }
  if (!dst.extent.empty()) {
    ir::Region d = to_region(dst, "copy");
    return ir::make_tile_op("copy", {to_region_like(src, d, "copy"), d});
  }
  throw CompileError(cat("cannot infer the tile extent of T::copy from ", src.buffer->name, " to ", dst.buffer->name,
                         " because both are element references; pass a whole buffer or a T::region for one of them"));
}

namespace {

void verify(const ir::TileOpNode& op) {
  check_same_extents("copy", op.regions[0], op.regions[1]);
}

void run_cpu(const ir::TileOpNode&, const std::vector<RegionView>& r, const std::vector<double>&) {
  for_each_matching_index(r[0], r[1], [&](const std::int64_t* si, const std::int64_t* di) { r[1].store(di, r[0].load(si)); });
}

}  // namespace

const TileOpDef& copy_def() {
  static const TileOpDef def{"copy", verify, run_cpu};
  return def;
}

}  // namespace tilescale::ops
