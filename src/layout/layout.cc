#include "layout/layout.h"

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <type_traits>
#include <utility>

#include "ir/eval.h"
#include "ir/printer.h"
#include "ir/visitor.h"

namespace tilescale::layout {
namespace {

using ir::BinaryOp;
using ir::Expr;
using Shape = std::vector<std::int64_t>;

// Expression building that skips what a constant operand makes trivial, so that layouts print
// the way one would write them by hand.
bool is_const(const Expr& e, std::int64_t v) {
  auto c = ir::as_const_int(e);
  return c && *c == v;
}

Expr binop(BinaryOp op, const Expr& a, std::int64_t k) {
  if (k == 1 && (op == BinaryOp::Mul || op == BinaryOp::Div)) return a;
  if (k == 1 && op == BinaryOp::Mod) return ir::make_int(0, a->dtype);
  if (k == 0 && (op == BinaryOp::Shl || op == BinaryOp::Shr)) return a;
  return ir::make_binary(op, a, ir::make_int(k, a->dtype));
}

// Either operand may be null (an empty sum).
Expr combine(BinaryOp op, const Expr& a, const Expr& b) {
  if (!a || is_const(a, 0)) return b;
  if (!b || is_const(b, 0)) return a;
  return ir::make_binary(op, a, ir::make_cast(a->dtype, b));
}

std::int64_t product(const Shape& s) {
  std::int64_t n = 1;
  for (auto e : s) n *= e;
  return n;
}

Shape row_major_strides(const Shape& s) {
  Shape stride(s.size(), 1);
  for (size_t k = s.size(); k-- > 1;) stride[k - 1] = stride[k] * s[k];
  return stride;
}

std::int64_t flatten(const Shape& index, const Shape& stride) {
  std::int64_t f = 0;
  for (size_t k = 0; k < index.size(); ++k) f += index[k] * stride[k];
  return f;
}

// Calls fn on every index of the box, in row-major order.
void for_each_index(const Shape& shape, const std::function<void(const Shape&)>& fn) {
  if (product(shape) <= 0 && !shape.empty()) return;
  Shape x(shape.size(), 0);
  while (true) {
    fn(x);
    size_t k = shape.size();
    while (k > 0 && ++x[k - 1] == shape[k - 1]) x[--k] = 0;
    if (k == 0) return;
  }
}

std::optional<Shape> try_const_shape(const std::vector<Expr>& shape) {
  Shape s;
  for (const auto& e : shape) {
    auto c = ir::as_const_int(e);
    if (!c) return std::nullopt;
    s.push_back(*c);
  }
  return s;
}

Shape const_shape(const Layout& l) {
  auto s = try_const_shape(l.input_shape());
  TS_ICHECK(s, "layout ", l.to_string(), " has a non-constant input shape");
  return *s;
}

std::vector<Expr> shape_exprs(const Shape& s) {
  std::vector<Expr> out;
  for (auto e : s) out.push_back(ir::make_int(e));
  return out;
}

std::vector<ir::Var> index_vars(size_t rank) {
  static const char* names[] = {"i", "j", "k", "l"};
  std::vector<ir::Var> vars;
  for (size_t k = 0; k < rank; ++k)
    vars.push_back(ir::make_var(rank <= 4 ? std::string(names[k]) : "i" + std::to_string(k)));
  return vars;
}

// Σ vars[k] * stride[k]
Expr linear(const std::vector<ir::Var>& vars, const Shape& stride) {
  Expr sum;
  for (size_t k = 0; k < vars.size(); ++k) sum = combine(BinaryOp::Add, sum, binop(BinaryOp::Mul, vars[k], stride[k]));
  return sum ? sum : ir::make_int(0);
}

std::map<const ir::VarNode*, std::int64_t> bind(const std::vector<ir::Var>& vars, const Shape& index) {
  TS_ICHECK(vars.size() == index.size(), "index of rank ", index.size(), " for a layout of rank ", vars.size());
  std::map<const ir::VarNode*, std::int64_t> b;
  for (size_t k = 0; k < vars.size(); ++k) b[vars[k].get()] = index[k];
  return b;
}

std::int64_t eval_or_throw(const Expr& e, const std::map<const ir::VarNode*, std::int64_t>& b, const Layout& l) {
  auto v = ir::eval_int(e, b);
  TS_ICHECK(v, "layout ", l.to_string(), " does not evaluate to a constant at this index");
  return *v;
}

// Python tuple syntax: (a, b), (a,), ().
std::string tuple(const std::vector<std::string>& items) {
  std::string s = "(";
  for (size_t k = 0; k < items.size(); ++k) s += (k ? ", " : "") + items[k];
  return s + (items.size() == 1 ? ",)" : ")");
}
template <typename T>
std::string tuple_of(const std::vector<T>& items) {
  std::vector<std::string> text;
  for (const auto& e : items) {
    if constexpr (std::is_same_v<T, std::int64_t>) text.push_back(std::to_string(e));
    else text.push_back(ir::print(Expr(e)));
  }
  return tuple(text);
}

// The physical index of every logical index, in row-major order of the input box.
std::vector<Shape> images(const Layout& l) {
  std::vector<Shape> out;
  for_each_index(const_shape(l), [&](const Shape& x) { out.push_back(l.map(x)); });
  return out;
}

Shape box_of(const std::vector<Shape>& images, size_t rank) {
  Shape box(rank, 0);
  for (const auto& y : images)
    for (size_t d = 0; d < rank; ++d) box[d] = std::max(box[d], y[d] + 1);
  return box;
}

// Why the layout with these images is not a bijection onto its output box, or nullopt when it is.
std::optional<std::string> bijection_defect(const Layout& l, const std::vector<Shape>& ys) {
  const Shape in = const_shape(l);
  const Shape box = box_of(ys, l.forward_index().size());
  const Shape box_stride = row_major_strides(box);
  const Shape in_stride = row_major_strides(in);
  auto logical = [&](std::int64_t f) {
    Shape x(in.size());
    for (size_t k = 0; k < in.size(); ++k) x[k] = f / in_stride[k] % in[k];
    return tuple_of(x);
  };
  std::vector<std::int64_t> owner(product(box), -1);
  for (std::int64_t f = 0; f < static_cast<std::int64_t>(ys.size()); ++f) {
    if (std::any_of(ys[f].begin(), ys[f].end(), [](std::int64_t v) { return v < 0; }))
      return detail::cat("logical index ", logical(f), " maps to the negative physical index ", tuple_of(ys[f]));
    auto& o = owner[flatten(ys[f], box_stride)];
    if (o >= 0)
      return detail::cat("logical indices ", logical(o), " and ", logical(f), " both map to physical index ",
                         tuple_of(ys[f]));
    o = f;
  }
  for (std::int64_t p = 0; p < static_cast<std::int64_t>(owner.size()); ++p) {
    if (owner[p] >= 0) continue;
    Shape y(box.size());
    for (size_t d = 0; d < box.size(); ++d) y[d] = p / box_stride[d] % box[d];
    return detail::cat("physical index ", tuple_of(y), " of its output box ", tuple_of(box), " is not the image of any logical index");
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// Inversion.
//
// With the output flattened row-major to L in [0, N), a bijective layout is a permutation of
// [0, N). Two shapes of permutation are recognised and inverted into index expressions:
//
//  * digits: input dimension k splits into mixed-radix digits x_k = Σ d * place, each digit adding
//    d * stride to L (row-major, column-major, transposes, reshapes, repeats). A digit is found as
//    a period: L(x + place·e_k) = L(x) + stride on the whole remaining box.
//  * bits: on a power-of-two box, L is linear over GF(2) in the bits of the index (XOR swizzles);
//    inverting the bit matrix gives every index bit as an XOR of bits of L.
//
// Digits are peeled first and what remains of the box (the base) must be bit-linear onto a
// contiguous range stride·[0, M); failing that, the innermost digits are returned to the base one
// at a time. All of it is tried on the input dimensions, then on the row-major flattened input.

struct Table {
  Shape extent, stride;
  std::vector<std::int64_t> value;  // L per row-major input index
  std::int64_t at(const Shape& x) const { return value[flatten(x, stride)]; }
};

struct Digit {
  size_t dim;
  std::int64_t place, radix, stride;
};

bool periodic(const Table& t, const Shape& box, size_t k, std::int64_t place, std::int64_t stride) {
  bool ok = true;
  const std::int64_t step = place * t.stride[k];
  for_each_index(box, [&](const Shape& x) {
    if (x[k] + place < box[k]) {
      const std::int64_t f = flatten(x, t.stride);
      ok = ok && t.value[f + step] - t.value[f] == stride;
    }
  });
  return ok;
}

// Peels digits off `box` (shrinking it to the base), largest place first per dimension.
std::vector<Digit> peel_digits(const Table& t, Shape& box) {
  std::vector<Digit> digits;
  for (bool found = true; found;) {
    found = false;
    for (size_t k = 0; k < box.size() && !found; ++k)
      for (std::int64_t p = 1; p < box[k] && !found; ++p) {
        if (box[k] % p) continue;
        const std::int64_t stride = t.value[p * t.stride[k]] - t.value[0];
        if (!periodic(t, box, k, p, stride)) continue;
        digits.push_back({k, p, box[k] / p, stride});
        box[k] = p;
        found = true;
      }
  }
  return digits;
}

int log2_exact(std::int64_t v) {
  int b = 0;
  while ((std::int64_t{1} << b) < v) ++b;
  return (std::int64_t{1} << b) == v ? b : -1;
}

// The inverse index expressions over the flat output `L`, when `digits` and the bit-linear `base`
// box together tile [0, N) exactly.
std::optional<std::vector<Expr>> assemble(const Table& t, const std::vector<Digit>& digits, const Shape& base,
                                          const Expr& L) {
  const std::int64_t n_total = static_cast<std::int64_t>(t.value.size());
  const std::int64_t m = product(base);
  std::vector<std::pair<std::int64_t, std::int64_t>> pieces;  // (stride, radix)
  for (const auto& d : digits) pieces.push_back({d.stride, d.radix});

  // The base as a bit matrix: input bit q = in_bits[q] (dim, bit) sets the L-bits rows[q].first.
  // Gauss-Jordan elimination turns it into its inverse: L-bit c alone is the image of the XOR of
  // the input bits in source[c], so L-bit c feeds each of those input bits.
  std::vector<std::pair<size_t, int>> in_bits;
  std::vector<std::uint64_t> source;
  std::int64_t base_stride = 1;
  if (m > 1) {
    for (size_t k = 0; k < base.size(); ++k) {
      const int b = log2_exact(base[k]);
      if (b < 0) return std::nullopt;
      for (int q = 0; q < b; ++q) in_bits.push_back({k, q});
    }
    base_stride = n_total;
    for_each_index(base, [&](const Shape& x) {
      if (t.at(x) > 0) base_stride = std::min(base_stride, t.at(x));
    });
    std::vector<std::pair<std::uint64_t, std::uint64_t>> rows;  // (L bits, input bits)
    for (size_t q = 0; q < in_bits.size(); ++q) {
      Shape x(base.size(), 0);
      x[in_bits[q].first] = std::int64_t{1} << in_bits[q].second;
      rows.push_back({static_cast<std::uint64_t>(t.at(x) / base_stride), std::uint64_t{1} << q});
    }
    bool linear = true;
    for_each_index(base, [&](const Shape& x) {
      std::uint64_t expect = 0;
      for (size_t q = 0; q < in_bits.size(); ++q)
        if (x[in_bits[q].first] >> in_bits[q].second & 1) expect ^= rows[q].first;
      const std::int64_t v = t.at(x);
      linear = linear && v % base_stride == 0 && v / base_stride < m && static_cast<std::uint64_t>(v / base_stride) == expect;
    });
    if (!linear) return std::nullopt;
    for (size_t c = 0; c < rows.size(); ++c) {
      size_t r = c;
      while (r < rows.size() && !(rows[r].first >> c & 1)) ++r;
      if (r == rows.size()) return std::nullopt;
      std::swap(rows[r], rows[c]);
      for (size_t o = 0; o < rows.size(); ++o)
        if (o != c && (rows[o].first >> c & 1)) rows[o].first ^= rows[c].first, rows[o].second ^= rows[c].second;
    }
    for (const auto& row : rows) source.push_back(row.second);  // row c is now (1 << c, its source)
    pieces.push_back({base_stride, m});
  }
  std::sort(pieces.begin(), pieces.end());
  std::int64_t expected = 1;
  for (const auto& [stride, radix] : pieces) {
    if (stride != expected) return std::nullopt;
    expected *= radix;
  }
  if (expected != n_total || t.value[0] != 0) return std::nullopt;

  std::vector<Expr> x(t.extent.size());
  for (const auto& d : digits) {
    Expr q = binop(BinaryOp::Div, L, d.stride);
    if (d.stride * d.radix != n_total) q = binop(BinaryOp::Mod, q, d.radix);
    x[d.dim] = combine(BinaryOp::Add, x[d.dim], binop(BinaryOp::Mul, q, d.place));
  }
  // Runs of consecutive L-bits landing on consecutive bits of one index dimension become one
  // shift-and-mask term; the terms of a dimension are XORed.
  const Expr v = binop(BinaryOp::Div, L, base_stride);
  const int n_bits = static_cast<int>(source.size());
  std::vector<std::vector<std::pair<int, int>>> moves(base.size());  // per dim: (shift, L-bit)
  for (int c = 0; c < n_bits; ++c)
    for (size_t q = 0; q < in_bits.size(); ++q)
      if (source[c] >> q & 1) moves[in_bits[q].first].push_back({in_bits[q].second - c, c});
  for (size_t k = 0; k < base.size(); ++k) {
    std::sort(moves[k].begin(), moves[k].end());
    Expr bits;
    for (size_t r = 0; r < moves[k].size();) {
      const auto [shift, c0] = moves[k][r];
      int len = 1;
      while (r + len < moves[k].size() && moves[k][r + len] == std::pair{shift, c0 + len}) ++len;
      Expr term = binop(BinaryOp::Shr, v, c0);
      if (!(c0 + len == n_bits && base_stride * m == n_total))
        term = binop(BinaryOp::BitAnd, term, (std::int64_t{1} << len) - 1);
      bits = combine(BinaryOp::BitXor, bits, binop(BinaryOp::Shl, term, c0 + shift));
      r += len;
    }
    x[k] = combine(BinaryOp::Add, bits, x[k]);
    if (!x[k]) x[k] = ir::make_int(0);
  }
  return x;
}

std::shared_ptr<const Layout> invert(const Layout& l, const std::string& what) {
  auto fail = [&](const std::string& why) -> CompileError {
    return CompileError("cannot invert layout " + what + " because " + why);
  };
  const auto in = try_const_shape(l.input_shape());
  if (!in) throw fail("its input shape is not constant; only tile layouts of constant shape can be inverted");
  if (product(*in) == 0) throw fail("it has no elements; give the tile a non-empty shape");
  const auto ys = images(l);
  if (auto defect = bijection_defect(l, ys))
    throw fail(*defect + "; only a one-to-one layout onto its output box can be inverted");
  const Shape box = box_of(ys, l.forward_index().size());
  const Shape box_stride = row_major_strides(box);
  Table t{*in, row_major_strides(*in), {}};
  for (const auto& y : ys) t.value.push_back(flatten(y, box_stride));

  const auto out_vars = index_vars(box.size());
  Expr L;
  for (size_t d = 0; d < box.size(); ++d)
    if (box[d] > 1) L = combine(BinaryOp::Add, L, binop(BinaryOp::Mul, out_vars[d], box_stride[d]));
  if (!L) L = ir::make_int(0);

  auto solve = [&](const Table& table) {
    Shape base = table.extent;
    auto digits = peel_digits(table, base);
    auto x = assemble(table, digits, base, L);
    // A digit may sit between bits of the base (a wide swizzled row): give the innermost digits
    // back to the base one by one.
    for (; !x && !digits.empty(); x = assemble(table, digits, base, L)) {
      base[digits.back().dim] *= digits.back().radix;
      digits.pop_back();
    }
    return x;
  };
  auto x = solve(t);
  if (!x && in->size() > 1) {
    // Digits that straddle input dimensions (a partition of the flattened tile): solve for the
    // row-major flat index and split it.
    if (auto flat = solve(Table{{product(*in)}, {1}, t.value})) {
      x.emplace();
      for (size_t k = 0; k < in->size(); ++k) {
        const Expr q = binop(BinaryOp::Div, flat->front(), t.stride[k]);
        x->push_back(k == 0 ? q : binop(BinaryOp::Mod, q, (*in)[k]));
      }
    }
  }
  if (!x)
    throw fail("its index map is neither a permutation of mixed-radix digits nor an XOR swizzle of a power-of-two "
               "tile; build it from row_major, column_major, swizzled and repeat");
  return Layout::make(shape_exprs(box), out_vars, std::move(*x));
}

std::string draw_table(const Layout& l, const std::function<std::string(const Shape&)>& cell) {
  const Shape in = const_shape(l);
  TS_ICHECK(in.size() == 1 || in.size() == 2, "table() of a ", in.size(), "-D layout");
  const std::int64_t rows = in.size() == 2 ? in[0] : 1, cols = in.back();
  std::vector<std::string> cells;
  size_t width = std::to_string(cols - 1).size();
  for_each_index(in, [&](const Shape& x) {
    cells.push_back(cell(x));
    width = std::max(width, cells.back().size());
  });
  const size_t label = std::to_string(rows - 1).size();
  auto pad = [](const std::string& s, size_t w) { return std::string(w - std::min(w, s.size()), ' ') + s; };
  std::string out = std::string(label, ' ');
  for (std::int64_t c = 0; c < cols; ++c) out += "  " + pad(std::to_string(c), width);
  out += "\n";
  for (std::int64_t r = 0; r < rows; ++r) {
    out += pad(std::to_string(r), label);
    for (std::int64_t c = 0; c < cols; ++c) out += "  " + pad(cells[r * cols + c], width);
    out += "\n";
  }
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Layout

Layout::Layout(std::vector<ir::Expr> input_shape, std::vector<ir::Var> vars, std::vector<ir::Expr> forward)
    : input_shape_(std::move(input_shape)), vars_(std::move(vars)), forward_(std::move(forward)) {
  TS_ICHECK(input_shape_.size() == vars_.size(), "layout with ", input_shape_.size(), " dimensions and ",
            vars_.size(), " index variables");
  for (const auto& e : input_shape_) TS_ICHECK(e && is_integer(e->dtype), "non-integer layout extent");
  for (const auto& v : vars_) TS_ICHECK(v && is_integer(v->dtype), "non-integer layout index variable");
  for (const auto& e : forward_) TS_ICHECK(e && is_integer(e->dtype), "non-integer layout forward index");
}

std::shared_ptr<const Layout> Layout::make(std::vector<ir::Expr> input_shape, std::vector<ir::Var> vars,
                                           std::vector<ir::Expr> forward) {
  return std::shared_ptr<const Layout>(new Layout(std::move(input_shape), std::move(vars), std::move(forward)));
}

std::vector<ir::Expr> Layout::map(const std::vector<ir::Expr>& index) const {
  TS_ICHECK(index.size() == vars_.size(), "index of rank ", index.size(), " for layout ", to_string());
  std::map<const ir::VarNode*, Expr> sub;
  for (size_t k = 0; k < vars_.size(); ++k) sub[vars_[k].get()] = index[k];
  std::vector<Expr> out;
  for (const auto& e : forward_) out.push_back(ir::substitute(e, sub));
  return out;
}

std::vector<std::int64_t> Layout::map(const std::vector<std::int64_t>& index) const {
  const auto b = bind(vars_, index);
  Shape out;
  for (const auto& e : forward_) out.push_back(eval_or_throw(e, b, *this));
  return out;
}

std::vector<std::int64_t> Layout::output_shape() const { return box_of(images(*this), forward_.size()); }

bool Layout::is_bijective() const { return !bijection_defect(*this, images(*this)); }

std::shared_ptr<const Layout> Layout::inverse() const { return invert(*this, to_string()); }

std::vector<ir::Expr> Layout::repeated_forward(int dim, std::int64_t factor) const {
  TS_ICHECK(dim >= 0 && dim < static_cast<int>(vars_.size()), "repeat along dimension ", dim, " of ", to_string());
  TS_ICHECK(factor >= 1, "repeat ", factor, " times");
  TS_ICHECK(forward_.size() == vars_.size() || forward_.size() == 1, "repeat of ", to_string(),
            ": its input and output ranks differ, so the output dimension to stack along is ambiguous");
  const size_t d = forward_.size() == 1 ? 0 : dim;
  const std::int64_t n = const_shape(*this)[dim];
  const std::int64_t extent = output_shape()[d];
  const ir::Var& x = vars_[dim];
  std::vector<Expr> out = map([&] {
    std::vector<Expr> index(vars_.begin(), vars_.end());
    index[dim] = binop(BinaryOp::Mod, x, n);
    return index;
  }());
  out[d] = combine(BinaryOp::Add, out[d], binop(BinaryOp::Mul, binop(BinaryOp::Div, x, n), extent));
  return out;
}

std::shared_ptr<const Layout> Layout::repeat(int dim, std::int64_t factor) const {
  auto forward = repeated_forward(dim, factor);
  auto shape = input_shape_;
  shape[dim] = ir::make_int(const_shape(*this)[dim] * factor, shape[dim]->dtype);
  return make(std::move(shape), vars_, std::move(forward));
}

std::string Layout::to_string() const {
  return "Layout(" + tuple_of(input_shape_) + " -> " + tuple_of(vars_) + " => " + tuple_of(forward_) + ")";
}

std::string Layout::table() const {
  return draw_table(*this, [&](const Shape& x) {
    std::string s;
    for (auto v : map(x)) s += (s.empty() ? "" : ",") + std::to_string(v);
    return s;
  });
}

std::shared_ptr<const Layout> row_major(const std::vector<std::int64_t>& shape) {
  for (auto e : shape) TS_ICHECK(e > 0, "row-major layout of extent ", e);
  auto vars = index_vars(shape.size());
  Expr offset = linear(vars, row_major_strides(shape));
  return Layout::make(shape_exprs(shape), std::move(vars), {offset});
}

std::shared_ptr<const Layout> column_major(const std::vector<std::int64_t>& shape) {
  for (auto e : shape) TS_ICHECK(e > 0, "column-major layout of extent ", e);
  Shape stride(shape.size(), 1);
  for (size_t k = 1; k < shape.size(); ++k) stride[k] = stride[k - 1] * shape[k - 1];
  auto vars = index_vars(shape.size());
  Expr offset = linear(vars, stride);
  return Layout::make(shape_exprs(shape), std::move(vars), {offset});
}

std::shared_ptr<const Layout> swizzled(std::int64_t rows, std::int64_t cols, int element_bytes) {
  TS_ICHECK(rows > 0 && cols > 0, "swizzled layout of ", rows, " x ", cols);
  auto fail = [&](const std::string& why) {
    return CompileError(detail::cat("cannot build a swizzled layout for a ", rows, " x ", cols, " tile of ",
                                    element_bytes, "-byte elements because ", why));
  };
  if (element_bytes <= 0 || 16 % element_bytes != 0)
    throw fail("an element does not divide a 16-byte chunk; use a row-major layout");
  const std::int64_t row_bytes = cols * element_bytes;
  if (row_bytes % 16 != 0)
    throw fail(detail::cat("a row of ", row_bytes, " bytes is not a whole number of 16-byte chunks; pad the row to a multiple of 16 bytes"));
  const std::int64_t chunks = row_bytes / 16, per_chunk = 16 / element_bytes;
  if (chunks != 1 && chunks != 2 && chunks != 4 && chunks % 8 != 0)
    throw fail(detail::cat("a row of ", row_bytes, " bytes is neither 16, 32 or 64 bytes nor a multiple of 128 bytes; "
                           "pad the row to a multiple of 128 bytes"));
  if (rows % 8 != 0 && (rows & (rows - 1)) != 0)
    throw fail(detail::cat("its ", rows, " rows are neither a power of two nor a whole number of 8-row swizzle periods, "
                           "so the layout would have no inverse; pad the tile to a multiple of 8 rows"));
  if (chunks == 1) return row_major({rows, cols});
  auto vars = index_vars(2);
  const Expr i = vars[0], j = vars[1];
  // Rows wider than 128 bytes: 128-byte column panels, each a whole [rows][panel] tile.
  const std::int64_t panel = chunks > 8 ? 8 * per_chunk : cols;
  const Expr jp = panel < cols ? binop(BinaryOp::Mod, j, panel) : j;
  const Expr pattern = chunks >= 8 ? binop(BinaryOp::Mod, i, 8) : binop(BinaryOp::Mod, binop(BinaryOp::Div, i, 8 / chunks), chunks);
  const Expr chunk = ir::make_binary(BinaryOp::BitXor, binop(BinaryOp::Div, jp, per_chunk), pattern);
  Expr offset = combine(BinaryOp::Add, binop(BinaryOp::Mul, i, panel), binop(BinaryOp::Mul, chunk, per_chunk));
  if (per_chunk > 1) offset = combine(BinaryOp::Add, offset, binop(BinaryOp::Mod, jp, per_chunk));
  if (panel < cols) offset = combine(BinaryOp::Add, binop(BinaryOp::Mul, binop(BinaryOp::Div, j, panel), rows * panel), offset);
  return Layout::make(shape_exprs({rows, cols}), std::move(vars), {offset});
}

// ---------------------------------------------------------------------------------------------
// Fragment

Fragment::Fragment(std::vector<ir::Expr> input_shape, std::vector<ir::Var> vars, std::vector<ir::Expr> forward_register,
                   ir::Expr forward_thread, std::int64_t replicate, ir::Var replica_var)
    : Layout(std::move(input_shape), std::move(vars), std::move(forward_register)),
      thread_(std::move(forward_thread)),
      replicate_(replicate),
      replica_var_(std::move(replica_var)) {
  TS_ICHECK(thread_ && is_integer(thread_->dtype), "fragment without an integer thread index");
  TS_ICHECK(replicate_ >= 1, "fragment replicated ", replicate_, " times");
  TS_ICHECK(replicate_ == 1 || replica_var_, "replicated fragment without a replica variable");
  for (const auto& r : forward_index())
    TS_ICHECK(!replica_var_ || !ir::uses_var(r, replica_var_.get()), "fragment register index uses the replica variable");
}

std::shared_ptr<const Fragment> Fragment::make(std::vector<ir::Expr> input_shape, std::vector<ir::Var> vars,
                                               ir::Expr forward_thread, std::vector<ir::Expr> forward_register,
                                               std::int64_t replicate, ir::Var replica_var) {
  return std::shared_ptr<const Fragment>(new Fragment(std::move(input_shape), std::move(vars), std::move(forward_register),
                                                      std::move(forward_thread), replicate, std::move(replica_var)));
}

std::shared_ptr<const Fragment> Fragment::row_major_partition(const std::vector<std::int64_t>& shape, std::int64_t threads,
                                                              std::int64_t vector_width) {
  TS_ICHECK(threads > 0 && vector_width > 0, "partition over ", threads, " threads, vectors of ", vector_width);
  for (auto e : shape) TS_ICHECK(e > 0, "partition of extent ", e);
  auto vars = index_vars(shape.size());
  const Expr flat = linear(vars, row_major_strides(shape));
  Expr thread = binop(BinaryOp::Mod, binop(BinaryOp::Div, flat, vector_width), threads);
  Expr reg = binop(BinaryOp::Mul, binop(BinaryOp::Div, flat, vector_width * threads), vector_width);
  if (vector_width > 1) reg = combine(BinaryOp::Add, reg, binop(BinaryOp::Mod, flat, vector_width));
  return make(shape_exprs(shape), std::move(vars), std::move(thread), {std::move(reg)});
}

std::int64_t Fragment::map_thread(const std::vector<std::int64_t>& index, std::int64_t replica) const {
  auto b = bind(vars(), index);
  if (replica_var_) b[replica_var_.get()] = replica;
  return eval_or_throw(thread_, b, *this);
}

std::int64_t Fragment::thread_count() const {
  std::int64_t n = 0;
  for_each_index(const_shape(*this), [&](const Shape& x) {
    for (std::int64_t r = 0; r < replicate_; ++r) n = std::max(n, map_thread(x, r) + 1);
  });
  return n;
}

std::int64_t Fragment::register_count() const { return product(output_shape()); }

bool Fragment::every_element_owned_once_per_replica() const {
  const Shape regs = output_shape();
  const Shape reg_stride = row_major_strides(regs);
  const std::int64_t per_thread = product(regs);
  std::vector<char> used(thread_count() * per_thread, 0);
  bool ok = true;
  for_each_index(const_shape(*this), [&](const Shape& x) {
    const Shape r = map(x);
    if (std::any_of(r.begin(), r.end(), [](std::int64_t v) { return v < 0; })) ok = false;
    for (std::int64_t rep = 0; ok && rep < replicate_; ++rep) {
      const std::int64_t t = map_thread(x, rep);
      if (t < 0) ok = false;
      else ok = !std::exchange(used[t * per_thread + flatten(r, reg_stride)], 1);
    }
  });
  return ok;
}

std::shared_ptr<const Layout> Fragment::as_thread_register_layout() const {
  std::vector<Expr> forward{replica_var_ ? ir::substitute(thread_, {{replica_var_.get(), ir::make_int(0, replica_var_->dtype)}}) : thread_};
  forward.insert(forward.end(), forward_index().begin(), forward_index().end());
  return Layout::make(input_shape(), vars(), std::move(forward));
}

bool Fragment::is_bijective() const { return replicate_ == 1 && as_thread_register_layout()->is_bijective(); }

std::shared_ptr<const Layout> Fragment::inverse() const {
  if (replicate_ > 1)
    throw CompileError(detail::cat("cannot invert layout ", to_string(), " because it is replicated ", replicate_,
                                   " times, so an element has no single owner; invert the unreplicated fragment"));
  return invert(*as_thread_register_layout(), to_string());
}

std::shared_ptr<const Layout> Fragment::repeat(int dim, std::int64_t factor) const {
  auto forward = repeated_forward(dim, factor);
  const std::int64_t n = const_shape(*this)[dim];
  const Expr thread = ir::substitute(thread_, {{vars()[dim].get(), binop(BinaryOp::Mod, vars()[dim], n)}});
  auto shape = input_shape();
  shape[dim] = ir::make_int(n * factor, shape[dim]->dtype);
  return make(std::move(shape), vars(), thread, std::move(forward), replicate_, replica_var_);
}

Fragment::Owned Fragment::owned(const ir::Expr& thread, const ir::Expr& reg) const {
  if (owner_map_) {
    const std::map<const ir::VarNode*, Expr> sub{{owner_map_->thread.get(), thread}, {owner_map_->reg.get(), reg}};
    Owned out;
    for (const auto& e : owner_map_->owned.index) out.index.push_back(ir::substitute(e, sub));
    if (owner_map_->owned.valid) out.valid = ir::substitute(owner_map_->owned.valid, sub);
    return out;
  }
  TS_ICHECK(output_shape().size() == 1, "owned() needs a flat register index");
  auto inv = inverse();
  Owned out{inv->map({thread, reg}), nullptr};
  return out;
}

std::shared_ptr<const Fragment> Fragment::with_owner_map(ir::Var thread, ir::Var reg, std::vector<Expr> index,
                                                         Expr valid) const {
  TS_ICHECK(index.size() == input_shape().size(), "owner map of rank ", index.size(), " for ", to_string());
  auto f = std::shared_ptr<Fragment>(new Fragment(input_shape(), vars(), forward_index(), thread_, replicate_, replica_var_));
  f->owner_map_ = OwnerMap{std::move(thread), std::move(reg), Owned{std::move(index), std::move(valid)}};
  return f;
}

std::string Fragment::to_string() const {
  std::string s = "Fragment(" + tuple_of(input_shape()) + " -> " + tuple_of(vars()) + " => thread " + ir::print(thread_) +
                  ", register " + tuple_of(forward_index());
  if (replicate_ > 1) s += ", replicate " + replica_var_->name + " < " + std::to_string(replicate_);
  return s + ")";
}

std::string Fragment::table() const {
  const Shape regs = output_shape();
  const Shape reg_stride = row_major_strides(regs);
  return draw_table(*this, [&](const Shape& x) {
    std::string s = "T";
    for (std::int64_t r = 0; r < replicate_; ++r) s += (r ? "/" : "") + std::to_string(map_thread(x, r));
    return s + ":R" + std::to_string(flatten(map(x), reg_stride));
  });
}

}  // namespace tilescale::layout
