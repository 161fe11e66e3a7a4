#include "ops/cuda_lowering.h"

#include "ir/eval.h"
#include "ir/printer.h"

namespace tilescale::ops::cuda_lowering {

using tilescale::detail::cat;
using ir::BinaryOp;

namespace {
ir::Expr i32(const ir::Expr& e) { return ir::make_cast(DataType::Int32, e); }
// Tile arithmetic is int32 unless an operand is 64-bit: a base that widen_indices made 64-bit (or
// a 64-bit extent) keeps the index and its bound check 64-bit. The other operand (a coordinate
// inside the tile, a constant, an extent) never wraps in 32 bits, so it is converted as it is and
// its own arithmetic (v / 32, v % 32) stays 32-bit.
ir::Expr index_op(BinaryOp op, const ir::Expr& a, const ir::Expr& b) {
  if (bits(a->dtype) == 64 || bits(b->dtype) == 64)
    return ir::make_binary(op, ir::make_cast(DataType::Int64, a), ir::make_cast(DataType::Int64, b));
  return ir::make_binary(op, i32(a), i32(b));
}
ir::Expr add(const ir::Expr& a, const ir::Expr& b) { return index_op(BinaryOp::Add, a, b); }
ir::Expr c(std::int64_t v) { return ir::make_int(v); }

// The index in a tile of `shape` of its row-major element number v.
std::vector<ir::Expr> tile_at(const ir::Var& v, const std::vector<std::int64_t>& shape) {
  std::vector<ir::Expr> tile(shape.size());
  std::int64_t stride = 1;
  for (int d = static_cast<int>(shape.size()) - 1; d >= 0; --d) {
    ir::Expr q = stride == 1 ? ir::Expr(v) : ir::make_binary(BinaryOp::Div, v, c(stride));
    tile[d] = d == 0 ? q : ir::make_binary(BinaryOp::Mod, q, c(shape[d]));
    stride *= shape[d];
  }
  return tile;
}
}  // namespace

std::vector<std::int64_t> const_extent(const ir::Region& r, const char* op) {
  std::vector<std::int64_t> out;
  for (size_t d = 0; d < r.extent.size(); ++d) {
    auto v = ir::as_const_int(r.extent[d]);
    if (!v)
      throw CompileError(cat("cannot lower T::", op, " on ", ir::print(r), " for CUDA because its extent in dim ", d, " (",
                             ir::print(r.extent[d]), ") is not a constant; tiles have constant shapes"));
    out.push_back(*v);
  }
  return out;
}

std::vector<std::int64_t> squeezed(const std::vector<std::int64_t>& extent) {
  std::vector<std::int64_t> out;
  for (auto e : extent)
    if (e != 1) out.push_back(e);
  return out;
}

std::vector<ir::Expr> region_index(const ir::Region& r, const std::vector<ir::Expr>& tile) {
  std::vector<ir::Expr> idx;
  size_t k = 0;
  for (int d = 0; d < r.rank(); ++d) {
    const bool unit = ir::as_const_int(r.extent[d]) == 1;
    idx.push_back(unit ? (bits(r.base[d]->dtype) == 64 ? r.base[d] : i32(r.base[d])) : add(r.base[d], tile.at(k++)));
  }
  TS_ICHECK(k == tile.size(), "tile index of rank ", tile.size(), " for ", ir::print(r));
  return idx;
}

ir::Expr all_of(const std::vector<ir::Expr>& conds) {
  ir::Expr out;
  for (const auto& e : conds) out = out ? ir::make_binary(BinaryOp::And, out, e) : e;
  return out;
}

ir::Expr inside(ThreadLowering& ctx, const ir::Region& r, const std::vector<ir::Expr>& tile, std::int64_t vec) {
  if (r.buffer->scope != ir::Scope::Global) return nullptr;
  const auto idx = region_index(r, tile);
  std::vector<ir::Expr> conds;
  for (int d = 0; d < r.rank(); ++d) {
    ir::Expr last = d == r.rank() - 1 && vec > 1 ? add(idx[d], c(vec - 1)) : idx[d];
    ir::Expr bound = index_op(BinaryOp::LT, last, r.buffer->shape[d]);
    // Provably inside for every block, thread and iteration: no test.
    if (ctx.provably(bound)) continue;
    conds.push_back(bound);
  }
  return all_of(conds);
}

ir::Stmt vectors(ThreadLowering& ctx, const std::vector<std::int64_t>& shape, std::int64_t vec,
                 const std::function<ir::Stmt(const std::vector<ir::Expr>& tile)>& body, bool compact) {
  std::int64_t numel = 1;
  for (auto e : shape) numel *= e;
  const std::int64_t vectors = numel / vec, T = ctx.threads();
  const std::int64_t rounds = (vectors + T - 1) / T;
  const ir::Var v = ir::make_var("v");
  ctx.set_range(v, 0, (vectors - 1) * vec, vec);
  const ir::Stmt each = body(tile_at(v, shape));
  auto one = [&](const ir::Expr& id, bool partial) {
    const ir::Attrs range{{"multiple", vec}};
    const ir::Stmt bound = ir::make_scoped("bind", range, each, {v, ir::make_binary(BinaryOp::Mul, id, c(vec)), c(0), c((vectors - 1) * vec + 1)});
    return partial ? ir::make_if(ir::make_binary(BinaryOp::LT, id, c(vectors)), bound) : bound;
  };
  if (compact) {
    const ir::Var it = ir::make_var("it");
    return ir::make_for(it, c(0), c(rounds), ir::ForKind::Rolled,
                        one(add(ir::make_binary(BinaryOp::Mul, it, c(T)), ctx.thread_var()), vectors % T != 0));
  }
  std::vector<ir::Stmt> out;
  for (std::int64_t it = 0; it < rounds; ++it) out.push_back(one(add(c(it * T), ctx.thread_var()), (it + 1) * T > vectors));
  return ir::make_seq(std::move(out));
}

ir::Stmt registers(ThreadLowering& ctx, const ir::BufferNode& b,
                   const std::function<ir::Stmt(std::int64_t reg, const std::vector<ir::Expr>& tile)>& body, std::int64_t step) {
  const FragmentInfo& f = ctx.fragment(b);
  std::vector<ir::Stmt> out;
  for (std::int64_t reg = 0; reg < f.registers; reg += step) {
    auto owned = f.layout->owned(ctx.thread_var(), c(reg));
    std::vector<ir::Expr> tile;
    for (size_t d = 0; d < b.shape.size(); ++d)
      if (ir::as_const_int(b.shape[d]) != 1) tile.push_back(owned.index[d]);
    out.push_back(guarded(owned.valid, body(reg, tile)));
  }
  return ir::make_seq(std::move(out));
}

ir::Stmt guarded(const ir::Expr& cond, ir::Stmt s) { return cond ? ir::make_if(cond, std::move(s)) : s; }

ir::Expr converted(const ir::Expr& value, DataType to) { return value->dtype == to ? value : ir::make_cast(to, value); }

ir::Expr or_zero(const ir::Expr& in, const ir::Expr& value) {
  return in ? ir::make_select(in, value, ir::make_cast(value->dtype, ir::make_float(0.0))) : value;
}

void require_whole_fragment(const ir::Region& r, const char* op) {
  for (int d = 0; d < r.rank(); ++d)
    if (ir::as_const_int(r.base[d]) != 0 || ir::as_const_int(r.extent[d]) != ir::as_const_int(r.buffer->shape[d]))
      throw CompileError(cat("cannot lower T::", op, " on ", ir::print(r), " for CUDA because it is part of fragment ",
                             r.buffer->name, "; fragments are used whole (their elements live in different threads)"));
}

}  // namespace tilescale::ops::cuda_lowering
