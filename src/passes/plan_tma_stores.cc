#include "passes/plan_tma_stores.h"

#include <map>
#include <vector>

#include "ir/visitor.h"
#include "ops/builtin.h"
#include "ops/memory_access.h"
#include "ops/tile_op.h"
#include "passes/records.h"
#include "passes/tma.h"
#include "tilescale/errors.h"

namespace tilescale::passes {

using tilescale::detail::cat;

namespace {

class Planner : public ir::Mutator {
 public:
  Planner(const ir::PrimFunc& func, const std::map<const ir::BufferNode*, SharedPlacement>& shared) : func_(func), shared_(shared) {}
  using Mutator::mutate;

  ir::Stmt mutate(const ir::KernelNode* op, const ir::Stmt& self) override {
    const auto* top = ir::as<ir::SeqNode>(op->body);
    const std::vector<ir::Stmt> stmts = top ? top->stmts : std::vector<ir::Stmt>{op->body};
    const ops::MemoryAccess kernel_access = ops::access_of(op->body);
    std::vector<ir::Stmt> out;
    bool changed = false;
    for (const auto& s : stmts) {
      if (auto record = decide(s, stmts, kernel_access)) out.push_back(*record), changed = true;
      out.push_back(s);
    }
    return changed ? ir::make_kernel(op->grid, op->threads, op->block_vars, op->thread_var, ir::make_seq(out)) : self;
  }

 private:
  // The record for statement `s`, if it is a candidate.
  std::optional<ir::Stmt> decide(const ir::Stmt& s, const std::vector<ir::Stmt>& stmts, const ops::MemoryAccess& kernel_access) const {
    const auto* copy = ir::as<ir::TileOpNode>(s);
    if (!copy || !ops::is_copy(*copy) || copy->regions[0].buffer->scope != ir::Scope::Shared) return std::nullopt;
    const ir::BufferNode* tile = copy->regions[0].buffer.get();
    const ir::BufferNode* tensor = copy->regions[1].buffer.get();
    if (shared_.at(tile).stages != 1) return std::nullopt;
    bool written_elsewhere = false;
    for (const auto& other : stmts) written_elsewhere |= other != s && ops::access_of(other).writes.count(tensor);
    std::string why;
    if (kernel_access.reads.count(tensor)) why = cat("the kernel also reads ", tensor->name);
    else if (written_elsewhere) why = cat("another statement also writes ", tensor->name);
    if (why.empty() && plan_tma_copy(func_, *copy, shared_.at(tile).offset, shared_.at(tile).stage_bytes, why)) return TmaStorePlan{}.encode();
    return NoTmaStore{cat("the threads store ", tile->name, " into ", tensor->name, ", not TMA, because ", why)}.encode();
  }

  const ir::PrimFunc& func_;
  const std::map<const ir::BufferNode*, SharedPlacement>& shared_;
};

}  // namespace

ir::Stmt TmaStorePlan::encode() const { return ir::make_annotate("tma_store", nullptr, nullptr, {}); }

std::optional<TmaStorePlan> TmaStorePlan::decode(const ir::AnnotateNode& a) {
  if (a.key != "tma_store") return std::nullopt;
  return TmaStorePlan{};
}

ir::Stmt NoTmaStore::encode() const { return ir::make_annotate("no_tma_store", nullptr, nullptr, {{"reason", reason}}); }

std::optional<NoTmaStore> NoTmaStore::decode(const ir::AnnotateNode& a) {
  if (a.key != "no_tma_store") return std::nullopt;
  return NoTmaStore{std::get<std::string>(a.attrs.at("reason"))};
}

ir::PrimFunc plan_tma_stores(const ir::PrimFunc& func, int sm, bool tma) {
  if (!tma || sm < 90 || ops::uses_builtins(func->body)) return func;
  const auto shared = shared_placements(func->body);
  Planner p(func, shared);
  return ir::make_prim_func(func->name, func->params, p.mutate_stmt(func->body));
}

}  // namespace tilescale::passes
