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

void lower_cuda(const ir::TileOpNode& op, cuda::LowerContext& ctx) {
  using namespace cuda_lowering;
  const ir::Region& dst = op.regions[0];
  const std::string value = ctx.fresh("value");
  ctx.line(cat("const ", c_type(dst.buffer->dtype), " ", value, " = ", ctx.expr(op.args[0]), ";"));
  if (dst.buffer->scope == ir::Scope::Fragment) {
    require_whole_fragment(dst, "fill");
    ctx.line("#pragma unroll");
    ctx.open(cat("for (int r = 0; r < ", ctx.fragment(*dst.buffer).registers, "; ++r)"));
    ctx.line(cat(ctx.pointer(*dst.buffer), "[r] = ", value, ";"));
    ctx.close();
    return;
  }
  if (dst.buffer->scope == ir::Scope::Local || dst.buffer->scope == ir::Scope::Var) {
    // Private to each thread: every thread fills its own copy.
    const auto tile = squeezed(const_extent(dst, "fill"));
    std::int64_t n = 1;
    for (auto e : tile) n *= e;
    ir::Var e = ctx.fresh_var("e");
    ctx.open(cat("for (int ", ctx.expr(e), " = 0; ", ctx.expr(e), " < ", n, "; ++", ctx.expr(e), ")"));
    std::vector<ir::Expr> t(tile.size());
    std::int64_t stride = 1;
    for (int d = static_cast<int>(tile.size()) - 1; d >= 0; --d) {
      t[d] = ir::make_binary(ir::BinaryOp::Mod, ir::make_binary(ir::BinaryOp::Div, e, ir::make_int(stride)), ir::make_int(tile[d]));
      stride *= tile[d];
    }
    ctx.line(cat(ctx.element(*dst.buffer, region_index(dst, t)), " = ", value, ";"));
    ctx.close();
    return;
  }
  for_each_vector(ctx, squeezed(const_extent(dst, "fill")), 1, [&](const std::vector<ir::Expr>& t) {
    ir::Expr in = inside(ctx, dst, t);
    if (in) ctx.open(cat("if (", ctx.expr(in), ")"));
    ctx.line(cat(ctx.element(*dst.buffer, region_index(dst, t)), " = ", value, ";"));
    if (in) ctx.close();
  });
}

}  // namespace

const TileOpDef& fill_def() {
  static const TileOpDef def{.name = "fill", .verify = verify, .run_cpu = run_cpu, .lower_cuda = lower_cuda, .destination = 0};
  return def;
}

}  // namespace tilescale::ops
