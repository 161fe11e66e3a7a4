#include "ops/thread_level.h"

#include <functional>
#include <map>
#include <memory>

#include "ir/printer.h"
#include "ir/visitor.h"
#include "ops/builtin.h"
#include "ops/device_builtins.h"
#include "ops/tile_op.h"

namespace tilescale::ops {

using tilescale::detail::cat;

namespace {

bool is_private(const ir::BufferNode& b) {
  return b.scope == ir::Scope::Local || b.scope == ir::Scope::Var || b.scope == ir::Scope::Fragment;
}

// Regions a tile op writes without reading them (the destination of a copy or fill): varying
// per-thread storage may be overwritten by the block, as every thread then holds the same tile.
bool only_written(const ir::TileOpNode& op, std::size_t region) {
  return writes_region(op, region) && (op.op == "copy" || op.op == "fill");
}

}  // namespace

// Why an expression varies, for messages: the first varying thing in it (empty when it does not).
// With `builtins` false, thread-level builtins do not count (inside T::Parallel loops they run once
// per element).
struct VaryingCause : ir::Visitor {
  const ThreadLevel& tl;
  bool builtins;
  std::string found;
  VaryingCause(const ThreadLevel& t, bool b) : tl(t), builtins(b) {}
  void visit(const ir::VarNode* op) override {
    if (!found.empty() || !tl.vars_.count(op)) return;
    found = op == tl.thread_var_ ? "the thread index" : cat("the variable ", op->name, " of a loop that diverges");
  }
  void visit(const ir::LoadNode* op) override {
    if (found.empty() && tl.buffers_.count(op->buffer.get()))
      found = cat(op->buffer->name, ", which holds a different value in each thread");
    Visitor::visit(op);
  }
  void visit(const ir::BuiltinNode* op) override {
    // A device call's value (elect_one) is its lane's own.
    const DeviceBuiltin* device = find_device_builtin(op->op);
    const bool per_thread = device ? device->returns_value : builtin(op->op).scope == BuiltinScope::Thread ||
                                                                 builtin(op->op).scope == BuiltinScope::Warp;
    if (found.empty() && builtins && per_thread)
      found = cat(device ? op->op : user_name(*op), ", whose value differs between threads");
    Visitor::visit(op);
  }
  static std::string of(const ThreadLevel& tl, const ir::Expr& e, bool builtins) {
    VaryingCause c(tl, builtins);
    c.visit_expr(e);
    return c.found;
  }
};

// One walk over the kernel body: with `grow`, adds to its varying variables and buffers (repeated
// until nothing changes); without, checks the rules of the header.
struct ThreadLevelWalk {
  const ThreadLevel& tl;
  const std::string& func;
  ThreadLevel* grow = nullptr;
  bool changed = false;
  int diverging = 0;
  const ir::ForNode* parallel = nullptr;  // the outermost T::Parallel loop around, if any

  void walk(const ir::Stmt& s) {
    switch (s->kind) {
      case ir::StmtKind::Seq:
        for (const auto& c : ir::as<ir::SeqNode>(s)->stmts) walk(c);
        return;
      case ir::StmtKind::For: {
        const auto* f = ir::as<ir::ForNode>(s);
        if (f->for_kind == ir::ForKind::Parallel && !parallel) return parallel_loop(*f);
        in_parallel(f->min), in_parallel(f->extent);
        return enter(s, f->var.get(), [&] { walk(f->body); });
      }
      case ir::StmtKind::If: {
        const auto* i = ir::as<ir::IfNode>(s);
        in_parallel(i->cond);
        return enter(s, nullptr, [&] {
          walk(i->then_case);
          if (i->else_case) walk(i->else_case);
        });
      }
      case ir::StmtKind::While: {
        const auto* w = ir::as<ir::WhileNode>(s);
        in_parallel(w->cond);
        return enter(s, nullptr, [&] { walk(w->body); });
      }
      case ir::StmtKind::Store: {
        const auto* st = ir::as<ir::StoreNode>(s);
        if (grow && !parallel && is_private(*st->buffer) && (diverging > 0 || tl.is_thread_level(*s)))
          changed |= grow->buffers_.insert(st->buffer.get()).second;
        for (const auto& i : st->indices) in_parallel(i);
        return in_parallel(st->value);
      }
      case ir::StmtKind::Evaluate: return in_parallel(ir::as<ir::EvaluateNode>(s)->value);
      case ir::StmtKind::TileOp: return tile_op(*ir::as<ir::TileOpNode>(s));
      case ir::StmtKind::Scoped: {
        // A tile op's or a T::Parallel nest's thread-level form (passes/lower_to_threads.h) is the
        // collective statement it came from, checked before it was lowered.
        const auto* scope = ir::as<ir::ScopedNode>(s);
        return scope->key == "expansion" ? void() : walk(scope->body);
      }
      default: return;
    }
  }

  void enter(const ir::Stmt& self, const ir::VarNode* var, const std::function<void()>& body) {
    const bool d = !parallel && tl.diverges(*self);
    if (d && var && grow) changed |= grow->vars_.insert(var).second;
    diverging += d;
    body();
    diverging -= d;
  }

  void parallel_loop(const ir::ForNode& f) {
    if (!grow && diverging > 0)
      throw CompileError(cat("cannot run a T::Parallel loop over ", f.var->name, " in ", func,
                             " under control flow that depends on the thread index because tile ops and "
                             "T::Parallel loops are executed by the whole block; move it out of the "
                             "thread-dependent branch or loop"));
    parallel = &f;
    walk(f.body);
    parallel = nullptr;
  }

  // Inside a T::Parallel loop every element is computed once, by whichever thread the compiler
  // gives it: a value that differs between threads has no meaning there (thread-scope builtins run
  // once per element, so they may appear).
  void in_parallel(const ir::Expr& e) {
    if (grow || !parallel) return;
    const std::string why = VaryingCause::of(tl, e, false);
    if (!why.empty())
      throw CompileError(cat("cannot run the T::Parallel loop over ", parallel->var->name, " in ", func, " because ",
                             ir::print(e), " uses ", why,
                             ", and the loop's elements are spread over the block's threads by the compiler; "
                             "compute per-thread values outside T::Parallel loops, or keep them in shared memory"));
  }

  void tile_op(const ir::TileOpNode& op) {
    if (grow || parallel || is_element_atomic_add(op)) return;  // the verifier refuses tile ops in T::Parallel loops
    const std::string what = describe(op);
    if (diverging > 0)
      throw CompileError(cat("cannot run ", what, " in ", func,
                             " under control flow that depends on the thread index because tile ops and T::Parallel "
                             "loops are executed by the whole block; move it out of the thread-dependent branch or loop"));
    auto check = [&](const ir::Expr& e) {
      if (const std::string why = VaryingCause::of(tl, e, true); !why.empty()) refuse(what, why);
    };
    for (std::size_t r = 0; r < op.regions.size(); ++r) {
      for (const auto& e : op.regions[r].base) check(e);
      for (const auto& e : op.regions[r].extent) check(e);
      const ir::BufferNode* b = op.regions[r].buffer.get();
      if (tl.buffers_.count(b) && !only_written(op, r)) refuse(what, cat(b->name, ", which holds a different value in each thread"));
    }
    for (const auto& a : op.args) check(a);
  }

  [[noreturn]] void refuse(const std::string& what, const std::string& why) const {
    throw CompileError(cat("cannot run ", what, " in ", func, " in a statement that uses ", why,
                           " because tile ops are executed by the whole block; give its operands block-uniform "
                           "indices, or use element accesses"));
  }
};

ThreadLevel::ThreadLevel(const ir::KernelNode& kernel) : kernel_(kernel), thread_var_(kernel.thread_var.get()) {
  vars_.insert(thread_var_);
  const std::string unused;
  for (bool changed = true; changed;) {
    ThreadLevelWalk walk{*this, unused, this};
    walk.walk(kernel.body);
    changed = walk.changed;
  }
}

void ThreadLevel::check(const std::string& func) const {
  ThreadLevelWalk walk{*this, func};
  walk.walk(kernel_.body);
}

bool ThreadLevel::varies(const ir::Expr& e) const { return !VaryingCause::of(*this, e, true).empty(); }

bool ThreadLevel::varies(const ir::BufferNode* b) const { return buffers_.count(b) > 0; }

bool ThreadLevel::diverges(const ir::StmtNode& s) const {
  switch (s.kind) {
    case ir::StmtKind::For: {
      const auto* f = static_cast<const ir::ForNode*>(&s);
      return f->for_kind != ir::ForKind::Parallel && (varies(f->min) || varies(f->extent) || has_varying_break(f->body));
    }
    case ir::StmtKind::If: return varies(static_cast<const ir::IfNode*>(&s)->cond);
    case ir::StmtKind::While: {
      const auto* w = static_cast<const ir::WhileNode*>(&s);
      return varies(w->cond) || has_varying_break(w->body);
    }
    default: return false;
  }
}

bool ThreadLevel::is_thread_level(const ir::StmtNode& s) const {
  switch (s.kind) {
    case ir::StmtKind::For:
    case ir::StmtKind::If:
    case ir::StmtKind::While: return diverges(s);
    case ir::StmtKind::Store: {
      const auto* st = static_cast<const ir::StoreNode*>(&s);
      if (varies(st->buffer.get()) || varies(st->value)) return true;
      for (const auto& i : st->indices)
        if (varies(i)) return true;
      return false;
    }
    case ir::StmtKind::Evaluate: return varies(static_cast<const ir::EvaluateNode*>(&s)->value);
    case ir::StmtKind::Assert: return varies(static_cast<const ir::AssertNode*>(&s)->cond);
    case ir::StmtKind::Print: {
      const auto* p = static_cast<const ir::PrintNode*>(&s);
      return p->value ? varies(p->value) : varies(p->buffer.get());
    }
    case ir::StmtKind::TileOp: {
      // Only the element-wise atomic_add gets here with varying operands (the rules refuse others).
      const auto* op = static_cast<const ir::TileOpNode*>(&s);
      if (!is_element_atomic_add(*op)) return false;
      for (const auto& e : op->regions[0].base)
        if (varies(e)) return true;
      for (const auto& a : op->args)
        if (varies(a)) return true;
      return false;
    }
    default: return false;
  }
}

// A T::Break of this loop (not of a loop nested in it) under a varying condition.
bool ThreadLevel::has_varying_break(const ir::Stmt& body) const {
  struct Finder : ir::Visitor {
    const ThreadLevel& tl;
    int divergent = 0, nested = 0;
    bool found = false;
    explicit Finder(const ThreadLevel& t) : tl(t) {}
    void visit(const ir::IfNode* op) override {
      const bool d = tl.varies(op->cond);
      divergent += d;
      Visitor::visit(op);
      divergent -= d;
    }
    void visit(const ir::ForNode* op) override { ++nested, Visitor::visit(op), --nested; }
    void visit(const ir::WhileNode* op) override { ++nested, Visitor::visit(op), --nested; }
    void visit(const ir::BreakNode*) override { found |= divergent > 0 && nested == 0; }
  } f(*this);
  f.visit_stmt(body);
  return f.found;
}

std::string print_thread_level(const ir::PrimFunc& func) {
  // Statements inside T::Parallel loops, and the kernels' analyses.
  struct Context : ir::Visitor {
    std::set<const ir::StmtNode*> in_parallel;
    std::vector<std::unique_ptr<ThreadLevel>> kernels;
    int parallel = 0;
    void visit(const ir::KernelNode* op) override {
      kernels.push_back(std::make_unique<ThreadLevel>(*op));
      Visitor::visit(op);
    }
    void visit(const ir::ForNode* op) override {
      note(op);
      const bool p = op->for_kind == ir::ForKind::Parallel;
      parallel += p;
      Visitor::visit(op);
      parallel -= p;
    }
    void visit(const ir::StoreNode* op) override { note(op); }
    void visit(const ir::EvaluateNode* op) override { note(op); }
    void visit(const ir::IfNode* op) override { note(op), Visitor::visit(op); }
    void visit(const ir::WhileNode* op) override { note(op), Visitor::visit(op); }
    void note(const ir::StmtNode* s) {
      if (parallel) in_parallel.insert(s);
    }
  } c;
  c.visit_stmt(func->body);
  return ir::print(func, [&](const ir::StmtNode& s) -> std::string {
    if (c.kernels.empty() || c.in_parallel.count(&s)) return "";
    const ThreadLevel& tl = *c.kernels.back();  // a prim_func holds one kernel
    if (tl.diverges(s)) return "diverges";
    return tl.is_thread_level(s) ? "per thread" : "";
  });
}

ThreadLevelDecision decision(const ir::StmtNode& s, bool diverges) {
  switch (s.kind) {
    case ir::StmtKind::For: {
      const auto* f = static_cast<const ir::ForNode*>(&s);
      return {cat("for ", f->var->name, " in [", ir::print(f->min), ", +", ir::print(f->extent), ")"), diverges};
    }
    case ir::StmtKind::If: return {cat("if (", ir::print(static_cast<const ir::IfNode*>(&s)->cond), ")"), diverges};
    case ir::StmtKind::While: return {cat("while (", ir::print(static_cast<const ir::WhileNode*>(&s)->cond), ")"), diverges};
    default: throw InternalError("a thread-level decision recorded for a statement that is not a For, If or While");
  }
}

std::string disagreement(const ThreadLevelLog& cpu, const ThreadLevelLog& cuda) {
  std::map<std::string, std::set<bool>> on_cpu, on_cuda;
  for (const auto& d : cpu) on_cpu[d.statement].insert(d.diverges);
  for (const auto& d : cuda) on_cuda[d.statement].insert(d.diverges);
  auto said = [](const std::set<bool>& s) {
    return s.size() == 2 ? "both diverging and uniform" : *s.begin() ? "diverging" : "uniform";
  };
  for (const auto& [statement, c] : on_cpu) {
    auto it = on_cuda.find(statement);
    if (it != on_cuda.end() && (c != it->second || c.size() > 1))
      return cat("the CPU backend compiled `", statement, "` as ", said(c), " but the CUDA generator as ", said(it->second));
  }
  return "";
}

}  // namespace tilescale::ops
