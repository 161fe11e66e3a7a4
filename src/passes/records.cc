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

}  // namespace tilescale::passes
