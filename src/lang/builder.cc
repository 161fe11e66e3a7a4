// The front end: T:: calls append IR statements to the innermost open scope of the prim_func
// being built. Scopes are a stack of statement lists; closing one (end of a Kernel, loop or If
// lambda) wraps its statements into the enclosing statement.
#include <cmath>
#include <limits>

#include "ir/IR.h"
#include "ir/verifier.h"
#include "ir/printer.h"
#include "ir/widen.h"
#include "lang/builder.h"
#include "layout/layout.h"
#include "ops/kernel_annotations.h"
#include "ops/tile_op.h"
#include "ops/verify.h"
#include "support/checked.h"
#include "tilescale/errors.h"
#include "tilescale/lang.h"

namespace tilescale::lang {

using tilescale::detail::cat;

namespace {

struct KernelScope {
  std::vector<ir::Var> block_vars;
  ir::Var thread_var;
  std::array<int, 3> thread_dims;  // T::threads(x, y, z); a 1-D block is (count, 1, 1)
};

using detail::ScopeKind;

// A begun scope: its kind, and how its body becomes part of the enclosing scope (a Kernel or For
// appends itself; an Else replaces the If before it).
struct OpenScope {
  ScopeKind kind;
  std::function<void(ir::Stmt body, std::vector<ir::Stmt>& enclosing)> close;
};

struct FunctionBuilder {
  std::string name;
  std::vector<ir::Param> params;
  std::vector<std::vector<ir::Stmt>> scopes;  // the prim_func's own, then one per OpenScope
  std::vector<OpenScope> open;
  std::optional<KernelScope> kernel;
};

thread_local FunctionBuilder* current = nullptr;

FunctionBuilder& builder(const char* what) {
  if (!current)
    throw CompileError(cat("cannot call T::", what, " outside T::prim_func because there is no program being built; "
                           "call it inside the prim_func's body lambda"));
  return *current;
}

void emit(const char* what, ir::Stmt s) { builder(what).scopes.back().push_back(std::move(s)); }

void begin_scope(ScopeKind kind, std::function<void(ir::Stmt, std::vector<ir::Stmt>&)> close) {
  auto& b = builder(detail::scope_name(kind) + 3);
  b.scopes.emplace_back();
  b.open.push_back({kind, std::move(close)});
}

// An appending close: the statement `wrap` makes of the body.
std::function<void(ir::Stmt, std::vector<ir::Stmt>&)> appending(std::function<ir::Stmt(ir::Stmt)> wrap) {
  return [wrap = std::move(wrap)](ir::Stmt body, std::vector<ir::Stmt>& enclosing) { enclosing.push_back(wrap(std::move(body))); };
}

void drop_innermost_scope(FunctionBuilder& b) {
  if (b.open.back().kind == ScopeKind::Kernel) b.kernel.reset();
  b.open.pop_back();
  b.scopes.pop_back();
}

// The forms with a body: runs it in the scope just begun, then ends that scope. When the body
// throws, the scopes begun since are dropped, so that the builder stays consistent.
void run_body(ScopeKind kind, const std::function<void()>& body) {
  auto& b = builder(detail::scope_name(kind) + 3);
  const std::size_t depth = b.open.size();
  try {
    body();
  } catch (...) {
    while (b.open.size() >= depth) drop_innermost_scope(b);
    throw;
  }
  detail::end_scope(kind);
}

const ir::Expr& node(const Expr& e) { return e.node(); }

std::vector<ir::Expr> nodes(const std::vector<Expr>& es) {
  std::vector<ir::Expr> out;
  for (const auto& e : es) out.push_back(node(e));
  return out;
}

bool is_imm(const ir::Expr& e) { return e->kind == ir::ExprKind::IntImm || e->kind == ir::ExprKind::FloatImm; }

// A constant re-typed to t (weak literals adopt the type of the other operand).
ir::Expr retype_imm(const ir::Expr& e, DataType t) {
  if (auto* i = ir::as<ir::IntImmNode>(e))
    return is_float(t) ? ir::make_float(double(i->value), t) : ir::make_int(i->value, t);
  auto* f = ir::as<ir::FloatImmNode>(e);
  if (is_float(t)) return ir::make_float(f->value, t);
  return ir::make_cast(t, e);
}

DataType common_type(DataType a, DataType b) {
  if (a == b) return a;
  if (is_float(a) != is_float(b)) return is_float(a) ? a : b;
  if (is_float(a)) {
    if (bits(a) == bits(b)) return DataType::Float32;  // float16 with bfloat16, or the two fp8s
    return bits(a) > bits(b) ? a : b;
  }
  if (is_bool(a)) return b;
  if (is_bool(b)) return a;
  if (bits(a) != bits(b)) return bits(a) > bits(b) ? a : b;
  return is_signed(a) ? b : a;  // same width: unsigned wins, as in C
}

// The range of values of an integer (or bool) type, and of an integer constant, as 128-bit integers.
struct Range {
  __int128 lo, hi;
};
Range range_of(DataType t) {
  if (is_bool(t)) return {0, 1};
  const int b = bits(t);
  if (!is_signed(t)) return {0, (__int128(1) << b) - 1};
  return {-(__int128(1) << (b - 1)), (__int128(1) << (b - 1)) - 1};
}
Range range_of(const ir::IntImmNode& c) {
  const __int128 v = c.dtype == DataType::UInt64 ? __int128(static_cast<std::uint64_t>(c.value)) : __int128(c.value);
  return {v, v};
}
bool holds(DataType t, Range r) { return range_of(t).lo <= r.lo && r.hi <= range_of(t).hi; }
// The constant as a user wrote it (the printer adds the type: T.int64(4294967297)).
std::string spelled(const ir::IntImmNode& c) {
  return c.dtype == DataType::UInt64 ? std::to_string(static_cast<std::uint64_t>(c.value)) : std::to_string(c.value);
}

// Brings a and b to one type: a weak constant takes the other side's type (an integer constant
// next to a float becomes that float; a float constant next to an integer makes both float32),
// unless it is an integer that the type cannot hold: then both sides are promoted to a type that
// holds the other side's values and the constant (x + 4294967297 with x int32 is an int64 sum),
// and a CompileError says when no integer type does.
std::pair<ir::Expr, ir::Expr> unify(ir::Expr a, ir::Expr b) {
  if (a->dtype == b->dtype) return {a, b};
  const bool ia = is_imm(a), ib = is_imm(b);
  if (ia != ib) {
    ir::Expr& imm = ia ? a : b;
    ir::Expr& other = ia ? b : a;
    const auto* c = ir::as<ir::IntImmNode>(imm);
    if (is_float(imm->dtype) && !is_float(other->dtype)) {
      other = ir::make_cast(DataType::Float32, other);
      imm = retype_imm(imm, DataType::Float32);
    } else if (c && !is_float(other->dtype) && !holds(other->dtype, range_of(*c))) {
      const Range both{std::min(range_of(other->dtype).lo, range_of(*c).lo), std::max(range_of(other->dtype).hi, range_of(*c).hi)};
      DataType t = common_type(other->dtype, imm->dtype);
      if (!holds(t, both)) t = DataType::Int64;
      if (!holds(t, both))
        throw CompileError(cat("cannot combine ", ir::print(other), " of type ", name(other->dtype), " with the constant ",
                               spelled(*c), " because no integer type holds both; T::cast one of them to the type meant"));
      other = ir::widen_or_cast(other, t);
      imm = retype_imm(imm, t);
    } else {
      imm = retype_imm(imm, other->dtype);
    }
    return {a, b};
  }
  const DataType t = common_type(a->dtype, b->dtype);
  // Widened without wrap-around: an int32 index compared with an int64 extent is computed in int64.
  return {ir::widen_or_cast(a, t), ir::widen_or_cast(b, t)};
}

// `value` as a `t`: constants re-typed, other expressions cast. An integer constant that t cannot
// hold is a CompileError rather than a silent wrap-around.
ir::Expr typed(const ir::Expr& value, DataType t) {
  if (value->dtype == t) return value;
  if (const auto* c = ir::as<ir::IntImmNode>(value); c && !is_float(t) && !holds(t, range_of(*c)))
    throw CompileError(cat("cannot use the constant ", spelled(*c), " as a value of type ", name(t),
                           " because ", name(t), " holds only [", static_cast<long long>(range_of(t).lo), ", ",
                           static_cast<unsigned long long>(range_of(t).hi), "]; T::cast(", spelled(*c), ", T::", name(t),
                           ") wraps it deliberately"));
  return is_imm(value) ? retype_imm(value, t) : ir::make_cast(t, value);
}

// `value` as the element type of `b`, for a store, fill or atomic_add (`what`) into it: converted as
// T::cast would, but a float into an integer type, which would drop the fraction without a word,
// is a CompileError (a float constant that is a whole number converts).
ir::Expr stored(const ir::Expr& value, const ir::BufferNode& b, const char* what) {
  if (is_float(value->dtype) && !is_float(b.dtype) && !is_bool(b.dtype)) {
    const auto* c = ir::as<ir::FloatImmNode>(value);
    if (!c || c->value != std::trunc(c->value))
      throw CompileError(cat("cannot ", what, " ", ir::print(value), " (", name(value->dtype), ") into ", b.name, " (", name(b.dtype),
                             ") because a float becomes an integer by dropping its fraction; write T::cast(value, T::",
                             name(b.dtype), ") to truncate it deliberately"));
  }
  return typed(value, b.dtype);
}

ir::Expr as_bool(ir::Expr e) {
  if (is_bool(e->dtype)) return e;
  ir::Expr zero = is_float(e->dtype) ? ir::make_float(0, e->dtype) : ir::make_int(0, e->dtype);
  return ir::make_binary(ir::BinaryOp::NE, e, zero);
}

bool is_arithmetic(ir::BinaryOp op) {
  switch (op) {
    case ir::BinaryOp::Add: case ir::BinaryOp::Sub: case ir::BinaryOp::Mul: case ir::BinaryOp::Div:
    case ir::BinaryOp::Mod: case ir::BinaryOp::FloorDiv: case ir::BinaryOp::FloorMod: case ir::BinaryOp::Min:
    case ir::BinaryOp::Max: return true;
    default: return false;
  }
}

// Arithmetic on bools computes on int32, as C promotes them: true + true == 2.
ir::Expr promote_bool(const ir::Expr& e) { return is_bool(e->dtype) ? typed(e, DataType::Int32) : e; }

Expr binary(ir::BinaryOp op, const Expr& x, const Expr& y) {
  if (ir::is_logical(op)) return Expr(ir::make_binary(op, as_bool(node(x)), as_bool(node(y))));
  auto [a, b] = is_arithmetic(op) ? unify(promote_bool(node(x)), promote_bool(node(y))) : unify(node(x), node(y));
  if (ir::is_bitwise(op) && is_float(a->dtype))
    throw CompileError(cat("cannot apply ", ir::spelling(op), " to ", ir::print(a), " and ", ir::print(b),
                           " because they are ", name(a->dtype), "; bitwise operators take integers"));
  return Expr(ir::make_binary(op, a, b));
}

Expr math(ir::Intrinsic op, const Expr& x) {
  ir::Expr a = node(x);
  if (!is_float(a->dtype) && op != ir::Intrinsic::Abs) a = is_imm(a) ? retype_imm(a, DataType::Float32) : ir::make_cast(DataType::Float32, a);
  return Expr(ir::make_call(op, {a}));
}

ir::Expr checked_index(const ir::Expr& i, const ir::Buffer& b) {
  if (is_float(i->dtype))
    throw CompileError(cat("cannot index ", b->name, " with ", ir::print(i), " because it is ", name(i->dtype),
                           "; indices are integers (use T::cast)"));
  return i;
}

ops::Operand operand(const TileRef& t) { return ops::Operand{t.buffer(), nodes(t.base()), nodes(t.extent())}; }

ir::Expr shape_dim(const Expr& e, const std::string& buffer) {
  if (is_float(e.dtype()))
    throw CompileError(cat("cannot use ", ir::print(node(e)), " as a dimension of ", buffer, " because it is ",
                           name(e.dtype()), "; dimensions are integers"));
  return node(e);
}

// CompileError when the constant dimensions of `dims` already make more than 2^63-1 bytes: every
// later count of the buffer's elements or bytes is then exact.
void check_size(const std::vector<ir::Expr>& dims, DataType dtype, const std::string& doing) {
  std::vector<std::int64_t> constant;
  for (const auto& d : dims)
    if (auto c = ir::as_const_int(d); c && *c >= 0) constant.push_back(*c);
  if (checked_product(constant, bytes(dtype))) return;
  std::string shape;
  for (const auto& d : dims) {
    auto c = ir::as_const_int(d);
    shape += (shape.empty() ? "" : ", ") + (c ? std::to_string(*c) : ir::print(d));
  }
  throw CompileError(cat("cannot ", doing, " with shape [", shape, "] of ", name(dtype),
                         " because its size in bytes exceeds 2^63-1; use smaller extents"));
}

Buffer allocate(Shape shape, DataType dtype, const std::string& name, ir::Scope scope, const char* what) {
  if (shape.empty() && (scope == ir::Scope::Shared || scope == ir::Scope::Fragment))
    throw CompileError(cat("cannot T::", what, " ", name, " with an empty shape because tiles have at least one "
                           "dimension; give it a shape such as {1}, or use T::alloc_var for a scalar"));
  std::vector<ir::Expr> dims;
  for (const auto& d : shape) dims.push_back(shape_dim(d, name));
  check_size(dims, dtype, cat("T::", what, " ", name));
  ir::Buffer b = ir::make_buffer(name, std::move(dims), dtype, scope);
  emit(what, ir::make_alloc(b));
  return Buffer(b);
}

Expr begin_loop(ScopeKind kind, const Expr& begin, const Expr& end, ir::ForKind for_kind, ir::PipelineInfo info,
                const char* var_name) {
  const char* what = detail::scope_name(kind) + 3;
  auto [b, e] = unify(node(begin), node(end));
  if (is_float(b->dtype)) throw CompileError(cat("cannot loop T::", what, " over ", name(b->dtype), " bounds; use integers"));
  ir::Var v = ir::make_var(var_name, b->dtype);
  ir::Expr extent = ir::as_const_int(b) == 0 ? e : ir::make_binary(ir::BinaryOp::Sub, e, b);
  begin_scope(kind, appending([=](ir::Stmt body) { return ir::make_for(v, b, extent, for_kind, std::move(body), info); }));
  return Expr(v);
}

void loop(ScopeKind kind, const Expr& begin, const Expr& end, ir::ForKind for_kind, ir::PipelineInfo info,
          const std::function<void(Expr)>& body, const char* var_name) {
  Expr v = begin_loop(kind, begin, end, for_kind, std::move(info), var_name);
  run_body(kind, [&] { body(v); });
}

const char* const kParallelNames[] = {"i", "j", "k", "l"};

void parallel_nest(std::vector<Expr> extents, const std::function<void(const std::vector<Expr>&)>& body) {
  std::vector<Expr> vars = detail::begin_parallel(std::move(extents));
  run_body(ScopeKind::Parallel, [&] { body(vars); });
}

}  // namespace

// --------------------------------------------------------------------------------------------------
// Expressions

Expr::Expr(int v) : node_(ir::make_int(v)) {}
Expr::Expr(long v) : Expr(static_cast<long long>(v)) {}
Expr::Expr(long long v)
    : node_(v >= std::numeric_limits<std::int32_t>::min() && v <= std::numeric_limits<std::int32_t>::max()
                ? ir::make_int(v)
                : ir::make_int(v, DataType::Int64)) {}
Expr::Expr(unsigned v) : Expr(static_cast<long long>(v)) {}
Expr::Expr(unsigned long v) : Expr(static_cast<unsigned long long>(v)) {}
Expr::Expr(unsigned long long v)
    : node_(v <= std::uint64_t(std::numeric_limits<std::int64_t>::max()) ? Expr(static_cast<long long>(v)).node()
                                                                          : ir::make_int(static_cast<std::int64_t>(v), DataType::UInt64)) {}
Expr::Expr(float v) : node_(ir::make_float(v)) {}
Expr::Expr(double v) : node_(ir::make_float(v)) {}
Expr::Expr(bool v) : node_(ir::make_int(v, DataType::Bool)) {}
Expr::Expr(std::shared_ptr<const ir::ExprNode> n) : node_(std::move(n)) {
  TS_ICHECK(node_, "null expression");
}
DataType Expr::dtype() const { return node_->dtype; }

Expr operator+(const Expr& a, const Expr& b) { return binary(ir::BinaryOp::Add, a, b); }
Expr operator-(const Expr& a, const Expr& b) { return binary(ir::BinaryOp::Sub, a, b); }
Expr operator*(const Expr& a, const Expr& b) { return binary(ir::BinaryOp::Mul, a, b); }
Expr operator/(const Expr& a, const Expr& b) { return binary(ir::BinaryOp::Div, a, b); }
Expr operator%(const Expr& a, const Expr& b) { return binary(ir::BinaryOp::Mod, a, b); }
Expr operator-(const Expr& a) {
  if (auto* f = ir::as<ir::FloatImmNode>(node(a))) return Expr(ir::make_float(-f->value, f->dtype));
  if (auto* i = ir::as<ir::IntImmNode>(node(a))) return Expr(ir::make_int(-i->value, i->dtype));
  return Expr(ir::make_unary(ir::UnaryOp::Neg, node(a)));
}
Expr operator!(const Expr& a) { return Expr(ir::make_unary(ir::UnaryOp::Not, as_bool(node(a)))); }
Expr operator~(const Expr& a) {
  if (!is_integer(a.dtype())) throw CompileError(cat("cannot apply ~ to ", ir::print(node(a)), " of type ", name(a.dtype()), "; it takes integers"));
  return Expr(ir::make_unary(ir::UnaryOp::BitNot, node(a)));
}
Expr operator==(const Expr& a, const Expr& b) { return binary(ir::BinaryOp::EQ, a, b); }
Expr operator!=(const Expr& a, const Expr& b) { return binary(ir::BinaryOp::NE, a, b); }
Expr operator<(const Expr& a, const Expr& b) { return binary(ir::BinaryOp::LT, a, b); }
Expr operator<=(const Expr& a, const Expr& b) { return binary(ir::BinaryOp::LE, a, b); }
Expr operator>(const Expr& a, const Expr& b) { return binary(ir::BinaryOp::GT, a, b); }
Expr operator>=(const Expr& a, const Expr& b) { return binary(ir::BinaryOp::GE, a, b); }
Expr operator&&(const Expr& a, const Expr& b) { return binary(ir::BinaryOp::And, a, b); }
Expr operator||(const Expr& a, const Expr& b) { return binary(ir::BinaryOp::Or, a, b); }
Expr operator&(const Expr& a, const Expr& b) { return binary(ir::BinaryOp::BitAnd, a, b); }
Expr operator|(const Expr& a, const Expr& b) { return binary(ir::BinaryOp::BitOr, a, b); }
Expr operator^(const Expr& a, const Expr& b) { return binary(ir::BinaryOp::BitXor, a, b); }
Expr operator<<(const Expr& a, const Expr& b) { return binary(ir::BinaryOp::Shl, a, b); }
Expr operator>>(const Expr& a, const Expr& b) { return binary(ir::BinaryOp::Shr, a, b); }

Expr min(const Expr& a, const Expr& b) { return binary(ir::BinaryOp::Min, a, b); }
Expr max(const Expr& a, const Expr& b) { return binary(ir::BinaryOp::Max, a, b); }
Expr floordiv(const Expr& a, const Expr& b) { return binary(ir::BinaryOp::FloorDiv, a, b); }
Expr floormod(const Expr& a, const Expr& b) { return binary(ir::BinaryOp::FloorMod, a, b); }
Expr ceildiv(const Expr& a, const Expr& b) {
  auto ca = ir::as_const_int(node(a)), cb = ir::as_const_int(node(b));
  if (ca && cb && *cb > 0) return Expr((*ca + *cb - 1) / *cb);
  return floordiv(a + b - 1, b);
}
Expr cast(const Expr& v, DataType t) { return Expr(ir::make_cast(t, node(v))); }
Expr if_then_else(const Expr& cond, const Expr& t, const Expr& f) {
  auto [a, b] = unify(node(t), node(f));
  return Expr(ir::make_select(as_bool(node(cond)), a, b));
}
Expr exp(const Expr& x) { return math(ir::Intrinsic::Exp, x); }
Expr exp2(const Expr& x) { return math(ir::Intrinsic::Exp2, x); }
Expr log(const Expr& x) { return math(ir::Intrinsic::Log, x); }
Expr log2(const Expr& x) { return math(ir::Intrinsic::Log2, x); }
Expr sqrt(const Expr& x) { return math(ir::Intrinsic::Sqrt, x); }
Expr rsqrt(const Expr& x) { return math(ir::Intrinsic::Rsqrt, x); }
Expr abs(const Expr& x) { return math(ir::Intrinsic::Abs, x); }
Expr floor(const Expr& x) { return math(ir::Intrinsic::Floor, x); }
Expr ceil(const Expr& x) { return math(ir::Intrinsic::Ceil, x); }
Expr sin(const Expr& x) { return math(ir::Intrinsic::Sin, x); }
Expr cos(const Expr& x) { return math(ir::Intrinsic::Cos, x); }
Expr tanh(const Expr& x) { return math(ir::Intrinsic::Tanh, x); }
Expr sigmoid(const Expr& x) { return math(ir::Intrinsic::Sigmoid, x); }
Expr pow(const Expr& x, const Expr& y) {
  auto [a, b] = unify(node(x), node(y));
  if (!is_float(a->dtype)) a = ir::make_cast(DataType::Float32, a), b = ir::make_cast(DataType::Float32, b);
  return Expr(ir::make_call(ir::Intrinsic::Pow, {a, b}));
}

namespace {
DataType require_float(DataType t, const char* what) {
  if (!is_float(t)) throw CompileError(cat("cannot take T::", what, " of ", name(t), "; it is defined for float types"));
  return t;
}
}  // namespace

Expr infinity(DataType t) {
  require_float(t, "infinity");
  if (t == DataType::Float8E4M3) throw CompileError("cannot take T::infinity of float8_e4m3 because it has no infinity; use T::max_value");
  return Expr(ir::make_float(std::numeric_limits<double>::infinity(), t));
}
Expr max_value(DataType t) {
  if (is_float(t)) return Expr(ir::make_float(max_finite(t), t));
  if (is_bool(t)) return Expr(ir::make_int(1, t));
  const int b = bits(t);
  if (b == 64) return Expr(ir::make_int(is_signed(t) ? std::numeric_limits<std::int64_t>::max() : -1, t));
  return Expr(ir::make_int(is_signed(t) ? (std::int64_t(1) << (b - 1)) - 1 : (std::int64_t(1) << b) - 1, t));
}
Expr min_value(DataType t) {
  if (is_float(t)) return -max_value(t);
  if (!is_signed(t)) return Expr(ir::make_int(0, t));
  const int b = bits(t);
  return Expr(ir::make_int(b == 64 ? std::numeric_limits<std::int64_t>::min() : -(std::int64_t(1) << (b - 1)), t));
}

Expr dynamic(const std::string& name, DataType t) {
  if (!is_integer(t)) throw CompileError(cat("cannot make symbolic dimension ", name, " of type ", tilescale::name(t), "; use an integer type"));
  return Expr(ir::make_var(name, t));
}

// --------------------------------------------------------------------------------------------------
// Buffers

BufferRef::BufferRef(std::shared_ptr<const ir::BufferNode> buffer, std::vector<Expr> indices)
    : buffer_(std::move(buffer)), indices_(std::move(indices)) {
  ir::check_rank(*buffer_, indices_.size(), cat("an element reference ", buffer_->name, "(...)").c_str());
  for (const auto& i : indices_) checked_index(node(i), buffer_);
}

BufferRef::operator Expr() const { return Expr(ir::make_load(buffer_, nodes(indices_))); }

const BufferRef& BufferRef::operator=(const Expr& value) const {
  emit("store", ir::make_store(buffer_, nodes(indices_), stored(node(value), *buffer_, "store")));
  return *this;
}
const BufferRef& BufferRef::operator=(const BufferRef& value) const { return *this = Expr(value); }
const BufferRef& BufferRef::operator+=(const Expr& v) const { return *this = Expr(*this) + v; }
const BufferRef& BufferRef::operator-=(const Expr& v) const { return *this = Expr(*this) - v; }
const BufferRef& BufferRef::operator*=(const Expr& v) const { return *this = Expr(*this) * v; }
const BufferRef& BufferRef::operator/=(const Expr& v) const { return *this = Expr(*this) / v; }

const std::string& Buffer::name() const { return node_->name; }
DataType Buffer::dtype() const { return node_->dtype; }
int Buffer::rank() const { return node_->rank(); }
Expr Buffer::shape(int dim) const {
  if (dim < 0 || dim >= rank())
    throw CompileError(cat("cannot take dim ", dim, " of ", name(), " because it has rank ", rank()));
  return Expr(node_->shape[dim]);
}

Scalar::operator Expr() const { return buffer_(0); }
const Scalar& Scalar::operator=(const Expr& v) const { return buffer_(0) = v, *this; }
const Scalar& Scalar::operator=(const Scalar& v) const { return *this = Expr(v); }
const Scalar& Scalar::operator+=(const Expr& v) const { return *this = Expr(*this) + v; }
const Scalar& Scalar::operator-=(const Expr& v) const { return *this = Expr(*this) - v; }
const Scalar& Scalar::operator*=(const Expr& v) const { return *this = Expr(*this) * v; }
const Scalar& Scalar::operator/=(const Expr& v) const { return *this = Expr(*this) / v; }

TileRef::TileRef(const Buffer& b) : buffer_(b.node()) {
  for (int d = 0; d < b.rank(); ++d) base_.emplace_back(0), extent_.push_back(b.shape(d));
}
TileRef::TileRef(const BufferRef& r) : buffer_(r.buffer()), base_(r.indices()) {}
TileRef::TileRef(const Scalar& s) : TileRef(s.buffer()) {}
TileRef::TileRef(std::shared_ptr<const ir::BufferNode> buffer, std::vector<Expr> base, std::vector<Expr> extent)
    : buffer_(std::move(buffer)), base_(std::move(base)), extent_(std::move(extent)) {}

TileRef region(const Buffer& b, std::vector<Expr> base, std::vector<Expr> extent) {
  if (base.size() != extent.size())
    throw CompileError(cat("cannot make a region of ", b.name(), " with ", base.size(),
                           base.size() == 1 ? " base index and " : " base indices and ", extent.size(),
                           extent.size() == 1 ? " extent" : " extents", "; give one of each per dimension"));
  ir::check_rank(*b.node(), base.size(), cat("T::region of ", b.name()).c_str());
  return TileRef(b.node(), std::move(base), std::move(extent));
}

Buffer Tensor(const std::string& name, Shape shape, DataType dtype) {
  auto& b = builder("Tensor");
  if (b.kernel) throw CompileError(cat("cannot create T::Tensor ", name, " inside T::Kernel; create the kernel's tensors before it"));
  std::vector<ir::Expr> dims;
  for (const auto& d : shape) dims.push_back(shape_dim(d, name));
  check_size(dims, dtype, cat("create T::Tensor ", name));
  ir::Buffer t = ir::make_buffer(name, std::move(dims), dtype, ir::Scope::Global);
  b.params.push_back(t);
  return Buffer(t);
}

Expr ScalarParam(const std::string& name, DataType dtype) {
  auto& b = builder("ScalarParam");
  if (b.kernel)
    throw CompileError(cat("cannot create T::ScalarParam ", name, " inside T::Kernel; create the kernel's parameters before it"));
  if (!ir::is_scalar_param_type(dtype))
    throw CompileError(cat("cannot create T::ScalarParam ", name, " of type ", tilescale::name(dtype),
                           " because scalar parameters are int32, int64 or float32; declare one of those and T::cast it"));
  ir::Var v = ir::make_var(name, dtype);
  b.params.push_back(v);
  return Expr(v);
}

Buffer alloc_shared(Shape shape, DataType dtype, const std::string& name) {
  return allocate(std::move(shape), dtype, name, ir::Scope::Shared, "alloc_shared");
}
Buffer alloc_fragment(Shape shape, DataType dtype, const std::string& name) {
  return allocate(std::move(shape), dtype, name, ir::Scope::Fragment, "alloc_fragment");
}
Buffer alloc_local(Shape shape, DataType dtype, const std::string& name) {
  return allocate(std::move(shape), dtype, name, ir::Scope::Local, "alloc_local");
}
Scalar alloc_var(DataType dtype, const std::string& name) {
  return Scalar(allocate({1}, dtype, name, ir::Scope::Var, "alloc_var"));
}
Scalar alloc_var(DataType dtype, const char* name) {
  if (!name) throw CompileError("cannot T::alloc_var with a null name; pass a name or leave it out");
  return alloc_var(dtype, std::string(name));
}
Scalar alloc_var(DataType dtype, const Expr& init, const std::string& name) {
  Scalar s = alloc_var(dtype, name);
  s = init;
  return s;
}

// --------------------------------------------------------------------------------------------------
// Functions, kernels, loops

const std::string& PrimFunc::name() const { return node_->name; }
std::string PrimFunc::to_string() const { return ir::print(node_); }

PrimFunc prim_func(const std::string& name, const std::function<void()>& body) {
  if (current) throw CompileError(cat("cannot build T::prim_func ", name, " inside T::prim_func ", current->name, "; build them one after the other"));
  FunctionBuilder b;
  b.name = name;
  b.scopes.emplace_back();
  current = &b;
  try {
    body();
  } catch (...) {
    current = nullptr;
    throw;
  }
  current = nullptr;
  if (!b.open.empty())
    throw CompileError(cat("cannot build T::prim_func ", name, " because the scope of ", detail::scope_name(b.open.back().kind),
                           " begun in it is still open; end every scope begun (T::detail::end_scope)"));
  ir::PrimFunc f = ir::make_prim_func(name, b.params, ir::make_seq(std::move(b.scopes.back())));
  ops::verify_program(f);
  return PrimFunc(f);
}

namespace {
void kernel(std::vector<Expr> grid, Threads t, const std::function<void(const std::vector<Expr>&)>& body) {
  grid = detail::begin_kernel(std::move(grid), t);
  run_body(ScopeKind::Kernel, [&] { body(grid); });
}
}  // namespace

void Kernel(const Expr& gx, Threads t, const std::function<void(Expr)>& body) {
  kernel({gx}, t, [&](const std::vector<Expr>& b) { body(b[0]); });
}
void Kernel(const Expr& gx, const Expr& gy, Threads t, const std::function<void(Expr, Expr)>& body) {
  kernel({gx, gy}, t, [&](const std::vector<Expr>& b) { body(b[0], b[1]); });
}
void Kernel(const Expr& gx, const Expr& gy, const Expr& gz, Threads t, const std::function<void(Expr, Expr, Expr)>& body) {
  kernel({gx, gy, gz}, t, [&](const std::vector<Expr>& b) { body(b[0], b[1], b[2]); });
}

Expr get_thread_binding(int dim) {
  auto& b = builder("get_thread_binding");
  if (!b.kernel) throw CompileError("cannot call T::get_thread_binding outside T::Kernel; call it inside the kernel body");
  if (dim < 0 || dim > 2) throw CompileError(cat("cannot get thread binding ", dim, "; use 0 (x), 1 (y) or 2 (z)"));
  // Threads are numbered x fastest: the index along `dim` steps every `below` threads.
  const auto& d = b.kernel->thread_dims;
  if (d[dim] == 1) return Expr(0);
  int below = 1;
  for (int k = 0; k < dim; ++k) below *= d[k];
  const Expr tx(b.kernel->thread_var), along = below == 1 ? tx : tx / below;
  // Along the outermost dimension the block has, no wrap.
  return below * d[dim] == d[0] * d[1] * d[2] ? along : along % d[dim];
}

Expr get_block_binding(int dim) {
  auto& b = builder("get_block_binding");
  if (!b.kernel) throw CompileError("cannot call T::get_block_binding outside T::Kernel; call it inside the kernel body");
  if (dim < 0 || dim > 2) throw CompileError(cat("cannot get block binding ", dim, "; use 0 (x), 1 (y) or 2 (z)"));
  return Expr(b.kernel->block_vars[dim]);
}

void Parallel(const Expr& e0, const std::function<void(Expr)>& body) {
  parallel_nest({e0}, [&](const std::vector<Expr>& i) { body(i[0]); });
}
void Parallel(const Expr& e0, const Expr& e1, const std::function<void(Expr, Expr)>& body) {
  parallel_nest({e0, e1}, [&](const std::vector<Expr>& i) { body(i[0], i[1]); });
}
void Parallel(const Expr& e0, const Expr& e1, const Expr& e2, const std::function<void(Expr, Expr, Expr)>& body) {
  parallel_nest({e0, e1, e2}, [&](const std::vector<Expr>& i) { body(i[0], i[1], i[2]); });
}
void Parallel(const Expr& e0, const Expr& e1, const Expr& e2, const Expr& e3,
              const std::function<void(Expr, Expr, Expr, Expr)>& body) {
  parallel_nest({e0, e1, e2, e3}, [&](const std::vector<Expr>& i) { body(i[0], i[1], i[2], i[3]); });
}

void Pipelined(const Expr& extent, const std::function<void(Expr)>& body) { Pipelined(extent, PipelineOptions{}, body); }
void Pipelined(const Expr& extent, int num_stages, const std::function<void(Expr)>& body) {
  Pipelined(extent, PipelineOptions{num_stages}, body);
}
void Pipelined(const Expr& extent, const PipelineOptions& o, const std::function<void(Expr)>& body) {
  loop(ScopeKind::Pipelined, 0, extent, ir::ForKind::Pipelined, ir::PipelineInfo{o.num_stages, o.order, o.stage}, body, "k");
}

void serial(const Expr& extent, const std::function<void(Expr)>& body) { serial(0, extent, body); }
void serial(const Expr& begin, const Expr& end, const std::function<void(Expr)>& body) {
  loop(ScopeKind::Serial, begin, end, ir::ForKind::Serial, {}, body, "i");
}
void unroll(const Expr& extent, const std::function<void(Expr)>& body) {
  loop(ScopeKind::Unroll, 0, extent, ir::ForKind::Unrolled, {}, body, "i");
}

IfThen If(const Expr& cond, const std::function<void()>& then_body) {
  detail::begin_if(cond);
  run_body(ScopeKind::If, then_body);
  return IfThen(builder("If").scopes.back().size() - 1);
}

namespace {
const char* const kElseMisplaced =
    "cannot attach T::Else here because it must directly follow its T::If in the same scope; "
    "write T::If(c, then).Else(otherwise)";
}  // namespace

void IfThen::Else(const std::function<void()>& body) const {
  if (position_ + 1 != builder("Else").scopes.back().size()) throw CompileError(kElseMisplaced);
  detail::begin_else();
  run_body(ScopeKind::Else, body);
}

void While(const Expr& cond, const std::function<void()>& body) {
  detail::begin_while(cond);
  run_body(ScopeKind::While, body);
}

void Break() { emit("Break", ir::make_break()); }

// --------------------------------------------------------------------------------------------------
// Tile operations

void copy(const TileRef& src, const TileRef& dst) { emit("copy", ops::make_copy(operand(src), operand(dst))); }
void fill(const TileRef& dst, const Expr& value) {
  emit("fill", ops::make_fill(operand(dst), stored(node(value), *dst.buffer(), "fill")));
}
void clear(const TileRef& dst) { fill(dst, 0); }

void gemm(const TileRef& A, const TileRef& B, const TileRef& C, const GemmOptions& o) {
  emit("gemm", ops::make_gemm(operand(A), operand(B), operand(C), o.transpose_A, o.transpose_B,
                              static_cast<int>(o.policy), o.clear_accum));
}
void gemm(const TileRef& A, const TileRef& B, const TileRef& C, bool transpose_A, bool transpose_B,
          GemmWarpPolicy policy, bool clear_accum) {
  gemm(A, B, C, GemmOptions{transpose_A, transpose_B, policy, clear_accum});
}

void reduce_sum(const TileRef& src, const TileRef& dst, int dim, bool clear) {
  emit("reduce_sum", ops::make_reduce("sum", operand(src), operand(dst), dim, clear));
}
void reduce_max(const TileRef& src, const TileRef& dst, int dim, bool clear) {
  emit("reduce_max", ops::make_reduce("max", operand(src), operand(dst), dim, clear));
}
void reduce_min(const TileRef& src, const TileRef& dst, int dim, bool clear) {
  emit("reduce_min", ops::make_reduce("min", operand(src), operand(dst), dim, clear));
}
void reduce_abssum(const TileRef& src, const TileRef& dst, int dim, bool clear) {
  emit("reduce_abssum", ops::make_reduce("abssum", operand(src), operand(dst), dim, clear));
}
void reduce_absmax(const TileRef& src, const TileRef& dst, int dim, bool clear) {
  emit("reduce_absmax", ops::make_reduce("absmax", operand(src), operand(dst), dim, clear));
}

void cumsum(const TileRef& src, const TileRef& dst, int dim, bool reverse) {
  emit("cumsum", ops::make_cumsum(operand(src), operand(dst), dim, reverse));
}

void atomic_add(const TileRef& dst, const Expr& value) {
  emit("atomic_add", ops::make_atomic_add(operand(dst), stored(node(value), *dst.buffer(), "atomic_add")));
}
void atomic_add(const TileRef& dst, const BufferRef& value) { atomic_add(dst, Expr(value)); }
void atomic_add(const TileRef& dst, const Buffer& value) {
  emit("atomic_add", ops::make_atomic_add(operand(dst), operand(TileRef(value))));
}

// --------------------------------------------------------------------------------------------------
// Annotations and debugging

Layout make_layout(Shape shape, const std::function<std::vector<Expr>(const std::vector<Expr>&)>& index_map) {
  std::vector<ir::Var> vars;
  std::vector<Expr> args;
  std::vector<ir::Expr> dims;
  for (size_t d = 0; d < shape.size(); ++d) {
    vars.push_back(ir::make_var(cat("i", d)));
    args.emplace_back(vars.back());
    dims.push_back(shape_dim(shape[d], "layout"));
  }
  return Layout(layout::Layout::make(std::move(dims), std::move(vars), nodes(index_map(args))));
}

void annotate_layout(const Buffer& buffer, const Layout& l) {
  emit("annotate_layout", ir::make_annotate("layout", buffer.node(), l.node(), {}));
}

void use_swizzle(int panel_size, bool column_major) {
  if (panel_size <= 0) throw CompileError(cat("cannot T::use_swizzle with panel_size ", panel_size, "; use a positive panel size"));
  emit("use_swizzle", ops::BlockSwizzle{panel_size, column_major}.encode());
}

void min_blocks_per_sm(int blocks) {
  if (blocks <= 0) throw CompileError(cat("cannot T::min_blocks_per_sm with ", blocks, " blocks; use a positive count"));
  emit("min_blocks_per_sm", ops::MinBlocksPerSm{blocks}.encode());
}

void persistent() { emit("persistent", ops::Persistent{}.encode()); }

void print(const std::string& message, const Expr& value) { emit("print", ir::make_print(message, node(value), nullptr)); }
void print(const std::string& message, const Buffer& buffer) { emit("print", ir::make_print(message, nullptr, buffer.node())); }
void device_assert(const Expr& cond, const std::string& message) {
  emit("device_assert", ir::make_assert(as_bool(node(cond)), message));
}

// --------------------------------------------------------------------------------------------------
// For the front end's other files (builder.h)

namespace detail {

const char* scope_name(ScopeKind kind) {
  switch (kind) {
    case ScopeKind::Kernel: return "T::Kernel";
    case ScopeKind::Parallel: return "T::Parallel";
    case ScopeKind::Pipelined: return "T::Pipelined";
    case ScopeKind::Serial: return "T::serial";
    case ScopeKind::Unroll: return "T::unroll";
    case ScopeKind::If: return "T::If";
    case ScopeKind::Else: return "T::Else";
    case ScopeKind::While: return "T::While";
  }
  TS_ICHECK(false, "unknown scope kind ", static_cast<int>(kind));
}

std::vector<Expr> begin_kernel(std::vector<Expr> grid, Threads t) {
  auto& b = builder("Kernel");
  if (b.kernel) throw CompileError(cat("cannot nest T::Kernel inside T::Kernel in ", b.name));
  if (grid.empty() || grid.size() > 3)
    throw CompileError(cat("cannot launch the kernel of ", b.name, " with ", grid.size(),
                           " grid extents because a grid has 1 to 3 dimensions; give 1 to 3 extents"));
  const std::size_t given = grid.size();
  while (grid.size() < 3) grid.emplace_back(1);
  // A 2-D or 3-D block's count is its extents' product, taken here without overflowing (the kernel
  // then checks any count: 1 to 1024).
  int count = t.count;
  if (t.dims[1] != 1 || t.dims[2] != 1) {
    const std::string block = cat("T::threads(", t.dims[0], ", ", t.dims[1], ", ", t.dims[2], ")");
    std::int64_t n = 1;
    for (int d = 0; d < 3; ++d) {
      if (t.dims[d] < 1)
        throw CompileError(cat("cannot launch the kernel of ", b.name, " with ", block,
                               " because each dimension of a block has at least one thread; give positive extents"));
      n *= t.dims[d];
      if (n > 1024)
        throw CompileError(cat("cannot launch the kernel of ", b.name, " with ", block,
                               " because a block holds at most 1024 threads; use smaller extents"));
    }
    count = static_cast<int>(n);
  }
  KernelScope scope{{ir::make_var("bx"), ir::make_var("by"), ir::make_var("bz")}, ir::make_var("tx"), t.dims};
  std::vector<ir::Expr> extents;
  for (const auto& g : grid) {
    ir::Expr e = node(g);
    if (!is_integer(e->dtype)) throw CompileError(cat("cannot launch the kernel of ", b.name, " with grid extent ", ir::print(e), " of type ", name(e->dtype), "; use integers"));
    // A 64-bit extent keeps its type, so that the launch checks its value against CUDA's limits
    // instead of a value wrapped to 32 bits.
    if (const auto* c = ir::as<ir::IntImmNode>(e); c && bits(e->dtype) == 64 && !holds(DataType::Int32, range_of(*c)))
      throw CompileError(cat("cannot launch the kernel of ", b.name, " with grid extent ", spelled(*c), " in dim ",
                             "xyz"[extents.size()], " because a grid has at most ", std::numeric_limits<std::int32_t>::max(),
                             " blocks along x (65535 along y and z); use larger tiles or smaller sizes"));
    extents.push_back(bits(e->dtype) == 64 ? e : ir::make_cast(DataType::Int32, e));
  }
  begin_scope(ScopeKind::Kernel, appending([=](ir::Stmt body) {
    return ir::make_kernel(extents, count, scope.block_vars, scope.thread_var, std::move(body));
  }));
  b.kernel = scope;
  return std::vector<Expr>(scope.block_vars.begin(), scope.block_vars.begin() + given);
}

std::vector<Expr> begin_parallel(std::vector<Expr> extents) {
  if (extents.empty() || extents.size() > std::size(kParallelNames))
    throw CompileError(cat("cannot loop T::Parallel over ", extents.size(), " dimensions; give 1 to ",
                           std::size(kParallelNames), " extents"));
  std::vector<ir::Var> vars;
  std::vector<ir::Expr> ext, loop_ext;
  // An extent capped by a constant (T::min(valid_len, 512)) loops over the cap with the body guarded
  // (one guard, innermost, so that the nest stays perfect for partitioning over the threads).
  ir::Expr guard;
  for (std::size_t d = 0; d < extents.size(); ++d) {
    ext.push_back(node(extents[d]));
    if (is_float(ext.back()->dtype)) throw CompileError("cannot loop T::Parallel over a float extent; use integers");
    vars.push_back(ir::make_var(kParallelNames[d], ext.back()->dtype));
    const auto* m = ir::as<ir::BinaryNode>(ext.back());
    const ir::Expr cap = !m || m->op != ir::BinaryOp::Min || ir::as_const_int(ext.back()) ? nullptr
                         : ir::as_const_int(m->a)                                        ? m->a
                         : ir::as_const_int(m->b)                                        ? m->b
                                                                                         : nullptr;
    loop_ext.push_back(cap ? cap : ext.back());
    if (!cap) continue;
    ir::Expr in = ir::make_binary(ir::BinaryOp::LT, vars[d], ext.back());
    guard = guard ? ir::make_binary(ir::BinaryOp::And, guard, in) : in;
  }
  begin_scope(ScopeKind::Parallel, appending([=](ir::Stmt s) {
    if (guard) s = ir::make_if(guard, s);
    for (int d = static_cast<int>(loop_ext.size()) - 1; d >= 0; --d)
      s = ir::make_for(vars[d], ir::make_int(0, loop_ext[d]->dtype), loop_ext[d], ir::ForKind::Parallel, s);
    return s;
  }));
  return std::vector<Expr>(vars.begin(), vars.end());
}

Expr begin_pipelined(const Expr& extent, const PipelineOptions& o) {
  return begin_loop(ScopeKind::Pipelined, 0, extent, ir::ForKind::Pipelined, ir::PipelineInfo{o.num_stages, o.order, o.stage}, "k");
}
Expr begin_serial(const Expr& begin, const Expr& end) {
  return begin_loop(ScopeKind::Serial, begin, end, ir::ForKind::Serial, {}, "i");
}
Expr begin_unroll(const Expr& extent) { return begin_loop(ScopeKind::Unroll, 0, extent, ir::ForKind::Unrolled, {}, "i"); }

void begin_if(const Expr& cond) {
  ir::Expr c = as_bool(node(cond));
  begin_scope(ScopeKind::If, appending([c](ir::Stmt body) { return ir::make_if(c, std::move(body)); }));
}

void begin_else() {
  auto& scope = builder("Else").scopes.back();
  const auto* i = scope.empty() ? nullptr : ir::as<ir::IfNode>(scope.back());
  if (!i || i->else_case) throw CompileError(kElseMisplaced);
  begin_scope(ScopeKind::Else, [](ir::Stmt body, std::vector<ir::Stmt>& enclosing) {
    const auto* i = ir::as<ir::IfNode>(enclosing.back());
    enclosing.back() = ir::make_if(i->cond, i->then_case, std::move(body));
  });
}

void begin_while(const Expr& cond) {
  ir::Expr c = as_bool(node(cond));
  begin_scope(ScopeKind::While, appending([c](ir::Stmt body) { return ir::make_while(c, std::move(body)); }));
}

void end_scope(ScopeKind kind) {
  auto& b = builder("detail::end_scope");
  if (b.open.empty())
    throw CompileError(cat("cannot end the scope of ", scope_name(kind), " because no begun scope is open in ", b.name,
                           "; end only the scopes begun"));
  if (b.open.back().kind != kind)
    throw CompileError(cat("cannot end the scope of ", scope_name(kind), " because the innermost open scope is ",
                           scope_name(b.open.back().kind), "'s; end scopes in the reverse order of beginning them"));
  OpenScope closing = std::move(b.open.back());
  ir::Stmt body = ir::make_seq(std::move(b.scopes.back()));
  drop_innermost_scope(b);
  closing.close(std::move(body), b.scopes.back());
}

std::size_t open_scopes() { return builder("detail::open_scopes").open.size(); }

void emit_statement(const char* what, ir::Stmt s) { emit(what, std::move(s)); }
void require_kernel(const char* what) {
  if (!builder(what).kernel)
    throw CompileError(cat("cannot call T::", what, " outside T::Kernel; call it inside the kernel body"));
}
ir::Expr value_as(const Expr& value, DataType t) { return typed(node(value), t); }
ir::Expr condition(const Expr& e) { return as_bool(node(e)); }
}  // namespace detail

}  // namespace tilescale::lang
