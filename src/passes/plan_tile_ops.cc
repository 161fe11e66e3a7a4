#include "passes/plan_tile_ops.h"

#include "ir/visitor.h"
#include "ops/tile_op.h"

namespace tilescale::passes {

namespace {

class Planner : public ir::Mutator {
 public:
  explicit Planner(int sm) { ctx_.sm = sm; }
  using Mutator::mutate;

  ir::Stmt mutate(const ir::KernelNode* op, const ir::Stmt& self) override {
    const ir::KernelNode* outer = ctx_.kernel;
    ctx_.kernel = op;
    ir::Stmt out = Mutator::mutate(op, self);
    ctx_.kernel = outer;
    return out;
  }

  ir::Stmt mutate(const ir::TileOpNode* op, const ir::Stmt& self) override {
    const auto& def = ops::tile_op(op->op);
    if (!def.plan) return self;
    ir::Attrs attrs = def.plan(*op, ctx_);
    return attrs == op->attrs ? self : ir::make_tile_op(op->op, op->regions, op->args, std::move(attrs));
  }

 private:
  ops::PlanContext ctx_;
};

}  // namespace

ir::PrimFunc plan_tile_ops(const ir::PrimFunc& func, int sm) {
  Planner p(sm);
  ir::Stmt body = p.mutate_stmt(func->body);
  return body == func->body ? func : ir::make_prim_func(func->name, func->params, body);
}

}  // namespace tilescale::passes
