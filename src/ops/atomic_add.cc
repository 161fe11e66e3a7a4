// atomic_add(dst, value): dst += value atomically, for one element (a scalar value; dst's extent is
// all ones) or element-wise over a tile (regions {dst, src} of the same extent).
#include "ops/tile_op.h"

namespace tilescale::ops {

using tilescale::detail::cat;

ir::Stmt make_atomic_add(const Operand& dst, ir::Expr value) {
  Operand element = dst;
  if (element.extent.empty()) element.extent.assign(dst.base.size(), ir::make_int(1));
  return ir::make_tile_op("atomic_add", {to_region(element, "atomic_add")}, {ir::make_cast(dst.buffer->dtype, std::move(value))});
}

ir::Stmt make_atomic_add(const Operand& dst, const Operand& src) {
  ir::Region s = to_region(src, "atomic_add");
  return ir::make_tile_op("atomic_add", {to_region_like(dst, s, "atomic_add"), s});
}

namespace {

void verify(const ir::TileOpNode& op) {
  const ir::Region& dst = op.regions[0];
  if (dst.buffer->scope != ir::Scope::Global && dst.buffer->scope != ir::Scope::Shared)
    throw CompileError(cat("cannot atomic_add into ", dst.buffer->name, " because it is a ",
                           ir::spelling(dst.buffer->scope), " buffer, private to a thread; atomics target global or "
                           "shared memory, use a plain += instead"));
  if (op.regions.size() == 2) check_same_extents("atomic_add", op.regions[1], dst);
}

void run_cpu(const ir::TileOpNode& op, const std::vector<RegionView>& r, const std::vector<double>& args) {
  const RegionView& dst = r[0];
  if (r.size() == 1) {
    for_each_index(dst.extent, [&](const std::int64_t* idx) { dst.store(idx, dst.load(idx) + args[0]); });
    return;
  }
  for_each_matching_index(r[1], dst, [&](const std::int64_t* si, const std::int64_t* di) {
    dst.store(di, dst.load(di) + r[1].load(si));
  });
}

}  // namespace

const TileOpDef& atomic_add_def() {
  static const TileOpDef def{"atomic_add", verify, run_cpu};
  return def;
}

}  // namespace tilescale::ops
