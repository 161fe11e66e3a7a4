#include "ir/equality.h"

#include <bit>
#include <cmath>
#include <unordered_map>

#include "layout/layout.h"

namespace tilescale::ir {
namespace {

// Walks two trees in lockstep. Binding sites (For, Kernel, Alloc, parameters) pair a variable or
// buffer of the left tree with one of the right tree; uses must then agree with that pairing.
class Equal {
 public:
  bool expr(const Expr& a, const Expr& b) {
    if (!a || !b) return a == b;
    if (a->kind != b->kind || a->dtype != b->dtype) return false;
    switch (a->kind) {
#define TS_X(K) \
  case ExprKind::K: return equal(static_cast<const K##Node*>(a.get()), static_cast<const K##Node*>(b.get()));
      TS_EXPR_KINDS(TS_X)
#undef TS_X
    }
    return false;
  }

  bool stmt(const Stmt& a, const Stmt& b) {
    if (!a || !b) return a == b;
    if (a->kind != b->kind) return false;
    switch (a->kind) {
#define TS_X(K) \
  case StmtKind::K: return equal(static_cast<const K##Node*>(a.get()), static_cast<const K##Node*>(b.get()));
      TS_STMT_KINDS(TS_X)
#undef TS_X
    }
    return false;
  }

  bool func(const PrimFunc& a, const PrimFunc& b) {
    if (a->name != b->name || a->params.size() != b->params.size()) return false;
    auto da = a->symbolic_dims(), db = b->symbolic_dims();
    if (da.size() != db.size()) return false;
    for (size_t i = 0; i < da.size(); ++i)
      if (!bind_var(da[i], db[i])) return false;
    for (size_t i = 0; i < a->params.size(); ++i) {
      const Param &x = a->params[i], &y = b->params[i];
      if (!x.scalar != !y.scalar) return false;
      if (x.scalar ? !bind_var(x.scalar, y.scalar) : !bind_buffer(x.tensor, y.tensor)) return false;
    }
    return stmt(a->body, b->body);
  }

 private:
  // Pairs a with b, replacing earlier pairings of either (a loop variable reused by a later loop).
  // Both directions are kept so that a name shadowed on one side only is caught.
  void bind(const void* a, const void* b) {
    if (auto it = fwd_.find(a); it != fwd_.end()) rev_.erase(it->second);
    if (auto it = rev_.find(b); it != rev_.end()) fwd_.erase(it->second);
    fwd_[a] = b;
    rev_[b] = a;
  }
  bool same(const void* a, const void* b) const {
    auto f = fwd_.find(a);
    if (f == fwd_.end()) return a == b && !rev_.count(b);
    return f->second == b;
  }

  bool bind_var(const Var& a, const Var& b) {
    if (a->dtype != b->dtype) return false;
    bind(a.get(), b.get());
    return true;
  }
  bool bind_buffer(const Buffer& a, const Buffer& b) {
    if (a->dtype != b->dtype || a->scope != b->scope || !exprs(a->shape, b->shape)) return false;
    bind(a.get(), b.get());
    return true;
  }
  bool buffer(const Buffer& a, const Buffer& b) const {
    if (!a || !b) return a == b;
    return same(a.get(), b.get());
  }

  bool exprs(const std::vector<Expr>& a, const std::vector<Expr>& b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
      if (!expr(a[i], b[i])) return false;
    return true;
  }
  bool region(const Region& a, const Region& b) {
    return buffer(a.buffer, b.buffer) && exprs(a.base, b.base) && exprs(a.extent, b.extent);
  }

  bool equal(const IntImmNode* a, const IntImmNode* b) { return a->value == b->value; }
  bool equal(const FloatImmNode* a, const FloatImmNode* b) {
    // Bitwise, so that 0.0 and -0.0 differ; any NaN equals any NaN.
    return std::bit_cast<std::uint64_t>(a->value) == std::bit_cast<std::uint64_t>(b->value) ||
           (std::isnan(a->value) && std::isnan(b->value));
  }
  bool equal(const VarNode* a, const VarNode* b) { return same(a, b); }
  bool equal(const BinaryNode* a, const BinaryNode* b) { return a->op == b->op && expr(a->a, b->a) && expr(a->b, b->b); }
  bool equal(const UnaryNode* a, const UnaryNode* b) { return a->op == b->op && expr(a->a, b->a); }
  bool equal(const CastNode* a, const CastNode* b) { return expr(a->value, b->value); }
  bool equal(const CallNode* a, const CallNode* b) { return a->op == b->op && exprs(a->args, b->args); }
  bool equal(const LoadNode* a, const LoadNode* b) { return buffer(a->buffer, b->buffer) && exprs(a->indices, b->indices); }
  bool equal(const SelectNode* a, const SelectNode* b) {
    return expr(a->cond, b->cond) && expr(a->true_value, b->true_value) && expr(a->false_value, b->false_value);
  }
  bool equal(const BuiltinNode* a, const BuiltinNode* b) {
    return a->op == b->op && a->targs == b->targs && a->attrs == b->attrs && exprs(a->args, b->args);
  }

  bool equal(const SeqNode* a, const SeqNode* b) {
    if (a->stmts.size() != b->stmts.size()) return false;
    for (size_t i = 0; i < a->stmts.size(); ++i)
      if (!stmt(a->stmts[i], b->stmts[i])) return false;
    return true;
  }
  bool equal(const ForNode* a, const ForNode* b) {
    const PipelineInfo &pa = a->pipeline, &pb = b->pipeline;
    return a->for_kind == b->for_kind && pa.num_stages == pb.num_stages && pa.order == pb.order && pa.stage == pb.stage &&
           expr(a->min, b->min) && expr(a->extent, b->extent) && bind_var(a->var, b->var) && stmt(a->body, b->body);
  }
  bool equal(const IfNode* a, const IfNode* b) {
    return expr(a->cond, b->cond) && stmt(a->then_case, b->then_case) && stmt(a->else_case, b->else_case);
  }
  bool equal(const WhileNode* a, const WhileNode* b) { return expr(a->cond, b->cond) && stmt(a->body, b->body); }
  bool equal(const BreakNode*, const BreakNode*) { return true; }
  bool equal(const StoreNode* a, const StoreNode* b) {
    return buffer(a->buffer, b->buffer) && exprs(a->indices, b->indices) && expr(a->value, b->value);
  }
  bool equal(const AllocNode* a, const AllocNode* b) { return bind_buffer(a->buffer, b->buffer); }
  bool equal(const KernelNode* a, const KernelNode* b) {
    if (a->threads != b->threads || !exprs(a->grid, b->grid) || a->block_vars.size() != b->block_vars.size()) return false;
    for (size_t i = 0; i < a->block_vars.size(); ++i)
      if (!bind_var(a->block_vars[i], b->block_vars[i])) return false;
    return bind_var(a->thread_var, b->thread_var) && stmt(a->body, b->body);
  }
  bool equal(const TileOpNode* a, const TileOpNode* b) {
    if (a->op != b->op || a->attrs != b->attrs || a->regions.size() != b->regions.size()) return false;
    for (size_t i = 0; i < a->regions.size(); ++i)
      if (!region(a->regions[i], b->regions[i])) return false;
    return exprs(a->args, b->args);
  }
  bool equal(const AssertNode* a, const AssertNode* b) { return a->message == b->message && expr(a->cond, b->cond); }
  bool equal(const PrintNode* a, const PrintNode* b) {
    return a->message == b->message && expr(a->value, b->value) && buffer(a->buffer, b->buffer);
  }
  bool equal(const AnnotateNode* a, const AnnotateNode* b) {
    const bool same_layout = a->layout == b->layout || (a->layout && b->layout && a->layout->to_string() == b->layout->to_string());
    return a->key == b->key && a->attrs == b->attrs && same_layout && buffer(a->buffer, b->buffer);
  }
  bool equal(const EvaluateNode* a, const EvaluateNode* b) { return expr(a->value, b->value); }
  bool equal(const ScopedNode* a, const ScopedNode* b) {
    if (a->key != b->key || a->attrs != b->attrs || a->args.size() != b->args.size()) return false;
    for (size_t i = 0; i < a->args.size(); ++i)
      if (!expr(a->args[i], b->args[i])) return false;
    return stmt(a->body, b->body);
  }

  std::unordered_map<const void*, const void*> fwd_, rev_;
};

}  // namespace

bool structural_equal(const Expr& a, const Expr& b) { return Equal().expr(a, b); }
bool structural_equal(const Stmt& a, const Stmt& b) { return Equal().stmt(a, b); }
bool structural_equal(const PrimFunc& a, const PrimFunc& b) { return Equal().func(a, b); }

}  // namespace tilescale::ir
