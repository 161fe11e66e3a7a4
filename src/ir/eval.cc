#include "ir/eval.h"

#include <algorithm>

namespace tilescale::ir {
namespace {

using Value = std::optional<std::int64_t>;

bool is_int_like(DataType t) { return is_integer(t) || is_bool(t); }

// `t` is the operands' type. Wrapping arithmetic goes through uint64 to stay clear of signed
// overflow; uint64 values live in int64 bits, so their ordering operations need the unsigned view.
Value binary(BinaryOp op, DataType t, std::int64_t a, std::int64_t b) {
  const bool u64 = t == DataType::UInt64;
  const auto ua = static_cast<std::uint64_t>(a), ub = static_cast<std::uint64_t>(b);
  switch (op) {
    case BinaryOp::Add: return static_cast<std::int64_t>(ua + ub);
    case BinaryOp::Sub: return static_cast<std::int64_t>(ua - ub);
    case BinaryOp::Mul: return static_cast<std::int64_t>(ua * ub);
    case BinaryOp::Div:
    case BinaryOp::FloorDiv: {
      if (b == 0) return std::nullopt;
      if (u64) return static_cast<std::int64_t>(ua / ub);
      if (b == -1) return static_cast<std::int64_t>(0 - ua);  // INT64_MIN / -1 wraps
      std::int64_t q = a / b;
      if (op == BinaryOp::FloorDiv && a % b != 0 && (a < 0) != (b < 0)) --q;
      return q;
    }
    case BinaryOp::Mod:
    case BinaryOp::FloorMod: {
      if (b == 0) return std::nullopt;
      if (u64) return static_cast<std::int64_t>(ua % ub);
      if (b == -1) return 0;
      std::int64_t r = a % b;
      if (op == BinaryOp::FloorMod && r != 0 && (r < 0) != (b < 0)) r += b;
      return r;
    }
    case BinaryOp::Min: return (u64 ? ua < ub : a < b) ? a : b;
    case BinaryOp::Max: return (u64 ? ua > ub : a > b) ? a : b;
    case BinaryOp::EQ: return a == b;
    case BinaryOp::NE: return a != b;
    case BinaryOp::LT: return u64 ? ua < ub : a < b;
    case BinaryOp::LE: return u64 ? ua <= ub : a <= b;
    case BinaryOp::GT: return u64 ? ua > ub : a > b;
    case BinaryOp::GE: return u64 ? ua >= ub : a >= b;
    case BinaryOp::And: return a && b;
    case BinaryOp::Or: return a || b;
    case BinaryOp::BitAnd: return a & b;
    case BinaryOp::BitOr: return a | b;
    case BinaryOp::BitXor: return a ^ b;
    case BinaryOp::Shl:
    case BinaryOp::Shr:
      if (b < 0 || b >= bits(t)) return std::nullopt;
      if (op == BinaryOp::Shl) return static_cast<std::int64_t>(ua << b);
      return u64 ? static_cast<std::int64_t>(ua >> b) : a >> b;
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::int64_t> eval_int(const Expr& e, const std::map<const VarNode*, std::int64_t>& bindings) {
  if (!e || !is_int_like(e->dtype)) return std::nullopt;
  Value v;
  switch (e->kind) {
    case ExprKind::IntImm: v = static_cast<const IntImmNode*>(e.get())->value; break;
    case ExprKind::Var: {
      auto it = bindings.find(static_cast<const VarNode*>(e.get()));
      if (it != bindings.end()) v = it->second;
      break;
    }
    case ExprKind::Binary: {
      auto* op = static_cast<const BinaryNode*>(e.get());
      Value a = eval_int(op->a, bindings);
      if (!a) return std::nullopt;
      if (op->op == BinaryOp::And && !*a) return 0;
      if (op->op == BinaryOp::Or && *a) return 1;
      Value b = eval_int(op->b, bindings);
      if (!b) return std::nullopt;
      v = binary(op->op, op->a->dtype, *a, *b);
      break;
    }
    case ExprKind::Unary: {
      auto* op = static_cast<const UnaryNode*>(e.get());
      Value a = eval_int(op->a, bindings);
      if (!a) return std::nullopt;
      switch (op->op) {
        case UnaryOp::Neg: v = static_cast<std::int64_t>(0 - static_cast<std::uint64_t>(*a)); break;
        case UnaryOp::Not: v = !*a; break;
        case UnaryOp::BitNot: v = ~*a; break;
      }
      break;
    }
    case ExprKind::Cast: v = eval_int(static_cast<const CastNode*>(e.get())->value, bindings); break;
    case ExprKind::Select: {
      auto* op = static_cast<const SelectNode*>(e.get());
      Value c = eval_int(op->cond, bindings);
      if (!c) return std::nullopt;
      v = eval_int(*c ? op->true_value : op->false_value, bindings);
      break;
    }
    case ExprKind::FloatImm:
    case ExprKind::Call:
    case ExprKind::Load:
    case ExprKind::Builtin: break;
  }
  if (!v) return std::nullopt;
  return wrap_to(e->dtype, *v);
}

}  // namespace tilescale::ir
