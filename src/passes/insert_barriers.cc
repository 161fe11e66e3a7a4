#include "passes/insert_barriers.h"

#include <functional>

#include "ir/visitor.h"
#include "ops/device_builtins.h"
#include "ops/memory_access.h"
#include "ops/thread_level.h"
#include "passes/plan_shared_memory.h"
#include "passes/specialize_warps.h"
#include "passes/thread_ir.h"

namespace tilescale::passes {

namespace {

bool is_warp_role(const ir::Stmt& s) {
  const auto* scoped = ir::as<ir::ScopedNode>(s);
  return scoped && WarpRole::decode(*scoped);
}

// Whether `e` synchronizes every thread of the block (or of its warp role).
bool is_barrier(const ir::EvaluateNode& e) {
  const auto* call = ir::as<ir::BuiltinNode>(e.value);
  const ops::DeviceBuiltin* d = call ? ops::find_device_builtin(call->op) : nullptr;
  return d && d->sync == ops::Sync::Barrier && d->executor == ops::Executor::Block;
}

// Walks the kernel body in execution order (the order in which the generator prints it) with the
// accesses since the last barrier (`pending_`).
class Inserter {
 public:
  Inserter(const ir::KernelNode& kernel, ops::Aliases aliases) : thread_level_(kernel), aliases_(std::move(aliases)) {}

  ir::Stmt stmt(const ir::Stmt& s) {
    switch (s->kind) {
      case ir::StmtKind::Seq: return seq(s);
      case ir::StmtKind::For: {
        const auto* f = ir::as<ir::ForNode>(s);
        if (f->for_kind == ir::ForKind::Parallel) return s;
        ir::Stmt body;
        diverging(s, [&] { body = loop_body(f->body); });
        return body == f->body ? s : ir::make_for(f->var, f->min, f->extent, f->for_kind, body, f->pipeline);
      }
      case ir::StmtKind::While: {
        const auto* w = ir::as<ir::WhileNode>(s);
        ir::Stmt body;
        diverging(s, [&] { body = loop_body(w->body); });
        return body == w->body ? s : ir::make_while(w->cond, body);
      }
      case ir::StmtKind::If: {
        const auto* i = ir::as<ir::IfNode>(s);
        ir::Stmt then_case, else_case;
        diverging(s, [&] {
          then_case = branch(i->then_case);
          if (i->else_case) else_case = branch(i->else_case);
        });
        return then_case == i->then_case && else_case == i->else_case ? s : ir::make_if(i->cond, then_case, else_case);
      }
      case ir::StmtKind::Scoped: {
        // A warp role runs beside the others, after what came before the roles: like a branch.
        // grid_points runs its body again after itself: like a loop body. Other scopes only say
        // how their body is printed; an `async_copies` scope's copies are its pipeline's to order
        // (ops/memory_access.h).
        const auto* scoped = ir::as<ir::ScopedNode>(s);
        if (scoped->key == "async_copies") return s;
        const ir::Stmt body = WarpRole::decode(*scoped) ? branch(scoped->body) : scoped->key == "grid_points" ? loop_body(scoped->body) : stmt(scoped->body);
        return body == scoped->body ? s : ir::make_scoped(scoped->key, scoped->attrs, body, scoped->args);
      }
      case ir::StmtKind::Evaluate:
        // A barrier already in the program (one a pass placed) completes what came before it.
        if (is_barrier(*ir::as<ir::EvaluateNode>(s))) pending_ = {};
        return s;
      default: return s;
    }
  }

 private:
  ops::ThreadLevel thread_level_;
  ops::Aliases aliases_;
  ops::MemoryAccess pending_;
  int divergent_ = 0;

  bool hazard(const ops::MemoryAccess& before, const ops::MemoryAccess& after) const {
    return divergent_ == 0 && ops::hazard(before, after, aliases_);
  }

  ir::Stmt seq(const ir::Stmt& self) {
    const std::vector<ir::Stmt>& stmts = ir::as<ir::SeqNode>(self)->stmts;
    std::vector<ir::Stmt> out;
    bool changed = false;
    ops::MemoryAccess before_roles;  // warp roles run side by side: each starts from what came before them all
    for (size_t i = 0; i < stmts.size(); ++i) {
      const ops::MemoryAccess a = ops::access_of(stmts[i]);
      const bool role = is_warp_role(stmts[i]), next_role = role && i > 0 && is_warp_role(stmts[i - 1]);
      if (role && !next_role) before_roles = pending_;
      if (next_role) {
        const ops::MemoryAccess after_roles = pending_;
        pending_ = before_roles;
        out.push_back(stmt(stmts[i]));
        changed |= out.back() != stmts[i];
        pending_.merge(after_roles);
        continue;
      }
      if (i > 0 && hazard(pending_, a)) {
        out.push_back(block_barrier());
        pending_ = {};
        changed = true;
      }
      out.push_back(stmt(stmts[i]));
      changed |= out.back() != stmts[i];
      pending_.merge(a);
    }
    return changed ? ir::make_seq(std::move(out)) : self;
  }

  // Runs `body` for the statements under `s`, which get no barriers when `s` diverges.
  void diverging(const ir::Stmt& s, const std::function<void()>& body) {
    const bool d = thread_level_.diverges(*s);
    divergent_ += d;
    body();
    divergent_ -= d;
  }

  // A loop body runs again after itself: a barrier at its end when what it did since its last
  // barrier conflicts with what the next iteration does before its first one.
  ir::Stmt loop_body(const ir::Stmt& body) {
    const ops::MemoryAccess before = pending_;
    pending_ = {};
    ir::Stmt out = stmt(body);
    const ops::MemoryAccess a = ops::access_of(body);
    if (!ir::as<ir::SeqNode>(body)) pending_.merge(a);  // a Seq tracks what came since its last barrier itself
    if (hazard(pending_, before_first_barrier(body))) {
      out = ir::make_seq({out, block_barrier()});
      pending_ = {};
    }
    pending_.merge(before);
    pending_.merge(a);
    return out;
  }

  // The accesses of `body` up to its first barrier at its top level (all of them when it has none).
  static ops::MemoryAccess before_first_barrier(const ir::Stmt& body) {
    const auto* seq = ir::as<ir::SeqNode>(body);
    if (!seq) return ops::access_of(body);
    ops::MemoryAccess out;
    for (const auto& s : seq->stmts) {
      if (const auto* e = ir::as<ir::EvaluateNode>(s); e && is_barrier(*e)) break;
      out.merge(ops::access_of(s));
    }
    return out;
  }

  // A branch's barriers see only what came before the If; what follows sees both branches.
  ir::Stmt branch(const ir::Stmt& s) {
    const ops::MemoryAccess before = pending_;
    ir::Stmt out = stmt(s);
    pending_ = before;
    pending_.merge(ops::access_of(s));
    return out;
  }
};

const ir::KernelNode* find_kernel(const ir::Stmt& s) {
  struct Finder : ir::Visitor {
    const ir::KernelNode* kernel = nullptr;
    void visit(const ir::KernelNode* op) override { kernel = op; }
  } f;
  f.visit_stmt(s);
  return f.kernel;
}

}  // namespace

ir::PrimFunc insert_barriers(const ir::PrimFunc& func) {
  const ir::KernelNode* kernel = find_kernel(func->body);
  std::map<const ir::BufferNode*, SharedPlacement> placements;
  struct Placements : ir::Visitor {
    std::map<const ir::BufferNode*, SharedPlacement>& out;
    explicit Placements(std::map<const ir::BufferNode*, SharedPlacement>& o) : out(o) {}
    void visit(const ir::AnnotateNode* op) override {
      if (auto p = SharedPlacement::decode(*op)) out[op->buffer.get()] = *p;
    }
  } collect(placements);
  collect.visit_stmt(kernel->body);
  Inserter inserter(*kernel, shared_aliases(placements));
  const ir::Stmt body = inserter.stmt(kernel->body);
  if (body == kernel->body) return func;
  struct Replace : ir::Mutator {
    const ir::KernelNode* kernel;
    ir::Stmt body;
    ir::Stmt mutate(const ir::KernelNode* op, const ir::Stmt& self) override {
      return op == kernel ? ir::make_kernel(op->grid, op->threads, op->block_vars, op->thread_var, body) : self;
    }
    using Mutator::mutate;
  } replace;
  replace.kernel = kernel;
  replace.body = body;
  return ir::make_prim_func(func->name, func->params, replace.mutate_stmt(func->body));
}

}  // namespace tilescale::passes
