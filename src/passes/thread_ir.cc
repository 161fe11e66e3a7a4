#include "passes/thread_ir.h"

#include "passes/specialize_warps.h"
#include "tilescale/errors.h"

namespace tilescale::passes {

KernelMutator::KernelMutator(const ir::KernelNode& kernel) : kernel_(kernel), threads_(kernel.threads) {
  struct Layouts : ir::Visitor {
    decltype(fragments_)* out;
    void visit(const ir::AnnotateNode* a) override {
      if (auto r = FragmentLayoutRecord::decode(*a)) (*out)[a->buffer.get()] = {a->buffer, *r};
    }
  } layouts;
  layouts.out = &fragments_;
  layouts.visit_stmt(kernel.body);
}

const FragmentLayoutRecord& KernelMutator::layout_of(const ir::BufferNode& fragment) const {
  TS_ICHECK(fragments_.count(&fragment), "fragment ", fragment.name, " has no layout");
  return fragments_.at(&fragment).second;
}

const ir::Buffer& KernelMutator::buffer_of(const ir::BufferNode& fragment) const {
  TS_ICHECK(fragments_.count(&fragment), "fragment ", fragment.name, " has no layout");
  return fragments_.at(&fragment).first;
}

ir::Stmt KernelMutator::mutate(const ir::ScopedNode* op, const ir::Stmt& self) {
  const auto role = WarpRole::decode(*op);
  if (!role) return Mutator::mutate(op, self);
  const int outer = threads_;
  threads_ = static_cast<int>(role->threads);
  ir::Stmt out = Mutator::mutate(op, self);
  threads_ = outer;
  return out;
}

}  // namespace tilescale::passes
