#include "passes/widen_indices.h"

#include "ir/visitor.h"
#include "ir/widen.h"

namespace tilescale::passes {

namespace {

// Tile overruns (a tile starting near the end of a dimension) stay far below 2^31 past this.
constexpr std::int64_t kNarrowExtent = std::int64_t(1) << 30;

class IndexWidener : public ir::Mutator {
  using Mutator::mutate;

  static std::vector<ir::Expr> widened(const ir::BufferNode& b, std::vector<ir::Expr> index) {
    if (b.scope != ir::Scope::Global) return index;
    for (int d = 0; d < b.rank(); ++d) {
      const auto extent = ir::as_const_int(b.shape[d]);
      if (!(extent && *extent <= kNarrowExtent) && bits(index[d]->dtype) < 64) index[d] = ir::widen_or_cast(index[d], DataType::Int64);
    }
    return index;
  }

  ir::Expr mutate(const ir::LoadNode* op, const ir::Expr& self) override {
    ir::Expr e = Mutator::mutate(op, self);
    const auto* l = ir::as<ir::LoadNode>(e);
    auto index = widened(*l->buffer, l->indices);
    return index == l->indices ? e : ir::make_load(l->buffer, std::move(index));
  }

  ir::Stmt mutate(const ir::StoreNode* op, const ir::Stmt& self) override {
    ir::Stmt s = Mutator::mutate(op, self);
    const auto* st = ir::as<ir::StoreNode>(s);
    auto index = widened(*st->buffer, st->indices);
    return index == st->indices ? s : ir::make_store(st->buffer, std::move(index), st->value);
  }

  ir::Stmt mutate(const ir::TileOpNode* op, const ir::Stmt& self) override {
    ir::Stmt s = Mutator::mutate(op, self);
    const auto* t = ir::as<ir::TileOpNode>(s);
    std::vector<ir::Region> regions = t->regions;
    bool changed = false;
    for (auto& r : regions) {
      auto base = widened(*r.buffer, r.base);
      changed |= base != r.base;
      r.base = std::move(base);
    }
    return changed ? ir::make_tile_op(t->op, std::move(regions), t->args, t->attrs) : s;
  }
};

}  // namespace

ir::PrimFunc widen_indices(const ir::PrimFunc& func) {
  ir::Stmt body = IndexWidener().mutate_stmt(func->body);
  return body == func->body ? func : ir::make_prim_func(func->name, func->params, body);
}

}  // namespace tilescale::passes
