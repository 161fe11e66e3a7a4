// cumsum(src, dst, dim, reverse): inclusive prefix sum of src along dim into dst (same extents),
// from the end of the dimension when reverse.
#include "ops/cuda_lowering.h"
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

// Each thread scans whole lines (all indices but `dim`) sequentially, rounding to dst's dtype at
// every step as the CPU reference does.
void lower_cuda(const ir::TileOpNode& op, cuda::LowerContext& ctx) {
  using namespace cuda_lowering;
  const ir::Region &src = op.regions[0], &dst = op.regions[1];
  for (const auto* r : {&src, &dst})
    if (r->buffer->scope != ir::Scope::Shared && r->buffer->scope != ir::Scope::Global)
      throw CompileError(cat("cannot lower T::cumsum on ", describe(*r), " for CUDA because it is a ", ir::spelling(r->buffer->scope),
                             " buffer; scan a shared or global tile (T::copy a fragment to shared memory first)"));
  const auto extent = const_extent(src, "cumsum");
  const int dim = static_cast<int>(op.int_attr("dim"));
  const bool reverse = op.int_attr("reverse");
  std::vector<std::int64_t> lines = extent;
  lines[dim] = 1;
  const DataType st = src.buffer->dtype, dt = dst.buffer->dtype;
  for_each_vector(ctx, lines, 1, [&](const std::vector<ir::Expr>& line) {
    // `line` has an entry per dimension of `lines` (unit `dim` included, as squeezing would lose it).
    const std::string run = ctx.fresh("run");
    const ir::Var kv = ctx.fresh_var("k");
    const std::string k = ctx.expr(kv);
    ctx.line(cat(c_type(dt), " ", run, " = tl::cast<", c_type(dt), ">(0.0f);"));
    ctx.open(cat("for (int ", k, " = 0; ", k, " < ", extent[dim], "; ++", k, ")"));
    std::vector<ir::Expr> full = line;
    full[dim] = reverse ? ir::make_binary(ir::BinaryOp::Sub, ir::make_int(extent[dim] - 1), kv) : ir::Expr(kv);
    std::vector<ir::Expr> tile;
    for (size_t d = 0; d < extent.size(); ++d)
      if (extent[d] != 1) tile.push_back(full[d]);
    ir::Expr in = inside(ctx, src, tile);
    const std::string x = convert(ctx.element(*src.buffer, region_index(src, tile)), st, DataType::Float32);
    ctx.line(cat(run, " = tl::cast<", c_type(dt), ">(tl::cast<float>(", run, ") + ", in ? cat("(", ctx.expr(in), " ? ", x, " : 0.0f)") : x, ");"));
    ir::Expr out = inside(ctx, dst, tile);
    if (out) ctx.open(cat("if (", ctx.expr(out), ")"));
    ctx.line(cat(ctx.element(*dst.buffer, region_index(dst, tile)), " = ", run, ";"));
    if (out) ctx.close();
    ctx.close();
  });
}

}  // namespace

const TileOpDef& cumsum_def() {
  static const TileOpDef def{"cumsum", verify, run_cpu, lower_cuda};
  return def;
}

}  // namespace tilescale::ops
