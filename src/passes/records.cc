#include "passes/records.h"

#include "ir/visitor.h"

namespace tilescale::passes {

std::map<const ir::BufferNode*, SharedPlacement> shared_placements(const ir::Stmt& body) {
  struct Placements : ir::Visitor {
    std::map<const ir::BufferNode*, SharedPlacement> shared;
    void visit(const ir::AnnotateNode* op) override {
      if (auto p = SharedPlacement::decode(*op)) shared[op->buffer.get()] = *p;
    }
  } placements;
  placements.visit_stmt(body);
  return placements.shared;
}

ir::Stmt statement_after(const std::vector<ir::Stmt>& stmts, size_t i) {
  size_t j = i + 1;
  while (j < stmts.size() && (ir::as<ir::AnnotateNode>(stmts[j]) || ir::as<ir::EvaluateNode>(stmts[j]))) ++j;
  return j < stmts.size() ? stmts[j] : nullptr;
}

ir::Stmt expand_records(const ir::Stmt& s, const std::function<std::optional<Expanded>(const ir::AnnotateNode&, const ir::Stmt&)>& expand) {
  struct Expand : ir::Mutator {
    const std::function<std::optional<Expanded>(const ir::AnnotateNode&, const ir::Stmt&)>* expand;
    using Mutator::mutate;
    ir::Stmt mutate(const ir::SeqNode* seq, const ir::Stmt& self) override {
      const ir::Stmt m = Mutator::mutate(seq, self);
      const auto* mseq = ir::as<ir::SeqNode>(m);
      if (!mseq) return m;
      std::vector<ir::Stmt> stmts = mseq->stmts;
      bool changed = m != self;
      for (size_t i = 0; i < stmts.size(); ++i) {
        const auto* a = ir::as<ir::AnnotateNode>(stmts[i]);
        const ir::Stmt after = a ? statement_after(stmts, i) : nullptr;
        const auto out = a ? (*expand)(*a, after) : std::nullopt;
        if (!out) continue;
        for (auto& t : stmts)
          if (t == after) t = out->statement;
        stmts[i] = out->record;
        changed = true;
      }
      return changed ? ir::make_seq(std::move(stmts)) : m;
    }
  } rewrite;
  rewrite.expand = &expand;
  return rewrite.mutate_stmt(s);
}

}  // namespace tilescale::passes
