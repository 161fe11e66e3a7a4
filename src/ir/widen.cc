#include "ir/widen.h"

namespace tilescale::ir {

Expr widen(const Expr& e, DataType t) {
  TS_ICHECK(is_integer(t) && is_signed(t), "widen to ", name(t));
  if (e->dtype == t) return e;
  TS_ICHECK(is_bool(e->dtype) || (is_integer(e->dtype) && bits(e->dtype) <= bits(t)), "widen ", name(e->dtype), " to ", name(t));
  if (!is_signed(e->dtype)) return make_cast(t, e);
  if (const auto* i = as<IntImmNode>(e)) return make_int(i->value, t);
  if (const auto* b = as<BinaryNode>(e); b && !is_comparison(b->op) && !is_logical(b->op))
    return make_binary(b->op, widen(b->a, t), widen(b->b, t));
  if (const auto* u = as<UnaryNode>(e); u && u->op != UnaryOp::Not) return make_unary(u->op, widen(u->a, t));
  if (const auto* s = as<SelectNode>(e)) return make_select(s->cond, widen(s->true_value, t), widen(s->false_value, t));
  return make_cast(t, e);
}

Expr widen_or_cast(const Expr& e, DataType t) {
  const bool widening = is_integer(t) && is_signed(t) && !is_float(e->dtype) && bits(e->dtype) <= bits(t);
  return widening ? widen(e, t) : make_cast(t, e);
}

Expr widening_binary(BinaryOp op, const Expr& a, const Expr& b) {
  if (a->dtype == b->dtype) return make_binary(op, a, b);
  const bool wide = bits(a->dtype) == 64 || bits(b->dtype) == 64 || is_signed(a->dtype) != is_signed(b->dtype);
  const DataType t = wide ? DataType::Int64 : bits(a->dtype) >= bits(b->dtype) ? a->dtype : b->dtype;
  return make_binary(op, widen_or_cast(a, t), widen_or_cast(b, t));
}

}  // namespace tilescale::ir
