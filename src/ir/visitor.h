// Walking and rewriting the IR.
//
// Visitor: a recursive walk over statements and expressions. Override the `visit` overload of the
// node kinds you care about and call the base version to keep walking into children.
//
// Mutator: a rewrite. Each `mutate` overload returns the node itself when nothing below it changed,
// so an unchanged program keeps its identity (passes report "changed" by comparing pointers).
//
//   struct CountLoads : ir::Visitor {
//     int n = 0;
//     void visit(const ir::LoadNode* op) override { ++n; Visitor::visit(op); }
//   };
#pragma once

#include <functional>

#include "ir/IR.h"

namespace tilescale::ir {

class Visitor {
 public:
  virtual ~Visitor() = default;
  void visit_expr(const Expr& e);
  void visit_stmt(const Stmt& s);
  void visit_region(const Region& r);

 protected:
#define TS_X(K) virtual void visit(const K##Node* op);
  TS_EXPR_KINDS(TS_X)
  TS_STMT_KINDS(TS_X)
#undef TS_X
};

class Mutator {
 public:
  virtual ~Mutator() = default;
  Expr mutate_expr(const Expr& e);
  Stmt mutate_stmt(const Stmt& s);
  Region mutate_region(const Region& r);
  // Buffers are rebuilt when their shape changes; the mapping is kept so that every use of the
  // old buffer refers to the same new one.
  Buffer mutate_buffer(const Buffer& b);

 protected:
#define TS_X(K) virtual Expr mutate(const K##Node* op, const Expr& self);
  TS_EXPR_KINDS(TS_X)
#undef TS_X
#define TS_X(K) virtual Stmt mutate(const K##Node* op, const Stmt& self);
  TS_STMT_KINDS(TS_X)
#undef TS_X
  std::vector<Expr> mutate_exprs(const std::vector<Expr>& es, bool* changed);

 private:
  std::map<const BufferNode*, Buffer> buffer_map_;
};

// Applies `fn` to every expression node (pre-order) below `e`.
void for_each_expr(const Expr& e, const std::function<void(const Expr&)>& fn);
// True when `v` occurs in `e` / in `s`.
bool uses_var(const Expr& e, const VarNode* v);
bool uses_var(const Stmt& s, const VarNode* v);
// Replaces variables by expressions.
Expr substitute(const Expr& e, const std::map<const VarNode*, Expr>& map);
Stmt substitute(const Stmt& s, const std::map<const VarNode*, Expr>& map);

}  // namespace tilescale::ir
