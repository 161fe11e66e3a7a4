// cumsum(src, dst, dim, reverse): inclusive prefix sum of src along dim into dst (same extents),
// from the end of the dimension when reverse. The running sum is dst's type at every step: between
// integers exactly (wrapping as integer hardware does), otherwise added in double on the CPU and in
// float (double when src or dst has 64 bits) on CUDA.
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
  const bool integers = !is_float(src.dtype()) && !is_float(dst.dtype());
  const DataType t = dst.dtype();
  for_each_index(outer, [&](const std::int64_t* idx) {
    std::copy(idx, idx + src.rank(), i.begin());
    double run = 0;
    std::int64_t int_run = 0;  // through double, 64-bit sums would lose their low bits beyond 2^53
    const std::int64_t n = src.extent[dim];
    for (std::int64_t k = 0; k < n; ++k) {
      i[dim] = reverse ? n - 1 - k : k;
      if (integers) {
        int_run = wrap_to(t, std::int64_t(std::uint64_t(int_run) + std::uint64_t(wrap_to(t, src.load_int(i.data())))));
        dst.store_int(i.data(), int_run);
      } else {
        run = round_to(t, run + src.load(i.data()));
        dst.store(i.data(), run);
      }
    }
  });
}

// Each thread scans whole lines (all indices but `dim`) sequentially, in dst's dtype at every step
// as the CPU reference does.
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
  const bool integers = !is_float(st) && !is_float(dt);
  const DataType sum_t = integers ? dt : bits(st) == 64 || bits(dt) == 64 ? DataType::Float64 : DataType::Float32;
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
    const std::string x = convert(ctx.element(*src.buffer, region_index(src, tile)), st, sum_t);
    const std::string term = in ? cat("(", ctx.expr(in), " ? ", x, " : (", c_type(sum_t), ")0)") : x;
    if (integers) ctx.line(cat(run, " = tl::SumOp()(", run, ", ", term, ");"));  // wraps, without signed-overflow UB
    else ctx.line(cat(run, " = ", convert(cat(convert(run, dt, sum_t), " + ", term), sum_t, dt), ";"));
    ir::Expr out = inside(ctx, dst, tile);
    if (out) ctx.open(cat("if (", ctx.expr(out), ")"));
    ctx.line(cat(ctx.element(*dst.buffer, region_index(dst, tile)), " = ", run, ";"));
    if (out) ctx.close();
    ctx.close();
  });
}

}  // namespace

const TileOpDef& cumsum_def() {
  static const TileOpDef def{.name = "cumsum", .verify = verify, .run_cpu = run_cpu, .lower_cuda = lower_cuda, .destination = 1};
  return def;
}

}  // namespace tilescale::ops
