#include "layout/gemm_fragments.h"

namespace tilescale::layout {

namespace {

using ir::BinaryOp;
using ir::Expr;

Expr c(std::int64_t v) { return ir::make_int(v); }
Expr add(Expr a, Expr b) { return ir::make_binary(BinaryOp::Add, std::move(a), std::move(b)); }
Expr mul(Expr a, std::int64_t b) { return ir::make_binary(BinaryOp::Mul, std::move(a), c(b)); }
Expr div(Expr a, std::int64_t b) { return ir::make_binary(BinaryOp::Div, std::move(a), c(b)); }
Expr mod(Expr a, std::int64_t b) { return ir::make_binary(BinaryOp::Mod, std::move(a), c(b)); }

std::vector<Expr> shape_of(const std::vector<std::int64_t>& shape) {
  std::vector<Expr> out;
  for (auto e : shape) out.push_back(c(e));
  return out;
}

std::vector<ir::Var> index_vars(size_t n) {
  static const char* const names[] = {"i", "j", "k", "l", "m", "n", "o", "p"};
  std::vector<ir::Var> vars;
  for (size_t d = 0; d < n; ++d) vars.push_back(ir::make_var(names[d % 8]));
  return vars;
}

// Row-major unflattening of `flat` over `shape`.
std::vector<Expr> unflatten(const Expr& flat, const std::vector<std::int64_t>& shape) {
  std::vector<Expr> idx(shape.size());
  std::int64_t stride = 1;
  for (int d = static_cast<int>(shape.size()) - 1; d >= 0; --d) {
    Expr q = stride == 1 ? flat : div(flat, stride);
    idx[d] = d == 0 ? q : mod(q, shape[d]);
    stride *= shape[d];
  }
  return idx;
}

std::int64_t product(const std::vector<std::int64_t>& v) {
  std::int64_t p = 1;
  for (auto e : v) p *= e;
  return p;
}

// Where row i of an M-row accumulator sits in the warp grid: its warp row and its row within the
// WM = M / warps_m rows that warp row holds (mma_accumulator's `im`, whose 16-row groups are the
// warp's m tiles).
struct WarpRow {
  Expr warp_m, im;
};

WarpRow warp_row_of(const Expr& i, std::int64_t WM, WarpRows arrangement) {
  if (arrangement == WarpRows::Contiguous) return {div(i, WM), mod(i, WM)};
  const std::int64_t G = 4 * WM;  // a warpgroup's rows: WM / 16 tiles of 64
  return {add(mul(div(i, G), 4), div(mod(i, 64), 16)), add(mul(div(mod(i, G), 64), 16), mod(i, 16))};
}

// The inverse for WarpRows::M64Tiles: the accumulator row of row `im` of warp row `warp_m`.
Expr m64_tiles_row(const Expr& warp_m, const Expr& im, std::int64_t WM) {
  return add(add(mul(div(warp_m, 4), 4 * WM), mul(div(im, 16), 64)), add(mul(mod(warp_m, 4), 16), mod(im, 16)));
}

void check_arrangement(std::int64_t M, int warps_m, WarpRows arrangement) {
  TS_ICHECK(M % (16 * warps_m) == 0, "mma rows ", M, " over ", warps_m, " warps");
  TS_ICHECK(arrangement == WarpRows::Contiguous || warps_m % 4 == 0, "m64 tiles of ", M, " rows over ", warps_m, " warps");
}

// The accumulator map for element (i, j) of an M x N accumulator, and its owner map.
struct AccumulatorMaps {
  Expr thread, reg;
  ir::Var t, r;
  Expr row, col;
};

AccumulatorMaps accumulator_maps(std::int64_t M, std::int64_t N, int warps_m, int warps_n, WarpRows arrangement, const Expr& i,
                                 const Expr& j) {
  check_arrangement(M, warps_m, arrangement);
  TS_ICHECK(N % (8 * warps_n) == 0, "mma accumulator ", M, "x", N, " over ", warps_m, "x", warps_n, " warps");
  const std::int64_t WM = M / warps_m, WN = N / warps_n, NI = WN / 8;
  AccumulatorMaps m;
  // Forward: (i, j) -> thread, register.
  const WarpRow w = warp_row_of(i, WM, arrangement);
  const Expr warp_n = div(j, WN), im = w.im, jn = mod(j, WN);
  const Expr lane = add(mul(mod(im, 8), 4), div(mod(jn, 8), 2));
  m.thread = add(mul(add(w.warp_m, mul(warp_n, warps_m)), 32), lane);
  m.reg = add(mul(add(mul(div(im, 16), NI), div(jn, 8)), 4), add(mul(div(mod(im, 16), 8), 2), mod(jn, 2)));
  // Owner map: (thread t, register r) -> (row, col).
  m.t = ir::make_var("t"), m.r = ir::make_var("r");
  const Expr warp = div(m.t, 32), l = mod(m.t, 32);
  const Expr tile = div(m.r, 4), rr = mod(m.r, 4);
  m.row = arrangement == WarpRows::Contiguous
              ? add(add(mul(mod(warp, warps_m), WM), mul(div(tile, NI), 16)), add(div(l, 4), mul(div(rr, 2), 8)))
              : m64_tiles_row(mod(warp, warps_m), add(mul(div(tile, NI), 16), add(div(l, 4), mul(div(rr, 2), 8))), WM);
  m.col = add(add(mul(div(warp, warps_m), WN), mul(mod(tile, NI), 8)), add(mul(mod(l, 4), 2), mod(rr, 2)));
  return m;
}

}  // namespace

std::shared_ptr<const Fragment> mma_accumulator(std::int64_t M, std::int64_t N, int warps_m, int warps_n, WarpRows arrangement) {
  auto v = index_vars(2);
  const AccumulatorMaps m = accumulator_maps(M, N, warps_m, warps_n, arrangement, v[0], v[1]);
  return Fragment::make({c(M), c(N)}, v, m.thread, {m.reg})->with_owner_map(m.t, m.r, {m.row, m.col});
}

std::shared_ptr<const Fragment> mma_accumulator_transposed(std::int64_t M, std::int64_t N, int warps_m, int warps_n) {
  auto v = index_vars(2);  // (i, j) over [N][M]: the accumulator's (j, i)
  const AccumulatorMaps m = accumulator_maps(M, N, warps_m, warps_n, WarpRows::Contiguous, v[1], v[0]);
  return Fragment::make({c(N), c(M)}, v, m.thread, {m.reg})->with_owner_map(m.t, m.r, {m.col, m.row});
}

std::shared_ptr<const Fragment> mma_rows(std::int64_t M, int warps_m, int warps_n, WarpRows arrangement) {
  check_arrangement(M, warps_m, arrangement);
  const std::int64_t WM = M / warps_m;
  auto v = index_vars(1);
  ir::Var rep = ir::make_var("q");  // copy q: lane%4 = q % 4, warp_n = q / 4
  const WarpRow w = warp_row_of(v[0], WM, arrangement);
  const Expr im = w.im;
  const Expr warp = add(w.warp_m, mul(div(rep, 4), warps_m));
  const Expr thread = add(mul(warp, 32), add(mul(mod(im, 8), 4), mod(rep, 4)));
  const Expr reg = add(mul(div(im, 16), 2), div(mod(im, 16), 8));
  auto f = Fragment::make({c(M)}, v, thread, {reg}, 4 * warps_n, rep);
  ir::Var t = ir::make_var("t"), r = ir::make_var("r");
  const Expr warp_m = mod(div(t, 32), warps_m);
  const Expr row = arrangement == WarpRows::Contiguous
                       ? add(add(mul(warp_m, WM), mul(div(r, 2), 16)), add(mul(mod(r, 2), 8), div(mod(t, 32), 4)))
                       : m64_tiles_row(warp_m, add(mul(div(r, 2), 16), add(mul(mod(r, 2), 8), div(mod(t, 32), 4))), WM);
  return f->with_owner_map(t, r, {row});
}

std::shared_ptr<const Fragment> partition(const std::vector<std::int64_t>& shape, std::int64_t threads,
                                          std::int64_t vector_width) {
  auto f = Fragment::row_major_partition(shape, threads, vector_width);
  ir::Var t = ir::make_var("t"), r = ir::make_var("r");
  // Register r of thread t: vector r / w of the thread's, element r % w in it.
  const Expr flat = add(mul(add(mul(div(r, vector_width), threads), t), vector_width), mod(r, vector_width));
  const std::int64_t n = product(shape);
  Expr valid = n % (threads * vector_width) == 0 ? nullptr : ir::make_binary(BinaryOp::LT, flat, c(n));
  return f->with_owner_map(t, r, unflatten(flat, shape), valid);
}

std::shared_ptr<const Fragment> replicated(const std::vector<std::int64_t>& shape, std::int64_t threads) {
  auto v = index_vars(shape.size());
  Expr flat = c(0);
  std::int64_t stride = 1;
  for (int d = static_cast<int>(shape.size()) - 1; d >= 0; --d) {
    flat = add(flat, mul(v[d], stride));
    stride *= shape[d];
  }
  ir::Var rep = ir::make_var("q");
  auto f = Fragment::make(shape_of(shape), v, rep, {flat}, threads, rep);
  ir::Var t = ir::make_var("t"), r = ir::make_var("r");
  return f->with_owner_map(t, r, unflatten(r, shape));
}

}  // namespace tilescale::layout
