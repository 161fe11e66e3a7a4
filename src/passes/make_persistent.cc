#include "passes/make_persistent.h"

#include "ir/visitor.h"
#include "ops/builtin.h"
#include "ops/kernel_annotations.h"
#include "passes/thread_ir.h"
#include "tilescale/errors.h"

namespace tilescale::passes {

using tilescale::detail::cat;

ir::PrimFunc make_persistent(const ir::PrimFunc& func) {
  struct Find : ir::Visitor {
    bool persistent = false, has_points = false;
    void visit(const ir::AnnotateNode* a) override { persistent |= ops::Persistent::decode(*a).has_value(); }
    void visit(const ir::ScopedNode* s) override {
      has_points |= s->key == "grid_points";
      Visitor::visit(s);
    }
  } find;
  find.visit_stmt(func->body);
  if (!find.persistent || find.has_points) return func;
  if (ops::uses_builtins(func->body))
    throw CompileError(cat("cannot make distributed kernel ", func->name, " persistent (T::persistent) for CUDA, because "
                           "its blocks signal and wait on their peers' blocks by block index, which a block walking "
                           "several grid points would deadlock; remove T::persistent"));
  struct Wrap : ir::Mutator {
    using Mutator::mutate;
    ir::Stmt mutate(const ir::KernelNode* k, const ir::Stmt&) override {
      return ir::make_kernel(k->grid, k->threads, k->block_vars, k->thread_var,
                             ir::make_scoped("grid_points", {}, ir::make_seq({k->body, block_barrier()})));
    }
  } wrap;
  return ir::make_prim_func(func->name, func->params, wrap.mutate_stmt(func->body));
}

}  // namespace tilescale::passes
