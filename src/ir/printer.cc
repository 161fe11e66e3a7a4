#include "ir/printer.h"

#include <charconv>
#include <cmath>
#include <set>
#include <sstream>
#include <unordered_map>

#include "ir/equality.h"
#include "ir/visitor.h"
#include "layout/layout.h"

namespace tilescale::ir {
namespace {

// Binding strength, C order; higher binds tighter.
enum Prec : int {
  kOr = 10, kAnd = 20, kBitOr = 30, kBitXor = 35, kBitAnd = 40, kEquality = 45, kRelational = 50,
  kShift = 60, kAdditive = 70, kMultiplicative = 80, kUnary = 90, kPrimary = 100,
};

// Infix operators; 0 for those printed as T.<name>(a, b).
int precedence(BinaryOp op) {
  switch (op) {
    case BinaryOp::Add: case BinaryOp::Sub: return kAdditive;
    case BinaryOp::Mul: case BinaryOp::Div: case BinaryOp::Mod: return kMultiplicative;
    case BinaryOp::EQ: case BinaryOp::NE: return kEquality;
    case BinaryOp::LT: case BinaryOp::LE: case BinaryOp::GT: case BinaryOp::GE: return kRelational;
    case BinaryOp::And: return kAnd;
    case BinaryOp::Or: return kOr;
    case BinaryOp::BitAnd: return kBitAnd;
    case BinaryOp::BitOr: return kBitOr;
    case BinaryOp::BitXor: return kBitXor;
    case BinaryOp::Shl: case BinaryOp::Shr: return kShift;
    case BinaryOp::FloorDiv: case BinaryOp::FloorMod: case BinaryOp::Min: case BinaryOp::Max: return 0;
  }
  return 0;
}

std::string quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default: out += c;
    }
  }
  return out + "\"";
}

// Python's repr of a float: the shortest digits that read back to the same value, positional when
// the decimal exponent is in [-4, 16), scientific otherwise. `single` reads back as a float.
std::string float_text(double v, bool single) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v < 0 ? "-inf" : "inf";
  auto shortest = [&](std::chars_format fmt) {
    char buf[64];  // positional text is only used for exponents in [-4, 16)
    auto r = single ? std::to_chars(buf, buf + sizeof buf, static_cast<float>(v), fmt)
                    : std::to_chars(buf, buf + sizeof buf, v, fmt);
    return std::string(buf, r.ptr);
  };
  std::string sci = shortest(std::chars_format::scientific);
  const int exponent = std::stoi(sci.substr(sci.find('e') + 1));
  if (exponent < -4 || exponent >= 16) return sci;
  std::string fixed = shortest(std::chars_format::fixed);
  return fixed.find('.') == std::string::npos ? fixed + ".0" : fixed;
}

std::string attr_text(const Attr& a) {
  if (auto* i = std::get_if<std::int64_t>(&a)) return std::to_string(*i);
  if (auto* d = std::get_if<double>(&a)) return float_text(*d, false);
  if (auto* s = std::get_if<std::string>(&a)) return quote(*s);
  std::string out;
  for (std::int64_t v : std::get<std::vector<std::int64_t>>(a)) out += (out.empty() ? "" : ", ") + std::to_string(v);
  return "[" + out + "]";
}

std::string targ_text(const TemplateArg& a) {
  if (auto* i = std::get_if<std::int64_t>(&a)) return std::to_string(*i);
  if (auto* b = std::get_if<bool>(&a)) return *b ? "True" : "False";
  return quote(tilescale::name(std::get<DataType>(a)));
}

bool is_zero(const Expr& e) { return as_const_int(e) == 0; }

class Printer {
 public:
  explicit Printer(const StmtNote* note = nullptr) : note_(note) {}

  std::string func(const PrimFunc& f) {
    line(0, "@T.prim_func");
    std::string head = "def " + f->name + "(";
    for (size_t i = 0; i < f->params.size(); ++i) {
      head += i ? ", " : "";
      if (const Var& v = f->params[i].scalar) {
        head += name(v) + ": T." + tilescale::name(v->dtype);
        continue;
      }
      const Buffer& p = f->params[i].tensor;
      head += name(p.get(), p->name) + ": T.Tensor(" + tuple(p->shape) + ", " + quote(tilescale::name(p->dtype)) + ")";
    }
    line(0, head + "):");
    stmt(f->body, 1);
    return out_.str();
  }

  void stmt(const Stmt& s, int indent) {
    if (note_) pending_note_ = (*note_)(*s);
    switch (s->kind) {
#define TS_X(K) \
  case StmtKind::K: return print(static_cast<const K##Node*>(s.get()), indent);
      TS_STMT_KINDS(TS_X)
#undef TS_X
    }
  }

  std::string expr(const Expr& e) { return text(e).s; }

  std::string region(const Region& r) {
    const Buffer& b = r.buffer;
    bool whole = r.rank() == b->rank();
    for (int i = 0; whole && i < r.rank(); ++i) whole = is_zero(r.base[i]) && structural_equal(r.extent[i], b->shape[i]);
    std::string out = name(b.get(), b->name);
    if (whole) return out;
    out += "[";
    for (int i = 0; i < r.rank(); ++i) out += (i ? ", " : "") + expr(r.base[i]) + " : +" + expr(r.extent[i]);
    return out + "]";
  }

  std::string str() const { return out_.str(); }

 private:
  struct Text {
    std::string s;
    int prec;
  };

  // The printed name of a variable or buffer: its own name, suffixed when another object took it.
  std::string name(const void* key, const std::string& base) {
    if (auto it = names_.find(key); it != names_.end()) return it->second;
    std::string n = base;
    for (int i = 1; used_.count(n); ++i) n = base + "_" + std::to_string(i);
    used_.insert(n);
    return names_[key] = n;
  }
  std::string name(const Var& v) { return name(v.get(), v->name); }

  // A statement's note goes at the end of its first line.
  void line(int indent, const std::string& s) {
    out_ << std::string(4 * indent, ' ') << s;
    if (!pending_note_.empty()) out_ << "  # " << pending_note_;
    pending_note_.clear();
    out_ << '\n';
  }

  std::string list(const std::vector<Expr>& es) {
    std::string out;
    for (size_t i = 0; i < es.size(); ++i) out += (i ? ", " : "") + expr(es[i]);
    return out;
  }
  std::string tuple(const std::vector<Expr>& es) { return "(" + list(es) + (es.size() == 1 ? ",)" : ")"); }
  std::string access(const Buffer& b, const std::vector<Expr>& indices) {
    return name(b.get(), b->name) + "[" + list(indices) + "]";
  }

  // e as an operand of an operator of precedence `prec`.
  std::string operand(const Expr& e, int prec) {
    Text t = text(e);
    return t.prec < prec ? "(" + t.s + ")" : t.s;
  }

  Text text(const Expr& e) {
    switch (e->kind) {
#define TS_X(K) \
  case ExprKind::K: return text(static_cast<const K##Node*>(e.get()));
      TS_EXPR_KINDS(TS_X)
#undef TS_X
    }
    return {"?", kPrimary};
  }

  static Text literal(std::string s) { return {s, s[0] == '-' ? kUnary : kPrimary}; }
  static Text typed(DataType t, const std::string& value) { return {"T." + std::string(tilescale::name(t)) + "(" + value + ")", kPrimary}; }

  Text text(const IntImmNode* op) {
    if (is_bool(op->dtype)) return {op->value ? "True" : "False", kPrimary};
    std::string v = is_signed(op->dtype) ? std::to_string(op->value) : std::to_string(static_cast<std::uint64_t>(op->value));
    return op->dtype == DataType::Int32 ? literal(v) : typed(op->dtype, v);
  }
  Text text(const FloatImmNode* op) {
    const bool single = op->dtype != DataType::Float64 && static_cast<double>(static_cast<float>(op->value)) == op->value;
    std::string v = float_text(op->value, single);
    return op->dtype == DataType::Float32 ? literal(v) : typed(op->dtype, v);
  }
  Text text(const VarNode* op) { return {name(op, op->name), kPrimary}; }
  Text text(const BinaryNode* op) {
    const int prec = precedence(op->op);
    if (prec == 0) return {"T." + std::string(spelling(op->op)) + "(" + expr(op->a) + ", " + expr(op->b) + ")", kPrimary};
    const char* symbol = op->op == BinaryOp::And ? "and" : op->op == BinaryOp::Or ? "or" : spelling(op->op);
    // Left-associative: an equal-precedence right operand keeps its parentheses, as in a - (b - c).
    return {operand(op->a, prec) + " " + symbol + " " + operand(op->b, prec + 1), prec};
  }
  Text text(const UnaryNode* op) { return {spelling(op->op) + operand(op->a, kUnary + 1), kUnary}; }
  Text text(const CastNode* op) { return {"T.cast(" + expr(op->value) + ", " + quote(tilescale::name(op->dtype)) + ")", kPrimary}; }
  Text text(const CallNode* op) { return {"T." + std::string(spelling(op->op)) + "(" + list(op->args) + ")", kPrimary}; }
  Text text(const LoadNode* op) { return {access(op->buffer, op->indices), kPrimary}; }
  Text text(const SelectNode* op) {
    return {"T.if_then_else(" + expr(op->cond) + ", " + expr(op->true_value) + ", " + expr(op->false_value) + ")", kPrimary};
  }
  Text text(const BuiltinNode* op) {
    std::vector<std::string> parts;
    for (const auto& a : op->args) parts.push_back(expr(a));
    for (const auto& [k, v] : op->attrs) parts.push_back(k + "=" + attr_text(v));
    std::string fn = "T." + op->op;
    for (size_t i = 0; i < op->targs.size(); ++i) fn += (i ? ", " : "[") + targ_text(op->targs[i]);
    if (!op->targs.empty()) fn += "]";
    return {call(fn, parts), kPrimary};
  }

  void print(const SeqNode* op, int indent) {
    if (op->stmts.empty()) line(indent, "pass");
    for (const auto& s : op->stmts) stmt(s, indent);
  }

  // `T.serial(extent)` or `T.serial(min, min + extent)`.
  std::string range(const ForNode* op) {
    if (is_zero(op->min)) return expr(op->extent);
    auto mn = as_const_int(op->min), ext = as_const_int(op->extent);
    Expr end = mn && ext ? make_int(*mn + *ext, op->min->dtype) : make_binary(BinaryOp::Add, op->min, op->extent);
    return expr(op->min) + ", " + expr(end);
  }

  void print(const ForNode* op, int indent) {
    if (op->for_kind == ForKind::Parallel && is_zero(op->min)) return parallel(op, indent);
    std::string head = "for " + name(op->var) + " in T." + spelling(op->for_kind) + "(" + range(op);
    if (op->for_kind == ForKind::Pipelined) {
      auto ints = [](const std::vector<int>& v) {
        std::string out;
        for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + std::to_string(v[i]);
        return "[" + out + "]";
      };
      head += ", num_stages=" + std::to_string(op->pipeline.num_stages);
      if (!op->pipeline.order.empty()) head += ", order=" + ints(op->pipeline.order);
      if (!op->pipeline.stage.empty()) head += ", stage=" + ints(op->pipeline.stage);
    }
    line(indent, head + "):");
    stmt(op->body, indent + 1);
  }

  // Parallel loops from 0 nested directly in each other print as one `for i, j in T.Parallel(m, n)`,
  // as long as no inner extent depends on an outer index.
  void parallel(const ForNode* op, int indent) {
    std::vector<const ForNode*> nest{op};
    for (auto* inner = as<ForNode>(op->body); inner && inner->for_kind == ForKind::Parallel && is_zero(inner->min);
         inner = as<ForNode>(inner->body)) {
      bool independent = true;
      for (auto* outer : nest) independent &= !uses_var(inner->extent, outer->var.get());
      if (!independent) break;
      nest.push_back(inner);
    }
    std::string vars, extents;
    for (size_t i = 0; i < nest.size(); ++i) vars += (i ? ", " : "") + name(nest[i]->var);
    for (size_t i = 0; i < nest.size(); ++i) extents += (i ? ", " : "") + expr(nest[i]->extent);
    line(indent, "for " + vars + " in T.Parallel(" + extents + "):");
    stmt(nest.back()->body, indent + 1);
  }

  void print(const IfNode* op, int indent) {
    line(indent, "if " + expr(op->cond) + ":");
    stmt(op->then_case, indent + 1);
    if (!op->else_case) return;
    line(indent, "else:");
    stmt(op->else_case, indent + 1);
  }
  void print(const WhileNode* op, int indent) {
    line(indent, "while " + expr(op->cond) + ":");
    stmt(op->body, indent + 1);
  }
  void print(const BreakNode*, int indent) { line(indent, "break"); }
  void print(const StoreNode* op, int indent) { line(indent, access(op->buffer, op->indices) + " = " + expr(op->value)); }
  void print(const AllocNode* op, int indent) {
    const Buffer& b = op->buffer;
    std::string n = name(b.get(), b->name), dtype = quote(tilescale::name(b->dtype));
    if (b->scope == Scope::Var) return line(indent, n + " = T.alloc_var(" + dtype + ")");
    line(indent, n + " = T.alloc_" + spelling(b->scope) + "(" + tuple(b->shape) + ", " + dtype + ")");
  }
  void print(const KernelNode* op, int indent) {
    std::string head = "with T.Kernel(" + list(op->grid) + ", threads=" + std::to_string(op->threads) + ") as (";
    for (size_t i = 0; i < op->block_vars.size(); ++i) head += (i ? ", " : "") + name(op->block_vars[i]);
    line(indent, head + "):");
    if (uses_var(op->body, op->thread_var.get())) line(indent + 1, name(op->thread_var) + " = T.get_thread_binding()");
    stmt(op->body, indent + 1);
  }
  void print(const TileOpNode* op, int indent) {
    std::vector<std::string> parts;
    for (const auto& r : op->regions) parts.push_back(region(r));
    for (const auto& a : op->args) parts.push_back(expr(a));
    for (const auto& [k, v] : op->attrs) parts.push_back(k + "=" + attr_text(v));
    line(indent, call("T." + op->op, parts));
  }
  void print(const AssertNode* op, int indent) {
    line(indent, "T.device_assert(" + expr(op->cond) + ", " + quote(op->message) + ")");
  }
  void print(const PrintNode* op, int indent) {
    std::vector<std::string> parts;
    if (op->value) parts.push_back(expr(op->value));
    if (op->buffer) parts.push_back(name(op->buffer.get(), op->buffer->name));
    parts.push_back("msg=" + quote(op->message));
    line(indent, call("T.print", parts));
  }
  void print(const AnnotateNode* op, int indent) {
    if (op->key == "layout") {
      const std::string l = op->layout ? op->layout->to_string() : "None";
      return line(indent, "T.annotate_layout({" + name(op->buffer.get(), op->buffer->name) + ": " + l + "})");
    }
    std::vector<std::string> parts;
    if (op->key == "swizzle") {
      // panel_size first, as in TileLang's signature.
      if (auto it = op->attrs.find("panel_size"); it != op->attrs.end()) parts.push_back("panel_size=" + attr_text(it->second));
      for (const auto& [k, v] : op->attrs)
        if (k != "panel_size") parts.push_back(k + "=" + attr_text(v));
      return line(indent, call("T.use_swizzle", parts));
    }
    parts.push_back(quote(op->key));
    if (op->buffer) parts.push_back(name(op->buffer.get(), op->buffer->name));
    for (const auto& [k, v] : op->attrs) parts.push_back(k + "=" + attr_text(v));
    line(indent, call("T.annotate", parts));
  }

  void print(const EvaluateNode* op, int indent) { line(indent, expr(op->value)); }
  void print(const ScopedNode* op, int indent) {
    std::vector<std::string> parts;
    for (const auto& a : op->args) parts.push_back(expr(a));
    for (const auto& [k, v] : op->attrs) parts.push_back(k + "=" + attr_text(v));
    line(indent, "with " + call("T." + op->key, parts) + ":");
    stmt(op->body, indent + 1);
  }

  static std::string call(const std::string& fn, const std::vector<std::string>& parts) {
    std::string out = fn + "(";
    for (size_t i = 0; i < parts.size(); ++i) out += (i ? ", " : "") + parts[i];
    return out + ")";
  }

  const StmtNote* note_;
  std::string pending_note_;
  std::ostringstream out_;
  std::unordered_map<const void*, std::string> names_;
  std::set<std::string> used_;
};

}  // namespace

std::string print(const PrimFunc& f) { return Printer().func(f); }
std::string print(const PrimFunc& f, const StmtNote& note) { return Printer(&note).func(f); }
std::string print(const Stmt& s) {
  Printer p;
  p.stmt(s, 0);
  return p.str();
}
std::string print(const Expr& e) { return Printer().expr(e); }
std::string print(const Region& r) { return Printer().region(r); }

std::ostream& operator<<(std::ostream& os, const PrimFunc& f) { return os << print(f); }
std::ostream& operator<<(std::ostream& os, const Stmt& s) { return os << print(s); }
std::ostream& operator<<(std::ostream& os, const Expr& e) { return os << print(e); }
std::ostream& operator<<(std::ostream& os, const Var& v) { return os << print(Expr(v)); }

}  // namespace tilescale::ir
