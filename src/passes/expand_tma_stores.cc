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

class Expand {
 public:
  // The store maps are numbered after the load maps, in the order the generator meets the records.
  Expand(const ir::PrimFunc& func, const ir::KernelNode& kernel) : func_(func), kernel_(kernel), shared_(shared_placements(kernel.body)) {
    struct Number : ir::Visitor {
      std::int64_t maps = 0;
      std::vector<const ir::AnnotateNode*> stores;
      void visit(const ir::AnnotateNode* a) override {
        maps += TensorMapSpec::decode(*a).has_value();
        if (TmaStorePlan::decode(*a)) stores.push_back(a);
      }
    } number;
    number.visit_stmt(kernel.body);
    for (const auto* a : number.stores) map_of_[a] = number.maps++;
  }

  Stmt body() const {
    return expand_records(kernel_.body, [&](const ir::AnnotateNode& a, const Stmt& after) -> std::optional<Expanded> {
      if (!TmaStorePlan::decode(a)) return std::nullopt;
      const auto* copy = ir::as<ir::TileOpNode>(after);
      TS_ICHECK(copy, "tma_store record before no copy");
      const SharedPlacement& tile = shared_.at(copy->regions[0].buffer.get());
      std::string why;
      const auto plan = plan_tma_copy(func_, *copy, tile.offset, tile.stage_bytes, why);
      TS_ICHECK(plan, "TMA store into ", copy->regions[1].buffer->name, " planned but refused: ", why);
      return Expanded{plan->map.encode(), store(*copy, *plan, map_of_.at(&a))};
    });
  }

 private:
  const ir::PrimFunc& func_;
  const ir::KernelNode& kernel_;
  const std::map<const ir::BufferNode*, SharedPlacement> shared_;
  std::map<const ir::AnnotateNode*, std::int64_t> map_of_;

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
      const Stmt body = Expand(*func, *k).body();
      return body == k->body ? self : ir::make_kernel(k->grid, k->threads, k->block_vars, k->thread_var, body);
    }
  } kernels;
  kernels.func = &func;
  const Stmt body = kernels.mutate_stmt(func->body);
  return body == func->body ? func : ir::make_prim_func(func->name, func->params, body);
}

}  // namespace tilescale::passes
