#include "passes/plan_copies.h"

#include "ir/visitor.h"
#include "ops/copy.h"
#include "ops/tile_op.h"
#include "passes/thread_ir.h"
#include "tilescale/errors.h"

namespace tilescale::passes {

namespace {

class Planner : public KernelMutator {
 public:
  Planner(const ir::KernelNode& kernel, int sm) : KernelMutator(kernel), sm_(sm) {}
  using KernelMutator::mutate;

  ir::Stmt mutate(const ir::TileOpNode* op, const ir::Stmt& self) override {
    if (!ops::is_copy(*op)) return self;
    const ops::CopyPlan plan =
        ops::plan_copy(*op, threads(), sm_, [&](const ir::BufferNode& b) -> const layout::Fragment& { return *layout_of(b).layout; });
    ir::Attrs attrs = op->attrs;
    for (auto& [k, v] : plan.encode()) attrs[k] = v;
    return ir::make_tile_op(op->op, op->regions, op->args, std::move(attrs));
  }

 private:
  const int sm_;
};

}  // namespace

ir::PrimFunc plan_copies(const ir::PrimFunc& func, int sm) { return rewrite_kernels<Planner>(func, sm); }

}  // namespace tilescale::passes
