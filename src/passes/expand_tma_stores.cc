#include "passes/expand_tma_stores.h"

#include "ir/visitor.h"
#include "passes/plan_tma_stores.h"
#include "passes/records.h"
#include "passes/simplify.h"
#include "passes/thread_ir.h"
#include "passes/tma.h"
#include "tilescale/errors.h"

namespace tilescale::passes {

namespace {

using ir::Expr;
using ir::Stmt;

class Expand : public ir::Mutator {
 public:
  Expand(const ir::PrimFunc& func, const ir::KernelNode& kernel) : func_(func), kernel_(kernel), shared_(shared_placements(kernel.body)) {
    struct Count : ir::Visitor {
      std::int64_t maps = 0;
      void visit(const ir::AnnotateNode* a) override { maps += TensorMapSpec::decode(*a).has_value(); }
    } count;
    count.visit_stmt(kernel.body);
    next_map_ = count.maps;
  }
  using Mutator::mutate;

  Stmt mutate(const ir::SeqNode* seq, const Stmt& self) override {
    const Stmt m = Mutator::mutate(seq, self);
    const auto* mseq = ir::as<ir::SeqNode>(m);
    if (!mseq) return m;
    std::vector<Stmt> stmts = mseq->stmts;
    bool changed = m != self;
    for (size_t i = 0; i < stmts.size(); ++i) {
      const auto* a = ir::as<ir::AnnotateNode>(stmts[i]);
      if (!a || !TmaStorePlan::decode(*a)) continue;
      const Stmt after = statement_after(stmts, i);
      const auto* copy = ir::as<ir::TileOpNode>(after);
      TS_ICHECK(copy, "tma_store record before no copy");
      const SharedPlacement& tile = shared_.at(copy->regions[0].buffer.get());
      std::string why;
      const auto plan = plan_tma_copy(func_, *copy, tile.offset, tile.stage_bytes, why);
      TS_ICHECK(plan, "TMA store into ", copy->regions[1].buffer->name, " planned but refused: ", why);
      stmts[i] = plan->map.encode();
      for (auto& s : stmts)
        if (s == after) s = store(*copy, *plan, next_map_++);
      changed = true;
    }
    return changed ? ir::make_seq(std::move(stmts)) : m;
  }

 private:
  const ir::PrimFunc& func_;
  const ir::KernelNode& kernel_;
  const std::map<const ir::BufferNode*, SharedPlacement> shared_;
  std::int64_t next_map_ = 0;

  Stmt store(const ir::TileOpNode& copy, const TmaCopy& plan, std::int64_t map) const {
    const ir::Region &src = copy.regions[0], &dst = copy.regions[1];
    std::vector<Stmt> issue;
    for (std::int64_t p = 0; p < plan.panels; ++p) {
      std::vector<Expr> tile(src.buffer->rank(), num(0)), coords;
      tile.back() = num(p * plan.panel_cols);
      for (const auto& c : tma_box_coords(dst, plan, p)) coords.insert(coords.begin(), simplify(c));
      issue.push_back(call("tl.tma_store", {ir::make_load(dst.buffer, coords), ir::make_load(src.buffer, tile)}, {}, {{"map", map}}));
    }
    issue.push_back(call("tl.tma_store_commit"));
    issue.push_back(call("tl.tma_store_wait_read", {}, {std::int64_t{0}}));
    return ir::make_seq({call("tl.fence_proxy_async"), block_barrier(),
                         ir::make_if(op(ir::BinaryOp::EQ, kernel_.thread_var, num(0)), ir::make_seq(std::move(issue)))});
  }
};

}  // namespace

ir::PrimFunc expand_tma_stores(const ir::PrimFunc& func) {
  struct Kernels : ir::Mutator {
    const ir::PrimFunc* func;
    using Mutator::mutate;
    Stmt mutate(const ir::KernelNode* k, const Stmt& self) override {
      Expand expand(*func, *k);
      const Stmt body = expand.mutate_stmt(k->body);
      return body == k->body ? self : ir::make_kernel(k->grid, k->threads, k->block_vars, k->thread_var, body);
    }
  } kernels;
  kernels.func = &func;
  const Stmt body = kernels.mutate_stmt(func->body);
  return body == func->body ? func : ir::make_prim_func(func->name, func->params, body);
}

}  // namespace tilescale::passes
