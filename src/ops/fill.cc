// fill(dst, value) and clear(dst) (= fill with zero): every element of the tile set to value.
#include "ops/cuda_lowering.h"
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

void lower_to_threads(const ir::TileOpNode& op, ThreadLowering& ctx) {
  using namespace cuda_lowering;
  const ir::Region& dst = op.regions[0];
  const ir::Buffer& b = dst.buffer;
  std::vector<ir::Stmt> out;
  // The value, computed once: it may read the tile being filled.
  ir::Expr value = op.args[0];
  if (value->kind != ir::ExprKind::IntImm && value->kind != ir::ExprKind::FloatImm) {
    const ir::Buffer once = ir::make_buffer("value", {ir::make_int(1)}, b->dtype, ir::Scope::Var);
    out.push_back(ir::make_alloc(once));
    out.push_back(ir::make_store(once, {ir::make_int(0)}, value));
    value = ir::make_load(once, {ir::make_int(0)});
  }
  if (b->scope == ir::Scope::Fragment) {
    require_whole_fragment(dst, "fill");
    const ir::Var r = ir::make_var("r");
    out.push_back(ir::make_for(r, ir::make_int(0), ir::make_int(ctx.fragment(*b).registers), ir::ForKind::Unrolled,
                               ir::make_store(ctx.registers(*b), {r}, value)));
  } else if (b->scope == ir::Scope::Local || b->scope == ir::Scope::Var) {
    // Private to each thread: every thread fills its own copy.
    const auto tile = squeezed(const_extent(dst, "fill"));
    std::int64_t n = 1;
    for (auto e : tile) n *= e;
    const ir::Var e = ir::make_var("e");
    std::vector<ir::Expr> t(tile.size());
    std::int64_t stride = 1;
    for (int d = static_cast<int>(tile.size()) - 1; d >= 0; --d) {
      t[d] = ir::make_binary(ir::BinaryOp::Mod, ir::make_binary(ir::BinaryOp::Div, e, ir::make_int(stride)), ir::make_int(tile[d]));
      stride *= tile[d];
    }
    out.push_back(ir::make_for(e, ir::make_int(0), ir::make_int(n), ir::ForKind::Serial, ir::make_store(b, region_index(dst, t), value)));
  } else {
    out.push_back(vectors(ctx, squeezed(const_extent(dst, "fill")), 1, [&](const std::vector<ir::Expr>& t) {
      return guarded(inside(ctx, dst, t), ir::make_store(b, region_index(dst, t), value));
    }));
  }
  ctx.emit(ir::make_seq(std::move(out)));
}

}  // namespace

const TileOpDef& fill_def() {
  static const TileOpDef def{.name = "fill", .verify = verify, .run_cpu = run_cpu, .lower_to_threads = lower_to_threads, .destination = 0};
  return def;
}

}  // namespace tilescale::ops
