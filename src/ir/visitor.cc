#include "ir/visitor.h"

namespace tilescale::ir {

void Visitor::visit_expr(const Expr& e) {
  if (!e) return;
  switch (e->kind) {
#define TS_X(K) \
  case ExprKind::K: return visit(static_cast<const K##Node*>(e.get()));
    TS_EXPR_KINDS(TS_X)
#undef TS_X
  }
}

void Visitor::visit_stmt(const Stmt& s) {
  if (!s) return;
  switch (s->kind) {
#define TS_X(K) \
  case StmtKind::K: return visit(static_cast<const K##Node*>(s.get()));
    TS_STMT_KINDS(TS_X)
#undef TS_X
  }
}

void Visitor::visit_region(const Region& r) {
  for (const auto& e : r.base) visit_expr(e);
  for (const auto& e : r.extent) visit_expr(e);
}

void Visitor::visit(const IntImmNode*) {}
void Visitor::visit(const FloatImmNode*) {}
void Visitor::visit(const VarNode*) {}
void Visitor::visit(const BinaryNode* op) { visit_expr(op->a), visit_expr(op->b); }
void Visitor::visit(const UnaryNode* op) { visit_expr(op->a); }
void Visitor::visit(const CastNode* op) { visit_expr(op->value); }
void Visitor::visit(const CallNode* op) { for (const auto& a : op->args) visit_expr(a); }
void Visitor::visit(const LoadNode* op) { for (const auto& i : op->indices) visit_expr(i); }
void Visitor::visit(const SelectNode* op) { visit_expr(op->cond), visit_expr(op->true_value), visit_expr(op->false_value); }
void Visitor::visit(const BuiltinNode* op) { for (const auto& a : op->args) visit_expr(a); }

void Visitor::visit(const SeqNode* op) { for (const auto& s : op->stmts) visit_stmt(s); }
void Visitor::visit(const ForNode* op) { visit_expr(op->min), visit_expr(op->extent), visit_stmt(op->body); }
void Visitor::visit(const IfNode* op) { visit_expr(op->cond), visit_stmt(op->then_case), visit_stmt(op->else_case); }
void Visitor::visit(const WhileNode* op) { visit_expr(op->cond), visit_stmt(op->body); }
void Visitor::visit(const BreakNode*) {}
void Visitor::visit(const StoreNode* op) {
  for (const auto& i : op->indices) visit_expr(i);
  visit_expr(op->value);
}
void Visitor::visit(const AllocNode*) {}
void Visitor::visit(const KernelNode* op) {
  for (const auto& g : op->grid) visit_expr(g);
  visit_stmt(op->body);
}
void Visitor::visit(const TileOpNode* op) {
  for (const auto& r : op->regions) visit_region(r);
  for (const auto& a : op->args) visit_expr(a);
}
void Visitor::visit(const AssertNode* op) { visit_expr(op->cond); }
void Visitor::visit(const PrintNode* op) { visit_expr(op->value); }
void Visitor::visit(const AnnotateNode*) {}
void Visitor::visit(const EvaluateNode* op) { visit_expr(op->value); }
void Visitor::visit(const ScopedNode* op) {
  for (const auto& a : op->args) visit_expr(a);
  visit_stmt(op->body);
}

// ---------------------------------------------------------------------------------------------

Expr Mutator::mutate_expr(const Expr& e) {
  if (!e) return e;
  switch (e->kind) {
#define TS_X(K) \
  case ExprKind::K: return mutate(static_cast<const K##Node*>(e.get()), e);
    TS_EXPR_KINDS(TS_X)
#undef TS_X
  }
  return e;
}

Stmt Mutator::mutate_stmt(const Stmt& s) {
  if (!s) return s;
  switch (s->kind) {
#define TS_X(K) \
  case StmtKind::K: return mutate(static_cast<const K##Node*>(s.get()), s);
    TS_STMT_KINDS(TS_X)
#undef TS_X
  }
  return s;
}

std::vector<Expr> Mutator::mutate_exprs(const std::vector<Expr>& es, bool* changed) {
  std::vector<Expr> out;
  out.reserve(es.size());
  for (const auto& e : es) {
    out.push_back(mutate_expr(e));
    if (out.back() != e) *changed = true;
  }
  return out;
}

Buffer Mutator::mutate_buffer(const Buffer& b) {
  if (!b) return b;
  if (auto it = buffer_map_.find(b.get()); it != buffer_map_.end()) return it->second;
  bool changed = false;
  auto shape = mutate_exprs(b->shape, &changed);
  Buffer out = changed ? make_buffer(b->name, std::move(shape), b->dtype, b->scope) : b;
  buffer_map_[b.get()] = out;
  return out;
}

Region Mutator::mutate_region(const Region& r) {
  bool changed = false;
  Region out{mutate_buffer(r.buffer), mutate_exprs(r.base, &changed), mutate_exprs(r.extent, &changed)};
  return out;
}

Expr Mutator::mutate(const IntImmNode*, const Expr& self) { return self; }
Expr Mutator::mutate(const FloatImmNode*, const Expr& self) { return self; }
Expr Mutator::mutate(const VarNode*, const Expr& self) { return self; }
Expr Mutator::mutate(const BinaryNode* op, const Expr& self) {
  Expr a = mutate_expr(op->a), b = mutate_expr(op->b);
  return a == op->a && b == op->b ? self : make_binary(op->op, a, b);
}
Expr Mutator::mutate(const UnaryNode* op, const Expr& self) {
  Expr a = mutate_expr(op->a);
  return a == op->a ? self : make_unary(op->op, a);
}
Expr Mutator::mutate(const CastNode* op, const Expr& self) {
  Expr v = mutate_expr(op->value);
  return v == op->value ? self : make_cast(op->dtype, v);
}
Expr Mutator::mutate(const CallNode* op, const Expr& self) {
  bool changed = false;
  auto args = mutate_exprs(op->args, &changed);
  return changed ? make_call(op->op, std::move(args)) : self;
}
Expr Mutator::mutate(const LoadNode* op, const Expr& self) {
  bool changed = false;
  auto idx = mutate_exprs(op->indices, &changed);
  Buffer b = mutate_buffer(op->buffer);
  return changed || b != op->buffer ? make_load(b, std::move(idx)) : self;
}
Expr Mutator::mutate(const SelectNode* op, const Expr& self) {
  Expr c = mutate_expr(op->cond), t = mutate_expr(op->true_value), f = mutate_expr(op->false_value);
  return c == op->cond && t == op->true_value && f == op->false_value ? self : make_select(c, t, f);
}
Expr Mutator::mutate(const BuiltinNode* op, const Expr& self) {
  bool changed = false;
  auto args = mutate_exprs(op->args, &changed);
  return changed ? make_builtin(op->dtype, op->op, std::move(args), op->attrs, op->targs) : self;
}

Stmt Mutator::mutate(const SeqNode* op, const Stmt& self) {
  std::vector<Stmt> out;
  bool changed = false;
  for (const auto& s : op->stmts) {
    Stmt m = mutate_stmt(s);
    changed |= m != s;
    if (m) out.push_back(std::move(m));
    else changed = true;  // a mutator may drop a statement by returning null
  }
  if (!changed) return self;
  return out.empty() ? nullptr : make_seq(std::move(out));
}
Stmt Mutator::mutate(const ForNode* op, const Stmt& self) {
  Expr mn = mutate_expr(op->min), ext = mutate_expr(op->extent);
  Stmt body = mutate_stmt(op->body);
  if (mn == op->min && ext == op->extent && body == op->body) return self;
  return make_for(op->var, mn, ext, op->for_kind, body ? body : make_seq({}), op->pipeline);
}
Stmt Mutator::mutate(const IfNode* op, const Stmt& self) {
  Expr c = mutate_expr(op->cond);
  Stmt t = mutate_stmt(op->then_case), e = mutate_stmt(op->else_case);
  if (c == op->cond && t == op->then_case && e == op->else_case) return self;
  return make_if(c, t ? t : make_seq({}), e);
}
Stmt Mutator::mutate(const WhileNode* op, const Stmt& self) {
  Expr c = mutate_expr(op->cond);
  Stmt b = mutate_stmt(op->body);
  return c == op->cond && b == op->body ? self : make_while(c, b ? b : make_seq({}));
}
Stmt Mutator::mutate(const BreakNode*, const Stmt& self) { return self; }
Stmt Mutator::mutate(const StoreNode* op, const Stmt& self) {
  bool changed = false;
  auto idx = mutate_exprs(op->indices, &changed);
  Expr v = mutate_expr(op->value);
  Buffer b = mutate_buffer(op->buffer);
  return !changed && v == op->value && b == op->buffer ? self : make_store(b, std::move(idx), v);
}
Stmt Mutator::mutate(const AllocNode* op, const Stmt& self) {
  Buffer b = mutate_buffer(op->buffer);
  return b == op->buffer ? self : make_alloc(b);
}
Stmt Mutator::mutate(const KernelNode* op, const Stmt& self) {
  bool changed = false;
  auto grid = mutate_exprs(op->grid, &changed);
  Stmt body = mutate_stmt(op->body);
  if (!changed && body == op->body) return self;
  return make_kernel(std::move(grid), op->threads, op->block_vars, op->thread_var, body ? body : make_seq({}));
}
Stmt Mutator::mutate(const TileOpNode* op, const Stmt& self) {
  bool changed = false;
  std::vector<Region> regions;
  for (const auto& r : op->regions) {
    regions.push_back(mutate_region(r));
    const Region& n = regions.back();
    for (size_t i = 0; i < r.base.size(); ++i) changed |= n.base[i] != r.base[i] || n.extent[i] != r.extent[i];
    changed |= n.buffer != r.buffer;
  }
  auto args = mutate_exprs(op->args, &changed);
  return changed ? make_tile_op(op->op, std::move(regions), std::move(args), op->attrs) : self;
}
Stmt Mutator::mutate(const AssertNode* op, const Stmt& self) {
  Expr c = mutate_expr(op->cond);
  return c == op->cond ? self : make_assert(c, op->message);
}
Stmt Mutator::mutate(const PrintNode* op, const Stmt& self) {
  Expr v = mutate_expr(op->value);
  Buffer b = mutate_buffer(op->buffer);
  return v == op->value && b == op->buffer ? self : make_print(op->message, v, b);
}
Stmt Mutator::mutate(const AnnotateNode* op, const Stmt& self) {
  Buffer b = mutate_buffer(op->buffer);
  return b == op->buffer ? self : make_annotate(op->key, b, op->layout, op->attrs);
}
Stmt Mutator::mutate(const EvaluateNode* op, const Stmt& self) {
  Expr v = mutate_expr(op->value);
  return v == op->value ? self : make_evaluate(v);
}
Stmt Mutator::mutate(const ScopedNode* op, const Stmt& self) {
  bool changed = false;
  std::vector<Expr> args;
  for (const auto& a : op->args) {
    args.push_back(mutate_expr(a));
    changed |= args.back() != a;
  }
  Stmt b = mutate_stmt(op->body);
  return b == op->body && !changed ? self : make_scoped(op->key, op->attrs, b ? b : make_seq({}), std::move(args));
}

// ---------------------------------------------------------------------------------------------

namespace {
struct ExprWalker : Visitor {
  const std::function<void(const Expr&)>& fn;
  explicit ExprWalker(const std::function<void(const Expr&)>& f) : fn(f) {}
  void walk(const Expr& e) {
    if (!e) return;
    fn(e);
    visit_expr(e);
  }
  // Re-enter through walk() so that fn sees every node.
  void visit(const BinaryNode* op) override { walk(op->a), walk(op->b); }
  void visit(const UnaryNode* op) override { walk(op->a); }
  void visit(const CastNode* op) override { walk(op->value); }
  void visit(const CallNode* op) override { for (const auto& a : op->args) walk(a); }
  void visit(const LoadNode* op) override { for (const auto& i : op->indices) walk(i); }
  void visit(const SelectNode* op) override { walk(op->cond), walk(op->true_value), walk(op->false_value); }
  void visit(const BuiltinNode* op) override { for (const auto& a : op->args) walk(a); }
};

struct VarFinder : Visitor {
  const VarNode* var;
  bool found = false;
  explicit VarFinder(const VarNode* v) : var(v) {}
  void visit(const VarNode* op) override { found |= op == var; }
};

struct Substituter : Mutator {
  const std::map<const VarNode*, Expr>& map;
  explicit Substituter(const std::map<const VarNode*, Expr>& m) : map(m) {}
  Expr mutate(const VarNode* op, const Expr& self) override {
    auto it = map.find(op);
    return it == map.end() ? self : it->second;
  }
  using Mutator::mutate;
};
}  // namespace

void for_each_expr(const Expr& e, const std::function<void(const Expr&)>& fn) { ExprWalker(fn).walk(e); }

bool uses_var(const Expr& e, const VarNode* v) {
  VarFinder f(v);
  f.visit_expr(e);
  return f.found;
}

bool uses_var(const Stmt& s, const VarNode* v) {
  VarFinder f(v);
  f.visit_stmt(s);
  return f.found;
}

Expr substitute(const Expr& e, const std::map<const VarNode*, Expr>& map) { return Substituter(map).mutate_expr(e); }
Stmt substitute(const Stmt& s, const std::map<const VarNode*, Expr>& map) { return Substituter(map).mutate_stmt(s); }

}  // namespace tilescale::ir
