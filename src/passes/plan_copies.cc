#include "passes/plan_copies.h"

#include <map>

#include "ir/visitor.h"
#include "ops/copy.h"
#include "ops/tile_op.h"
#include "passes/infer_fragment_layouts.h"
#include "tilescale/errors.h"

namespace tilescale::passes {

namespace {

class Planner : public ir::Mutator {
 public:
  Planner(const ir::KernelNode& kernel, int sm) : threads_(kernel.threads), sm_(sm) {
    struct Layouts : ir::Visitor {
      std::map<const ir::BufferNode*, std::shared_ptr<const layout::Fragment>>* out;
      void visit(const ir::AnnotateNode* a) override {
        if (auto r = FragmentLayoutRecord::decode(*a)) (*out)[a->buffer.get()] = r->layout;
      }
    } layouts;
    layouts.out = &layouts_;
    layouts.visit_stmt(kernel.body);
  }
  using Mutator::mutate;

  ir::Stmt mutate(const ir::ScopedNode* op, const ir::Stmt& self) override {
    if (op->key != "warp_role") return Mutator::mutate(op, self);
    const int outer = threads_;
    threads_ = static_cast<int>(std::get<std::int64_t>(op->attrs.at("threads")));
    ir::Stmt out = Mutator::mutate(op, self);
    threads_ = outer;
    return out;
  }

  ir::Stmt mutate(const ir::TileOpNode* op, const ir::Stmt& self) override {
    if (!ops::is_copy(*op)) return self;
    const ops::CopyPlan plan = ops::plan_copy(*op, threads_, sm_, [&](const ir::BufferNode& b) -> const layout::Fragment& {
      TS_ICHECK(layouts_.count(&b), "fragment ", b.name, " has no layout");
      return *layouts_.at(&b);
    });
    ir::Attrs attrs = op->attrs;
    for (auto& [k, v] : plan.encode()) attrs[k] = v;
    return ir::make_tile_op(op->op, op->regions, op->args, std::move(attrs));
  }

 private:
  int threads_;
  const int sm_;
  std::map<const ir::BufferNode*, std::shared_ptr<const layout::Fragment>> layouts_;
};

}  // namespace

ir::PrimFunc plan_copies(const ir::PrimFunc& func, int sm) {
  struct Kernels : ir::Mutator {
    int sm;
    using Mutator::mutate;
    ir::Stmt mutate(const ir::KernelNode* k, const ir::Stmt& self) override {
      Planner planner(*k, sm);
      const ir::Stmt body = planner.mutate_stmt(k->body);
      return body == k->body ? self : ir::make_kernel(k->grid, k->threads, k->block_vars, k->thread_var, body);
    }
  } kernels;
  kernels.sm = sm;
  const ir::Stmt body = kernels.mutate_stmt(func->body);
  return body == func->body ? func : ir::make_prim_func(func->name, func->params, body);
}

}  // namespace tilescale::passes
