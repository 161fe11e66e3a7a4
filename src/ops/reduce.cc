// reduce_{sum,max,min,abssum,absmax}(src, dst, dim, clear): dst = reduction of src along dim.
// dst has src's extent without `dim`; with clear=false the result is combined with dst's contents.
// Both backends accumulate in accumulator(src dtype, dst dtype) (see lang.h), integers exactly.
#include <cmath>
#include <limits>

#include "ir/eval.h"
#include "ops/cuda_lowering.h"
#include "ops/device_builtins.h"
#include "ops/tile_op.h"

namespace tilescale::ops {

using tilescale::detail::cat;

ir::Stmt make_reduce(const std::string& kind, const Operand& src, const Operand& dst, int dim, bool clear) {
  return ir::make_tile_op("reduce", {to_region(src, "reduce"), to_region(dst, "reduce")}, {},
                          {{"kind", kind}, {"dim", std::int64_t(dim)}, {"clear", std::int64_t(clear)}});
}

namespace {

const std::string& kind_of(const ir::TileOpNode& op) { return std::get<std::string>(op.attrs.at("kind")); }

// The one type a reduction computes in, on both backends: 64 bits when src or dst has 64, else 32;
// an integer type (signed unless src is unsigned) when neither side is a float, else a float type.
DataType accumulator(DataType src, DataType dst) {
  const bool wide = bits(src) == 64 || bits(dst) == 64;
  if (is_float(src) || is_float(dst)) return wide ? DataType::Float64 : DataType::Float32;
  const bool is_unsigned = is_integer(src) && !is_signed(src);
  if (wide) return is_unsigned ? DataType::UInt64 : DataType::Int64;
  return is_unsigned ? DataType::UInt32 : DataType::Int32;
}

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
  if (!same_extents(reduced, dst))
    throw CompileError(cat("cannot ", opname, " ", describe_with_extent(src), " along dim ", dim, " into ",
                           describe_with_extent(dst), " because their extents differ: the result has extent ", describe_extent(reduced),
                           "; give ", dst.buffer->name, " the extent of ", src.buffer->name, " without dim ", dim));
}

// Folds src along `dim` into every dst element with values of type V: load(view, index) reads an
// element as V, fold(acc, x) combines one element (taking |x| where the kind says so), merge(old,
// acc) combines with dst's previous value (clear=false) and store writes the result.
template <class V, class Load, class Fold, class Merge, class Store>
void reduce_on_cpu(const ir::TileOpNode& op, const RegionView& src, const RegionView& dst, V init, Load load, Fold fold,
                   Merge merge, Store store) {
  const int dim = static_cast<int>(op.int_attr("dim"));
  const bool clear = op.int_attr("clear");
  std::vector<std::int64_t> outer = src.extent;
  outer[dim] = 1;
  // dst indices are src indices without `dim` (unit dims of dst matched by position of non-unit ones).
  std::vector<int> dst_dims;
  for (int d = 0; d < dst.rank(); ++d)
    if (dst.extent[d] != 1) dst_dims.push_back(d);
  std::vector<std::int64_t> di(dst.rank(), 0), si(src.rank());
  for_each_index(outer, [&](const std::int64_t* idx) {
    std::copy(idx, idx + src.rank(), si.begin());
    V acc = init;
    for (std::int64_t k = 0; k < src.extent[dim]; ++k) {
      si[dim] = k;
      acc = fold(acc, load(src, si.data()));
    }
    size_t n = 0;
    for (int d = 0; d < src.rank(); ++d)
      if (d != dim && src.extent[d] != 1 && n < dst_dims.size()) di[dst_dims[n++]] = idx[d];
    if (!clear) acc = merge(load(dst, di.data()), acc);
    store(dst, di.data(), acc);
  });
}

void run_cpu(const ir::TileOpNode& op, const std::vector<RegionView>& r, const std::vector<double>&) {
  const RegionView &src = r[0], &dst = r[1];
  const std::string& kind = kind_of(op);
  const bool is_abs = kind == "abssum" || kind == "absmax";
  const bool is_sum = kind == "sum" || kind == "abssum";
  const DataType t = accumulator(src.dtype(), dst.dtype());
  if (is_float(t)) {
    const double init = is_sum || kind == "absmax" ? 0.0
                        : kind == "max"            ? -std::numeric_limits<double>::infinity()
                                                   : std::numeric_limits<double>::infinity();
    auto combine = [&](double acc, double x) { return kind == "min" ? std::min(acc, x) : std::max(acc, x); };
    reduce_on_cpu<double>(
        op, src, dst, init, [](const RegionView& v, const std::int64_t* i) { return v.load(i); },
        [&](double acc, double x) {
          if (is_abs) x = std::fabs(x);
          return is_sum ? acc + x : combine(acc, x);
        },
        [&](double old, double acc) { return is_sum ? old + acc : combine(old, acc); },
        [](const RegionView& v, const std::int64_t* i, double x) { v.store(i, x); });
    return;
  }
  // Integers: exact, in t's width, wrapping as the GPU's integer instructions do. Values of t live
  // in int64 bits (uint64 ones too, hence the unsigned comparisons).
  const bool u64 = t == DataType::UInt64;
  const std::int64_t lowest = !is_signed(t) ? 0 : bits(t) == 64 ? std::numeric_limits<std::int64_t>::min() : std::numeric_limits<std::int32_t>::min();
  const std::int64_t largest = !is_signed(t) ? wrap_to(t, -1) : bits(t) == 64 ? std::numeric_limits<std::int64_t>::max() : std::numeric_limits<std::int32_t>::max();
  const std::int64_t init = kind == "max" ? lowest : kind == "min" ? largest : 0;
  auto combine = [&](std::int64_t a, std::int64_t b) {
    const bool a_less = u64 ? std::uint64_t(a) < std::uint64_t(b) : a < b;
    if (kind == "min") return a_less ? a : b;
    return a_less ? b : a;
  };
  auto add = [t](std::int64_t a, std::int64_t b) { return wrap_to(t, std::int64_t(std::uint64_t(a) + std::uint64_t(b))); };
  reduce_on_cpu<std::int64_t>(
      op, src, dst, init, [t](const RegionView& v, const std::int64_t* i) { return wrap_to(t, v.load_int(i)); },
      [&](std::int64_t acc, std::int64_t x) {
        if (is_abs && is_signed(t) && x < 0) x = wrap_to(t, std::int64_t(0 - std::uint64_t(x)));
        return is_sum ? add(acc, x) : combine(acc, x);
      },
      [&](std::int64_t old, std::int64_t acc) { return is_sum ? add(old, acc) : combine(old, acc); },
      [](const RegionView& v, const std::int64_t* i, std::int64_t x) { v.store_int(i, x); });
}

using namespace cuda_lowering;

// A reduction as generated code computes it: its op (device/tilescale/reduce.h: 0 sum, 1 max,
// 2 min), the accumulator type and whether it folds absolute values.
struct Reduction {
  std::int64_t op;
  DataType acc;
  bool absolute;
  // Absolute values are never below 0, so absmax starts from 0 (the sum's identity).
  ir::Expr identity() const { return device_value(acc, "tl.reduce_identity", {}, {absolute ? std::int64_t{0} : op, acc}); }
  ir::Expr combine(const ir::Expr& a, const ir::Expr& b) const { return device_value(acc, "tl.reduce_combine", {a, b}, {op, acc}); }
  // A value as an accumulator value.
  ir::Expr value(const ir::Expr& x) const { return converted(x, acc); }
  // An accumulator value folded with one more (already an accumulator value).
  ir::Expr fold(const ir::Expr& a, const ir::Expr& x) const { return combine(a, absolute ? device_value(acc, "tl.absolute", {x}, {acc}) : x); }
  // A value combined across the lanes whose index differs in LANE_BITS.
  ir::Expr across_lanes(std::int64_t lane_bits, const ir::Expr& x) const { return device_value(acc, "tl.lane_reduce", {x}, {lane_bits, op, acc}); }
};

Reduction reduction(const ir::TileOpNode& op) {
  const std::string& kind = kind_of(op);
  const DataType acc = accumulator(op.regions[0].buffer->dtype, op.regions[1].buffer->dtype);
  if (kind == "sum" || kind == "abssum") return {0, acc, kind == "abssum"};
  if (kind == "max" || kind == "absmax") return {1, acc, kind == "absmax"};
  if (kind == "min") return {2, acc, false};
  throw InternalError(cat("unknown reduction ", kind));
}

ir::Expr num(std::int64_t v) { return ir::make_int(v); }
ir::Expr bin(ir::BinaryOp o, const ir::Expr& a, const ir::Expr& b) { return ir::make_binary(o, a, b); }

// The reduced value stored into dst element `at` (a Load), combined with its old value unless clear.
ir::Stmt store_result(const ir::TileOpNode& op, const Reduction& red, const ir::Expr& at, const ir::Expr& value) {
  // `value` already holds absolute values where the reduction takes them.
  const ir::Expr combined = op.int_attr("clear") ? value : red.combine(red.value(at), value);
  const auto* l = ir::as<ir::LoadNode>(at);
  return ir::make_store(l->buffer, l->indices, combined->dtype == l->buffer->dtype ? combined : ir::make_cast(l->buffer->dtype, combined));
}

// Per-thread partial results: a Local array and its element i.
struct Partials {
  ir::Buffer buffer;
  ir::Expr at(std::int64_t i) const { return ir::make_load(buffer, {num(i)}); }
  ir::Stmt set(std::int64_t i, const ir::Expr& v) const { return ir::make_store(buffer, {num(i)}, v); }
};

// Combines the partials of the warps that share them through scratch shared memory:
// `ws_index(warp_group, i)` is where partial i of this thread's warp group goes; the writers are
// `writer`; every thread then folds the `groups` copies of its partials, with a barrier on each side.
void across_warps(ThreadLowering& ctx, std::vector<ir::Stmt>& out, const Reduction& red, const Partials& part, std::int64_t count,
                  std::int64_t ws_elements, const ir::Expr& writer, std::int64_t groups,
                  const std::function<ir::Expr(const ir::Expr& group, std::int64_t i)>& ws_index, const ir::Expr& own_group) {
  const ir::Buffer ws = ctx.scratch(0, red.acc, ws_elements);
  std::vector<ir::Stmt> writes;
  for (std::int64_t i = 0; i < count; ++i) writes.push_back(ir::make_store(ws, {ws_index(own_group, i)}, part.at(i)));
  out.push_back(ir::make_if(writer, ir::make_seq(std::move(writes))));
  out.push_back(block_barrier());
  for (std::int64_t i = 0; i < count; ++i) {
    out.push_back(part.set(i, red.identity()));
    for (std::int64_t g = 0; g < groups; ++g) out.push_back(part.set(i, red.combine(part.at(i), ir::make_load(ws, {ws_index(num(g), i)}))));
  }
  out.push_back(block_barrier());
}

// Accumulator rows: per thread, fold the row's registers, then the quad's 4 lanes by shuffles, then
// the warps that share the row through shared memory.
ir::Stmt lower_mma_rows(const ir::TileOpNode& op, ThreadLowering& ctx, const Reduction& red) {
  const auto &src = *op.regions[0].buffer, &dst = *op.regions[1].buffer;
  const FragmentInfo& f = ctx.fragment(src);
  const ir::Buffer in = ctx.registers(src), out_regs = ctx.registers(dst);
  const std::int64_t N = *ir::as_const_int(src.shape[1]);
  const std::int64_t NI = N / f.warps_n / 8, MI = f.M / f.warps_m / 16;
  const Partials part{ir::make_buffer("part", {num(MI * 2)}, red.acc, ir::Scope::Local)};
  std::vector<ir::Stmt> out{ir::make_alloc(part.buffer)};
  for (std::int64_t mi = 0; mi < MI; ++mi)
    for (std::int64_t h = 0; h < 2; ++h) {
      const std::int64_t i = mi * 2 + h;
      out.push_back(part.set(i, red.identity()));
      for (std::int64_t ni = 0; ni < NI; ++ni)
        for (std::int64_t c = 0; c < 2; ++c)
          out.push_back(part.set(i, red.fold(part.at(i), red.value(ir::make_load(in, {num((mi * NI + ni) * 4 + h * 2 + c)})))));
      out.push_back(part.set(i, red.across_lanes(3, part.at(i))));
    }
  if (f.warps_n > 1) {
    const ir::Expr tx = ctx.thread_var(), warp = bin(ir::BinaryOp::Div, tx, num(32));
    const ir::Expr row0 = bin(ir::BinaryOp::Add, bin(ir::BinaryOp::Mul, bin(ir::BinaryOp::Mod, warp, num(f.warps_m)), num(f.M / f.warps_m)),
                              bin(ir::BinaryOp::Div, bin(ir::BinaryOp::Mod, tx, num(32)), num(4)));
    auto at = [&](const ir::Expr& group, std::int64_t r) {
      return bin(ir::BinaryOp::Add, bin(ir::BinaryOp::Add, bin(ir::BinaryOp::Mul, group, num(f.M)), row0), num((r / 2) * 16 + (r % 2) * 8));
    };
    across_warps(ctx, out, red, part, MI * 2, f.warps_n * f.M, bin(ir::BinaryOp::EQ, bin(ir::BinaryOp::Mod, tx, num(4)), num(0)), f.warps_n, at,
                 bin(ir::BinaryOp::Div, warp, num(f.warps_m)));
  }
  for (std::int64_t r = 0; r < MI * 2; ++r) out.push_back(store_result(op, red, ir::make_load(out_regs, {num(r)}), part.at(r)));
  return ir::make_seq(std::move(out));
}

// Partitioned rows that every thread holds a share of (columns a multiple of threads x vector):
// fold per thread, then across the whole block; every thread gets every row (replicated dst).
ir::Stmt lower_partition_rows(const ir::TileOpNode& op, ThreadLowering& ctx, const Reduction& red) {
  const auto &src = *op.regions[0].buffer, &dst = *op.regions[1].buffer;
  const ir::Buffer in = ctx.registers(src), out_regs = ctx.registers(dst);
  const std::int64_t R = *ir::as_const_int(src.shape[0]), C = *ir::as_const_int(src.shape[1]);
  const std::int64_t per_row = C / ctx.threads(), warps = ctx.threads() / 32;
  const Partials part{ir::make_buffer("part", {num(R)}, red.acc, ir::Scope::Local)};
  std::vector<ir::Stmt> out{ir::make_alloc(part.buffer)};
  for (std::int64_t row = 0; row < R; ++row) {
    out.push_back(part.set(row, red.identity()));
    for (std::int64_t j = 0; j < per_row; ++j) out.push_back(part.set(row, red.fold(part.at(row), red.value(ir::make_load(in, {num(row * per_row + j)})))));
    out.push_back(part.set(row, red.across_lanes(31, part.at(row))));
  }
  if (warps > 1) {
    const ir::Expr tx = ctx.thread_var();
    auto at = [&](const ir::Expr& group, std::int64_t row) { return bin(ir::BinaryOp::Add, bin(ir::BinaryOp::Mul, group, num(R)), num(row)); };
    across_warps(ctx, out, red, part, R, warps * R, bin(ir::BinaryOp::EQ, bin(ir::BinaryOp::Mod, tx, num(32)), num(0)), warps, at,
                 bin(ir::BinaryOp::Div, tx, num(32)));
  }
  for (std::int64_t row = 0; row < R; ++row) out.push_back(store_result(op, red, ir::make_load(out_regs, {num(row)}), part.at(row)));
  return ir::make_seq(std::move(out));
}

// Any layouts: the source goes to shared memory (unless it is there already), then each thread
// folds the elements of the destination elements it holds.
ir::Stmt lower_generic(const ir::TileOpNode& op, ThreadLowering& ctx, const Reduction& red) {
  const ir::Region &src = op.regions[0], &dst = op.regions[1];
  const auto shape = const_extent(src, "reduce");
  const int dim = static_cast<int>(op.int_attr("dim"));
  std::int64_t numel = 1;
  for (auto e : shape) numel *= e;
  std::vector<std::int64_t> strides(shape.size(), 1);
  for (int d = static_cast<int>(shape.size()) - 2; d >= 0; --d) strides[d] = strides[d + 1] * shape[d + 1];
  std::vector<ir::Stmt> out;
  ir::Buffer ws;  // a fragment source's staged copy (row-major)
  if (src.buffer->scope == ir::Scope::Fragment) {
    require_whole_fragment(src, "reduce");
    ws = ctx.scratch(0, red.acc, numel);
    const ir::Buffer regs = ctx.registers(*src.buffer);
    out.push_back(registers(ctx, *src.buffer, [&](std::int64_t reg, const std::vector<ir::Expr>& t) {
      ir::Expr flat = num(0);
      for (size_t d = 0; d < t.size(); ++d)
        flat = bin(ir::BinaryOp::Add, flat, bin(ir::BinaryOp::Mul, ir::make_cast(DataType::Int32, t[d]), num(strides[d])));
      return ir::make_store(ws, {flat}, red.value(ir::make_load(regs, {num(reg)})));
    }));
    out.push_back(block_barrier());
  } else if (src.buffer->scope != ir::Scope::Shared) {
    throw CompileError(cat("cannot lower T::reduce_", std::get<std::string>(op.attrs.at("kind")), " from ", describe(src),
                           " for CUDA because it is a ", ir::spelling(src.buffer->scope), " buffer; reduce a fragment or a shared tile"));
  }
  auto for_dst = [&](const std::vector<ir::Expr>& dst_tile, const ir::Expr& dst_elem) {
    const ir::Buffer acc = ir::make_buffer("acc", {num(1)}, red.acc, ir::Scope::Var);
    const ir::Expr a = ir::make_load(acc, {num(0)});
    const ir::Var k = ir::make_var("k");
    ir::Expr x;
    if (ws) {
      ir::Expr flat = bin(ir::BinaryOp::Mul, k, num(strides[dim]));
      for (size_t d = 0, j = 0; d < shape.size(); ++d) {
        if (static_cast<int>(d) == dim || shape[d] == 1) continue;
        flat = bin(ir::BinaryOp::Add, flat, bin(ir::BinaryOp::Mul, dst_tile.at(j++), num(strides[d])));
      }
      x = ir::make_load(ws, {flat});
    } else {
      std::vector<ir::Expr> t;
      for (size_t d = 0, j = 0; d < shape.size(); ++d) {
        if (shape[d] == 1) continue;
        t.push_back(static_cast<int>(d) == dim ? ir::Expr(k) : dst_tile.at(j++));
      }
      x = red.value(ir::make_load(src.buffer, region_index(src, t)));
    }
    return ir::make_seq({ir::make_alloc(acc), ir::make_store(acc, {num(0)}, red.identity()),
                         ir::make_for(k, num(0), num(shape[dim]), ir::ForKind::Serial, ir::make_store(acc, {num(0)}, red.fold(a, x))),
                         store_result(op, red, dst_elem, a)});
  };
  if (dst.buffer->scope == ir::Scope::Fragment) {
    require_whole_fragment(dst, "reduce");
    const ir::Buffer regs = ctx.registers(*dst.buffer);
    out.push_back(registers(ctx, *dst.buffer, [&](std::int64_t reg, const std::vector<ir::Expr>& t) {
      return for_dst(t, ir::make_load(regs, {num(reg)}));
    }));
  } else {
    out.push_back(vectors(ctx, squeezed(const_extent(dst, "reduce")), 1, [&](const std::vector<ir::Expr>& t) {
      return for_dst(t, ir::make_load(dst.buffer, region_index(dst, t)));
    }));
  }
  out.push_back(block_barrier());
  return ir::make_seq(std::move(out));
}

// True when every thread holds an equal share of every row, row r in registers
// [r * C/T, (r+1) * C/T): what lower_partition_rows relies on. Checked by enumeration.
bool rows_are_register_blocks(ThreadLowering& ctx, const ir::BufferNode& src) {
  const std::int64_t R = *ir::as_const_int(src.shape[0]), C = *ir::as_const_int(src.shape[1]), T = ctx.threads();
  const FragmentInfo& f = ctx.fragment(src);
  if (C % T != 0 || f.registers != R * C / T) return false;
  for (std::int64_t t = 0; t < T; ++t)
    for (std::int64_t r = 0; r < f.registers; ++r) {
      auto owned = f.layout->owned(ir::make_int(t), ir::make_int(r));
      if (owned.valid && !ir::eval_int(owned.valid).value_or(0)) return false;
      if (ir::eval_int(owned.index[0]) != r / (C / T)) return false;
    }
  return true;
}

void lower_to_threads(const ir::TileOpNode& op, ThreadLowering& ctx) {
  const Reduction red = reduction(op);
  const auto &src = *op.regions[0].buffer, &dst = *op.regions[1].buffer;
  const bool frags = src.scope == ir::Scope::Fragment && dst.scope == ir::Scope::Fragment;
  if (frags) require_whole_fragment(op.regions[0], "reduce"), require_whole_fragment(op.regions[1], "reduce");
  const bool rows = frags && src.rank() == 2 && op.int_attr("dim") == 1;
  if (rows && ctx.fragment(src).family == "mma_accumulator" && ctx.fragment(dst).family == "mma_rows")
    return ctx.emit(lower_mma_rows(op, ctx, red));
  // Its lane reductions shuffle across all 32 lanes of every warp: whole warps only.
  if (rows && ctx.threads() % 32 == 0 && ctx.fragment(src).family == "partition" && ctx.fragment(dst).family == "replicated" &&
      rows_are_register_blocks(ctx, src))
    return ctx.emit(lower_partition_rows(op, ctx, red));
  ctx.emit(lower_generic(op, ctx, red));
}

// Row values of a 2-D tile go where the tile's rows are; any other reduction's result is computed
// by its owners from shared memory, so it takes the default partition.
std::optional<LayoutFlow> layout_flow(const ir::TileOpNode& op) {
  const bool rows = op.regions[0].buffer->rank() == 2 && op.int_attr("dim") == 1;
  return LayoutFlow{rows ? LayoutFlow::Kind::Rows : LayoutFlow::Kind::Computed, 0, 1};
}

}  // namespace

const TileOpDef& reduce_def() {
  static const TileOpDef def{.name = "reduce", .verify = verify, .run_cpu = run_cpu, .lower_to_threads = lower_to_threads, .destination = 1,
                             .layout_flow = layout_flow};
  return def;
}

}  // namespace tilescale::ops
