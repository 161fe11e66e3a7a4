// reduce_{sum,max,min,abssum,absmax}(src, dst, dim, clear): dst = reduction of src along dim.
// dst has src's extent without `dim`; with clear=false the result is combined with dst's contents.
// Both backends accumulate in accumulator(src dtype, dst dtype) (see lang.h), integers exactly.
#include <cmath>
#include <limits>

#include "ir/eval.h"
#include "ops/cuda_lowering.h"
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

// A reduction as generated code spells it: its functor (device/tilescale/reduce.h), the
// accumulator type and whether it folds absolute values.
struct Reduction {
  std::string op;
  DataType acc;
  bool absolute;
  std::string type() const { return c_type(acc); }
  // Absolute values are never below 0, so absmax starts from 0 (SumOp's identity).
  std::string identity() const { return cat(absolute ? "tl::SumOp" : op, "::identity<", type(), ">()"); }
  // A value of dtype `from` as an accumulator value.
  std::string value(const std::string& x, DataType from) const { return convert(x, from, acc); }
};

Reduction reduction(const ir::TileOpNode& op) {
  const std::string& kind = kind_of(op);
  const DataType acc = accumulator(op.regions[0].buffer->dtype, op.regions[1].buffer->dtype);
  if (kind == "sum" || kind == "abssum") return {"tl::SumOp", acc, kind == "abssum"};
  if (kind == "max" || kind == "absmax") return {"tl::MaxOp", acc, kind == "absmax"};
  if (kind == "min") return {"tl::MinOp", acc, false};
  throw InternalError(cat("unknown reduction ", kind));
}

// One element (already an accumulator value) folded into an accumulator: "acc = Op()(acc, tl::absolute(x))".
std::string fold(const Reduction& red, const std::string& acc, const std::string& x) {
  return cat(acc, " = ", red.op, "()(", acc, ", ", red.absolute ? cat("tl::absolute(", x, ")") : x, ");");
}

// The reduced value stored into dst register `reg`, combined with its old value unless clear.
void store_result(cuda::LowerContext& ctx, const ir::TileOpNode& op, const Reduction& red, const ir::BufferNode& dst,
                  const std::string& dst_elem, const std::string& value) {
  // `value` already holds absolute values where the reduction takes them.
  const std::string combined = op.int_attr("clear") ? value : cat(red.op, "()(", red.value(dst_elem, dst.dtype), ", ", value, ")");
  ctx.line(cat(dst_elem, " = ", convert(combined, red.acc, dst.dtype), ";"));
}

// Accumulator rows: per thread, fold the row's registers, then the quad's 4 lanes by shuffles, then
// the warps that share the row through shared memory.
void lower_mma_rows(const ir::TileOpNode& op, cuda::LowerContext& ctx, const Reduction& red) {
  const auto &src = *op.regions[0].buffer, &dst = *op.regions[1].buffer;
  const cuda::FragmentInfo& f = ctx.fragment(src);
  const std::int64_t N = *ir::as_const_int(src.shape[1]);
  const std::int64_t NI = N / f.warps_n / 8, MI = f.M / f.warps_m / 16;
  const std::string part = ctx.fresh("part");
  ctx.line(cat(red.type(), " ", part, "[", MI * 2, "];"));
  for (std::int64_t mi = 0; mi < MI; ++mi)
    for (std::int64_t h = 0; h < 2; ++h) {
      const std::string acc = cat(part, "[", mi * 2 + h, "]");
      ctx.line(cat(acc, " = ", red.identity(), ";"));
      for (std::int64_t ni = 0; ni < NI; ++ni)
        for (std::int64_t c = 0; c < 2; ++c)
          ctx.line(fold(red, acc, red.value(ctx.fragment_register(src, (mi * NI + ni) * 4 + h * 2 + c), src.dtype)));
      ctx.line(cat(acc, " = tl::lane_allreduce<3, ", red.op, ">(", acc, ");"));
    }
  if (f.warps_n > 1) {
    const std::string ws = ctx.fresh("ws");
    ctx.line(cat(red.type(), "* ", ws, " = reinterpret_cast<", red.type(), "*>(", ctx.workspace(f.warps_n * f.M * bytes(red.acc)), ");"));
    const std::string warp = cat("(tx / 32)"), row0 = cat("(", warp, " % ", f.warps_m, ") * ", f.M / f.warps_m, " + (tx % 32) / 4");
    ctx.open("if (tx % 4 == 0)");
    for (std::int64_t r = 0; r < MI * 2; ++r)
      ctx.line(cat(ws, "[(", warp, " / ", f.warps_m, ") * ", f.M, " + ", row0, " + ", (r / 2) * 16 + (r % 2) * 8, "] = ", part, "[", r, "];"));
    ctx.close();
    ctx.line(ctx.barrier());
    for (std::int64_t r = 0; r < MI * 2; ++r) {
      const std::string acc = cat(part, "[", r, "]");
      ctx.line(cat(acc, " = ", red.identity(), ";"));
      for (int w = 0; w < f.warps_n; ++w)
        ctx.line(cat(acc, " = ", red.op, "()(", acc, ", ", ws, "[", w * f.M, " + ", row0, " + ", (r / 2) * 16 + (r % 2) * 8, "]);"));
    }
    ctx.line(ctx.barrier());
  }
  for (std::int64_t r = 0; r < MI * 2; ++r)
    store_result(ctx, op, red, dst, ctx.fragment_register(dst, r), cat(part, "[", r, "]"));
}

// Partitioned rows that every thread holds a share of (columns a multiple of threads x vector):
// fold per thread, then across the whole block; every thread gets every row (replicated dst).
void lower_partition_rows(const ir::TileOpNode& op, cuda::LowerContext& ctx, const Reduction& red) {
  const auto &src = *op.regions[0].buffer, &dst = *op.regions[1].buffer;
  const std::int64_t R = *ir::as_const_int(src.shape[0]), C = *ir::as_const_int(src.shape[1]);
  const std::int64_t per_row = C / ctx.threads(), warps = ctx.threads() / 32;
  const std::string part = ctx.fresh("part");
  ctx.line(cat(red.type(), " ", part, "[", R, "];"));
  for (std::int64_t row = 0; row < R; ++row) {
    const std::string acc = cat(part, "[", row, "]");
    ctx.line(cat(acc, " = ", red.identity(), ";"));
    for (std::int64_t j = 0; j < per_row; ++j)
      ctx.line(fold(red, acc, red.value(ctx.fragment_register(src, row * per_row + j), src.dtype)));
    ctx.line(cat(acc, " = tl::lane_allreduce<31, ", red.op, ">(", acc, ");"));
  }
  if (warps > 1) {
    const std::string ws = ctx.fresh("ws");
    ctx.line(cat(red.type(), "* ", ws, " = reinterpret_cast<", red.type(), "*>(", ctx.workspace(warps * R * bytes(red.acc)), ");"));
    ctx.open("if (tx % 32 == 0)");
    for (std::int64_t row = 0; row < R; ++row) ctx.line(cat(ws, "[(tx / 32) * ", R, " + ", row, "] = ", part, "[", row, "];"));
    ctx.close();
    ctx.line(ctx.barrier());
    for (std::int64_t row = 0; row < R; ++row) {
      const std::string acc = cat(part, "[", row, "]");
      ctx.line(cat(acc, " = ", red.identity(), ";"));
      for (std::int64_t w = 0; w < warps; ++w) ctx.line(cat(acc, " = ", red.op, "()(", acc, ", ", ws, "[", w * R + row, "]);"));
    }
    ctx.line(ctx.barrier());
  }
  for (std::int64_t row = 0; row < R; ++row)
    store_result(ctx, op, red, dst, ctx.fragment_register(dst, row), cat(part, "[", row, "]"));
}

// Any layouts: the source goes to shared memory (unless it is there already), then each thread
// folds the elements of the destination elements it holds.
void lower_generic(const ir::TileOpNode& op, cuda::LowerContext& ctx, const Reduction& red) {
  const ir::Region &src = op.regions[0], &dst = op.regions[1];
  const auto shape = const_extent(src, "reduce");
  const int dim = static_cast<int>(op.int_attr("dim"));
  std::int64_t numel = 1;
  for (auto e : shape) numel *= e;
  std::vector<std::int64_t> strides(shape.size(), 1);
  for (int d = static_cast<int>(shape.size()) - 2; d >= 0; --d) strides[d] = strides[d + 1] * shape[d + 1];
  // Element (full src tile index) as C++.
  std::function<std::string(const std::vector<ir::Expr>&)> read;
  std::string ws;
  if (src.buffer->scope == ir::Scope::Fragment) {
    require_whole_fragment(src, "reduce");
    ws = ctx.fresh("ws");
    ctx.line(cat(red.type(), "* ", ws, " = reinterpret_cast<", red.type(), "*>(", ctx.workspace(numel * bytes(red.acc)), ");"));
    for_each_register(ctx, *src.buffer, [&](std::int64_t reg, const std::vector<ir::Expr>& t) {
      ir::Expr flat = ir::make_int(0);
      for (size_t d = 0; d < t.size(); ++d)
        flat = ir::make_binary(ir::BinaryOp::Add, flat, ir::make_binary(ir::BinaryOp::Mul, ir::make_cast(DataType::Int32, t[d]), ir::make_int(strides[d])));
      ctx.line(cat(ws, "[", ctx.expr(flat), "] = ", red.value(ctx.fragment_register(*src.buffer, reg), src.buffer->dtype), ";"));
    });
    ctx.line(ctx.barrier());
  } else if (src.buffer->scope != ir::Scope::Shared) {
    throw CompileError(cat("cannot lower T::reduce_", std::get<std::string>(op.attrs.at("kind")), " from ", describe(src),
                           " for CUDA because it is a ", ir::spelling(src.buffer->scope), " buffer; reduce a fragment or a shared tile"));
  }
  auto emit_for_dst = [&](const std::vector<ir::Expr>& dst_tile, const std::string& dst_elem) {
    const std::string acc = ctx.fresh("acc");
    const ir::Var kv = ctx.fresh_var("k");
    const std::string k = ctx.expr(kv);
    ctx.line(cat(red.type(), " ", acc, " = ", red.identity(), ";"));
    ctx.open(cat("for (int ", k, " = 0; ", k, " < ", shape[dim], "; ++", k, ")"));
    std::string flat = cat(k, " * ", strides[dim]);
    for (size_t d = 0, j = 0; d < shape.size(); ++d) {
      if (static_cast<int>(d) == dim) continue;
      if (shape[d] == 1) continue;
      flat += cat(" + (", ctx.expr(dst_tile.at(j++)), ") * ", strides[d]);
    }
    if (!ws.empty()) {
      ctx.line(fold(red, acc, cat(ws, "[", flat, "]")));
    } else {
      std::vector<ir::Expr> t;
      for (size_t d = 0, j = 0; d < shape.size(); ++d) {
        if (shape[d] == 1) continue;
        t.push_back(static_cast<int>(d) == dim ? ir::Expr(kv) : dst_tile.at(j++));
      }
      ctx.line(fold(red, acc, red.value(ctx.element(*src.buffer, region_index(src, t)), src.buffer->dtype)));
    }
    ctx.close();
    store_result(ctx, op, red, *dst.buffer, dst_elem, acc);
  };
  if (dst.buffer->scope == ir::Scope::Fragment) {
    require_whole_fragment(dst, "reduce");
    for_each_register(ctx, *dst.buffer, [&](std::int64_t reg, const std::vector<ir::Expr>& t) {
      emit_for_dst(t, ctx.fragment_register(*dst.buffer, reg));
    });
  } else {
    for_each_vector(ctx, squeezed(const_extent(dst, "reduce")), 1, [&](const std::vector<ir::Expr>& t) {
      emit_for_dst(t, ctx.element(*dst.buffer, region_index(dst, t)));
    });
  }
  ctx.line(ctx.barrier());
}

// True when every thread holds an equal share of every row, row r in registers
// [r * C/T, (r+1) * C/T): what lower_partition_rows relies on. Checked by enumeration.
bool rows_are_register_blocks(cuda::LowerContext& ctx, const ir::BufferNode& src) {
  const std::int64_t R = *ir::as_const_int(src.shape[0]), C = *ir::as_const_int(src.shape[1]), T = ctx.threads();
  const cuda::FragmentInfo& f = ctx.fragment(src);
  if (C % T != 0 || f.registers != R * C / T) return false;
  for (std::int64_t t = 0; t < T; ++t)
    for (std::int64_t r = 0; r < f.registers; ++r) {
      auto owned = f.layout->owned(ir::make_int(t), ir::make_int(r));
      if (owned.valid && !ir::eval_int(owned.valid).value_or(0)) return false;
      if (ir::eval_int(owned.index[0]) != r / (C / T)) return false;
    }
  return true;
}

void lower_cuda(const ir::TileOpNode& op, cuda::LowerContext& ctx) {
  const Reduction red = reduction(op);
  const auto &src = *op.regions[0].buffer, &dst = *op.regions[1].buffer;
  const bool frags = src.scope == ir::Scope::Fragment && dst.scope == ir::Scope::Fragment;
  if (frags) require_whole_fragment(op.regions[0], "reduce"), require_whole_fragment(op.regions[1], "reduce");
  const bool rows = frags && src.rank() == 2 && op.int_attr("dim") == 1;
  if (rows && ctx.fragment(src).family == "mma_accumulator" && ctx.fragment(dst).family == "mma_rows")
    return lower_mma_rows(op, ctx, red);
  if (rows && ctx.fragment(src).family == "partition" && ctx.fragment(dst).family == "replicated" &&
      rows_are_register_blocks(ctx, src))
    return lower_partition_rows(op, ctx, red);
  lower_generic(op, ctx, red);
}

// Row values of a 2-D tile go where the tile's rows are; any other reduction's result is computed
// by its owners from shared memory, so it takes the default partition.
std::optional<LayoutFlow> layout_flow(const ir::TileOpNode& op) {
  const bool rows = op.regions[0].buffer->rank() == 2 && op.int_attr("dim") == 1;
  return LayoutFlow{rows ? LayoutFlow::Kind::Rows : LayoutFlow::Kind::Computed, 0, 1};
}

}  // namespace

const TileOpDef& reduce_def() {
  static const TileOpDef def{.name = "reduce", .verify = verify, .run_cpu = run_cpu, .lower_cuda = lower_cuda, .destination = 1,
                             .layout_flow = layout_flow};
  return def;
}

}  // namespace tilescale::ops
