#include "passes/check_budgets.h"

#include "ir/printer.h"
#include "ir/visitor.h"

namespace tilescale::passes {

using tilescale::detail::cat;

std::int64_t shared_memory_limit(int sm) { return sm >= 90 ? 232448 : 166912; }

namespace {

struct Checker : ir::Visitor {
  const ir::PrimFuncNode& func;
  int sm;
  int threads = 1;
  Checker(const ir::PrimFuncNode& f, int s) : func(f), sm(s) {}

  void visit(const ir::KernelNode* op) override {
    threads = op->threads;
    Visitor::visit(op);
  }

  void visit(const ir::AllocNode* op) override {
    const ir::BufferNode& b = *op->buffer;
    std::int64_t numel = 1;
    for (const auto& d : b.shape) numel *= *ir::as_const_int(d);  // the verifier made them positive constants
    const std::string what = cat(ir::spelling(b.scope), " ", b.name, " ", shape_of(b), " ", name(b.dtype), " in ", func.name);
    if (b.scope == ir::Scope::Shared && numel * bytes(b.dtype) > shared_memory_limit(sm))
      throw CompileError(cat("cannot allocate ", what, " because it takes ", numel * bytes(b.dtype),
                             " bytes and a block has at most ", shared_memory_limit(sm), " bytes of shared memory on sm_",
                             sm, "; use smaller tiles"));
    if (b.scope == ir::Scope::Fragment) {
      const std::int64_t per_thread = (numel + threads - 1) / threads;
      const std::int64_t registers = (per_thread * bytes(b.dtype) + 3) / 4;
      if (registers > kFragmentRegisterBudget)
        throw CompileError(cat("cannot allocate ", what, " because it needs at least ", registers,
                               " registers in each of the block's ", threads, " threads, more than the ",
                               kFragmentRegisterBudget, " a fragment may take (a thread holds 255; the rest spills "
                               "to local memory); use smaller tiles or more threads"));
    }
  }

  static std::string shape_of(const ir::BufferNode& b) {
    std::string s = "[";
    for (int d = 0; d < b.rank(); ++d) s += cat(d ? ", " : "", ir::print(b.shape[d]));
    return s + "]";
  }
};

}  // namespace

ir::PrimFunc check_budgets(const ir::PrimFunc& func, int sm) {
  Checker c(*func, sm);
  c.visit_stmt(func->body);
  return func;
}

}  // namespace tilescale::passes
