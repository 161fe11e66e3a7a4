#include "passes/simplify.h"

#include "ir/eval.h"
#include "ir/visitor.h"

namespace tilescale::passes {

namespace {

bool is_int_const(const ir::Expr& e, std::int64_t v) { return ir::as_const_int(e) == v; }

class Simplifier : public ir::Mutator {
  using Mutator::mutate;

  ir::Expr mutate(const ir::BinaryNode* op, const ir::Expr& self) override {
    ir::Expr e = Mutator::mutate(op, self);
    const auto* b = ir::as<ir::BinaryNode>(e);
    if (!b || is_float(b->a->dtype)) return e;
    if (auto v = ir::eval_int(e)) return ir::make_int(*v, e->dtype);
    switch (b->op) {
      case ir::BinaryOp::Add:
        if (is_int_const(b->b, 0)) return b->a;
        if (is_int_const(b->a, 0)) return b->b;
        break;
      case ir::BinaryOp::Sub:
        if (is_int_const(b->b, 0)) return b->a;
        break;
      case ir::BinaryOp::Mul:
        if (is_int_const(b->b, 1)) return b->a;
        if (is_int_const(b->a, 1)) return b->b;
        // x * 0 is 0 unless x has effects (a builtin call), which must still run.
        if ((is_int_const(b->a, 0) && !ir::has_builtin(b->b)) || (is_int_const(b->b, 0) && !ir::has_builtin(b->a)))
          return ir::make_int(0, e->dtype);
        break;
      case ir::BinaryOp::Div:
      case ir::BinaryOp::FloorDiv:
        if (is_int_const(b->b, 1)) return b->a;
        break;
      default: break;
    }
    return e;
  }

  ir::Expr mutate(const ir::CastNode* op, const ir::Expr& self) override {
    ir::Expr e = Mutator::mutate(op, self);
    if (is_float(e->dtype) || !ir::as<ir::CastNode>(e) || is_float(ir::as<ir::CastNode>(e)->value->dtype)) return e;
    if (auto v = ir::eval_int(e)) return ir::make_int(*v, e->dtype);
    return e;
  }

  ir::Expr mutate(const ir::SelectNode* op, const ir::Expr& self) override {
    ir::Expr e = Mutator::mutate(op, self);
    const auto* s = ir::as<ir::SelectNode>(e);
    if (!s) return e;
    if (auto c = ir::as_const_int(s->cond)) return *c ? s->true_value : s->false_value;
    return e;
  }

  ir::Stmt mutate(const ir::IfNode* op, const ir::Stmt& self) override {
    ir::Stmt s = Mutator::mutate(op, self);
    const auto* i = ir::as<ir::IfNode>(s);
    if (!i) return s;
    if (auto c = ir::as_const_int(i->cond)) return *c ? i->then_case : i->else_case;
    return s;
  }

  ir::Stmt mutate(const ir::ForNode* op, const ir::Stmt& self) override {
    ir::Stmt s = Mutator::mutate(op, self);
    const auto* f = ir::as<ir::ForNode>(s);
    if (f && ir::as_const_int(f->extent).value_or(1) <= 0) return nullptr;
    return s;
  }
};

}  // namespace

ir::Expr simplify(const ir::Expr& e) { return Simplifier().mutate_expr(e); }

ir::PrimFunc simplify(const ir::PrimFunc& func) {
  Simplifier s;
  ir::Stmt body = s.mutate_stmt(func->body);
  if (body == func->body) return func;
  return ir::make_prim_func(func->name, func->params, body ? body : ir::make_seq({}));
}

}  // namespace tilescale::passes
