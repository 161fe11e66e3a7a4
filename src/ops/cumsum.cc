// cumsum(src, dst, dim, reverse): inclusive prefix sum of src along dim into dst (same extents),
// from the end of the dimension when reverse; on CUDA src and dst may be fragments, shared or
// global tiles. The running sum is dst's type at every step: between
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

// The running sum's type: dst's between integers, else float (double when src or dst has 64 bits).
DataType sum_type(DataType st, DataType dt) {
  if (!is_float(st) && !is_float(dt)) return dt;
  return bits(st) == 64 || bits(dt) == 64 ? DataType::Float64 : DataType::Float32;
}

// Where the scan reads its source and writes its result: the tile itself (shared or global), or,
// for a fragment, a row-major copy of the whole tile in the block's workspace, which the threads
// fill from their registers before the scan (src) or read their registers back from after it (dst).
struct ScanSide {
  const ir::Region& region;
  std::string staged;                        // the workspace copy (a typed pointer) of a fragment, else empty
  const std::vector<std::int64_t>& extent;   // the tile's extents
  const std::vector<std::int64_t>& strides;  // their row-major strides, for the staged copy

  // The element at squeezed tile index `tile` (an entry per extent other than 1).
  std::string element(cuda::LowerContext& ctx, const std::vector<ir::Expr>& tile) const {
    if (staged.empty()) return ctx.element(*region.buffer, cuda_lowering::region_index(region, tile));
    ir::Expr flat = ir::make_int(0);
    for (size_t d = 0, t = 0; d < extent.size(); ++d)
      if (extent[d] != 1)
        flat = ir::make_binary(ir::BinaryOp::Add, flat,
                               ir::make_binary(ir::BinaryOp::Mul, ir::make_cast(DataType::Int32, tile.at(t++)), ir::make_int(strides[d])));
    return cat(staged, "[", ctx.expr(flat), "]");
  }
};

// Each thread scans whole lines (all indices but `dim`) sequentially, in dst's dtype at every step
// as the CPU reference does. Fragments go through the workspace (ScanSide), with a barrier after
// the threads store their registers there and another before they read them back.
void lower_cuda(const ir::TileOpNode& op, cuda::LowerContext& ctx) {
  using namespace cuda_lowering;
  const ir::Region &src = op.regions[0], &dst = op.regions[1];
  for (const auto* r : {&src, &dst}) {
    if (r->buffer->scope == ir::Scope::Fragment) require_whole_fragment(*r, "cumsum");
    else if (r->buffer->scope != ir::Scope::Shared && r->buffer->scope != ir::Scope::Global)
      throw CompileError(cat("cannot lower T::cumsum on ", describe(*r), " for CUDA because it is a ", ir::spelling(r->buffer->scope),
                             " buffer; scan a fragment, a shared or a global tile"));
  }
  const auto extent = const_extent(src, "cumsum");
  const int dim = static_cast<int>(op.int_attr("dim"));
  const bool reverse = op.int_attr("reverse");
  std::vector<std::int64_t> lines = extent;
  lines[dim] = 1;
  const DataType st = src.buffer->dtype, dt = dst.buffer->dtype;
  const bool integers = !is_float(st) && !is_float(dt);
  const DataType sum_t = sum_type(st, dt);
  std::int64_t numel = 1;
  std::vector<std::int64_t> strides(extent.size(), 1);
  for (int d = static_cast<int>(extent.size()) - 1; d >= 0; --d) strides[d] = numel, numel *= extent[d];
  // The workspace: src's staged copy first, dst's after it (16-byte aligned).
  const bool stage_src = src.buffer->scope == ir::Scope::Fragment, stage_dst = dst.buffer->scope == ir::Scope::Fragment;
  const std::int64_t src_bytes = stage_src ? (numel * bytes(st) + 15) / 16 * 16 : 0;
  ScanSide in{src, "", extent, strides}, out{dst, "", extent, strides};
  if (stage_src || stage_dst) {
    const std::string ws = ctx.workspace(src_bytes + (stage_dst ? numel * bytes(dt) : 0));
    auto typed = [&](DataType t, std::int64_t offset) {
      const std::string name = ctx.fresh("scan");
      ctx.line(cat(c_type(t), "* ", name, " = reinterpret_cast<", c_type(t), "*>(", ws, " + ", offset, ");"));
      return name;
    };
    if (stage_src) in.staged = typed(st, 0);
    if (stage_dst) out.staged = typed(dt, src_bytes);
  }
  if (stage_src) {
    for_each_register(ctx, *src.buffer, [&](std::int64_t reg, const std::vector<ir::Expr>& t) {
      ctx.line(cat(in.element(ctx, t), " = ", ctx.fragment_register(*src.buffer, reg), ";"));
    });
    ctx.line(ctx.barrier());
  }
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
    ir::Expr inside_src = stage_src ? nullptr : inside(ctx, src, tile);
    const std::string x = convert(in.element(ctx, tile), st, sum_t);
    const std::string term = inside_src ? cat("(", ctx.expr(inside_src), " ? ", x, " : (", c_type(sum_t), ")0)") : x;
    if (integers) ctx.line(cat(run, " = tl::SumOp()(", run, ", ", term, ");"));  // wraps, without signed-overflow UB
    else ctx.line(cat(run, " = ", convert(cat(convert(run, dt, sum_t), " + ", term), sum_t, dt), ";"));
    ir::Expr inside_dst = stage_dst ? nullptr : inside(ctx, dst, tile);
    if (inside_dst) ctx.open(cat("if (", ctx.expr(inside_dst), ")"));
    ctx.line(cat(out.element(ctx, tile), " = ", run, ";"));
    if (inside_dst) ctx.close();
    ctx.close();
  });
  if (stage_dst) {
    ctx.line(ctx.barrier());
    for_each_register(ctx, *dst.buffer, [&](std::int64_t reg, const std::vector<ir::Expr>& t) {
      ctx.line(cat(ctx.fragment_register(*dst.buffer, reg), " = ", out.element(ctx, t), ";"));
    });
  }
  // The next statement may use the workspace again.
  if (stage_src || stage_dst) ctx.line(ctx.barrier());
}

}  // namespace

const TileOpDef& cumsum_def() {
  static const TileOpDef def{.name = "cumsum", .verify = verify, .run_cpu = run_cpu, .lower_cuda = lower_cuda, .destination = 1};
  return def;
}

}  // namespace tilescale::ops
