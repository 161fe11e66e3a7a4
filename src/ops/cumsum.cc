// cumsum(src, dst, dim, reverse): inclusive prefix sum of src along dim into dst (same extents),
// from the end of the dimension when reverse; on CUDA src and dst may be fragments, shared or
// global tiles. The running sum is dst's type at every step: between
// integers exactly (wrapping as integer hardware does), otherwise added in double on the CPU and in
// float (double when src or dst has 64 bits) on CUDA.
#include "ops/cuda_lowering.h"
#include "ops/device_builtins.h"
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
// for a fragment, a row-major copy of the whole tile in the block's scratch shared memory, which
// the threads fill from their registers before the scan (src) or read their registers back from
// after it (dst).
struct ScanSide {
  const ir::Region& region;
  ir::Buffer staged;                         // the scratch copy of a fragment, else null
  const std::vector<std::int64_t>& extent;   // the tile's extents
  const std::vector<std::int64_t>& strides;  // their row-major strides, for the staged copy

  // The element at squeezed tile index `tile` (an entry per extent other than 1).
  ir::Expr element(const std::vector<ir::Expr>& tile) const {
    if (!staged) return ir::make_load(region.buffer, cuda_lowering::region_index(region, tile));
    ir::Expr flat = ir::make_int(0);
    for (size_t d = 0, t = 0; d < extent.size(); ++d)
      if (extent[d] != 1)
        flat = ir::make_binary(ir::BinaryOp::Add, flat,
                               ir::make_binary(ir::BinaryOp::Mul, ir::make_cast(DataType::Int32, tile.at(t++)), ir::make_int(strides[d])));
    return ir::make_load(staged, {flat});
  }
};

// Each thread scans whole lines (all indices but `dim`) sequentially, in dst's dtype at every step
// as the CPU reference does. Fragments go through scratch shared memory (ScanSide), with a barrier after
// the threads store their registers there and another before they read them back.
void lower_to_threads(const ir::TileOpNode& op, ThreadLowering& ctx) {
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
  // The scratch: src's staged copy first, dst's after it (16-byte aligned).
  const bool stage_src = src.buffer->scope == ir::Scope::Fragment, stage_dst = dst.buffer->scope == ir::Scope::Fragment;
  const std::int64_t src_bytes = stage_src ? (numel * bytes(st) + 15) / 16 * 16 : 0;
  ScanSide in{src, nullptr, extent, strides}, out{dst, nullptr, extent, strides};
  if (stage_src) in.staged = ctx.scratch(0, st, numel);
  if (stage_dst) out.staged = ctx.scratch(src_bytes, dt, numel);
  const ir::Stmt barrier = block_barrier();
  std::vector<ir::Stmt> body;
  if (stage_src) {
    const ir::Buffer regs = ctx.registers(*src.buffer);
    body.push_back(registers(ctx, *src.buffer, [&](std::int64_t reg, const std::vector<ir::Expr>& t) {
      const ir::Expr element = in.element(t);
      const auto* at = ir::as<ir::LoadNode>(element);
      return ir::make_store(at->buffer, at->indices, ir::make_load(regs, {ir::make_int(reg)}));
    }));
    body.push_back(barrier);
  }
  body.push_back(vectors(ctx, lines, 1, [&](const std::vector<ir::Expr>& line) {
    // `line` has an entry per dimension of `lines` (unit `dim` included, as squeezing would lose it).
    const ir::Buffer run = ir::make_buffer("run", {ir::make_int(1)}, dt, ir::Scope::Var);
    const ir::Expr sum = ir::make_load(run, {ir::make_int(0)});
    const ir::Var k = ir::make_var("k");
    std::vector<ir::Expr> full = line;
    full[dim] = reverse ? ir::make_binary(ir::BinaryOp::Sub, ir::make_int(extent[dim] - 1), k) : ir::Expr(k);
    std::vector<ir::Expr> tile;
    for (size_t d = 0; d < extent.size(); ++d)
      if (extent[d] != 1) tile.push_back(full[d]);
    const ir::Expr inside_src = stage_src ? nullptr : inside(ctx, src, tile);
    const ir::Expr term = or_zero(inside_src, converted(in.element(tile), sum_t));
    // Integers wrap, without signed-overflow UB (the sum's combiner); floats add in sum_t.
    const ir::Expr next = integers ? device_value(dt, "tl.reduce_combine", {sum, term}, {std::int64_t{0}, dt})
                                   : converted(ir::make_binary(ir::BinaryOp::Add, converted(sum, sum_t), term), dt);
    const ir::Expr element = out.element(tile);
    const auto* at = ir::as<ir::LoadNode>(element);
    const ir::Stmt step = ir::make_seq({ir::make_store(run, {ir::make_int(0)}, next),
                                        guarded(stage_dst ? nullptr : inside(ctx, dst, tile), ir::make_store(at->buffer, at->indices, sum))});
    return ir::make_seq({ir::make_alloc(run), ir::make_store(run, {ir::make_int(0)}, ir::make_cast(dt, ir::make_float(0.0))),
                         ir::make_for(k, ir::make_int(0), ir::make_int(extent[dim]), ir::ForKind::Serial, step)});
  }));
  if (stage_dst) {
    body.push_back(barrier);
    const ir::Buffer regs = ctx.registers(*dst.buffer);
    body.push_back(registers(ctx, *dst.buffer, [&](std::int64_t reg, const std::vector<ir::Expr>& t) {
      return ir::make_store(regs, {ir::make_int(reg)}, out.element(t));
    }));
  }
  // The next statement may use the scratch again.
  if (stage_src || stage_dst) body.push_back(barrier);
  ctx.emit(ir::make_seq(std::move(body)));
}

}  // namespace

const TileOpDef& cumsum_def() {
  static const TileOpDef def{.name = "cumsum", .verify = verify, .run_cpu = run_cpu, .lower_to_threads = lower_to_threads, .destination = 1};
  return def;
}

}  // namespace tilescale::ops
