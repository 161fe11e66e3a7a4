#include "passes/lower_tile_ops.h"

#include <set>

#include "ops/tile_op.h"
#include "passes/thread_ir.h"

namespace tilescale::passes {

namespace {

class Lower : public KernelMutator {
 public:
  Lower(const ir::KernelNode& kernel, int sm) : KernelMutator(kernel) {
    ctx_.sm = sm;
    ctx_.async_proxy_ready = [this](const ir::BufferNode& b) { return ready_.count(&b) > 0; };
  }
  using KernelMutator::mutate;

  ir::Stmt mutate(const ir::ScopedNode* op, const ir::Stmt& self) override {
    if (op->key != "async_proxy_ready") return KernelMutator::mutate(op, self);
    const std::set<const ir::BufferNode*> outer = ready_;
    for (const auto& a : op->args) ready_.insert(ir::as<ir::LoadNode>(a)->buffer.get());
    ir::Stmt out = KernelMutator::mutate(op, self);
    ready_ = outer;
    return out;
  }

  ir::Stmt mutate(const ir::TileOpNode* op, const ir::Stmt& self) override {
    const ops::TileOpDef& def = ops::tile_op(op->op);
    if (!def.thread_level) return self;
    return def.thread_level(*op, ctx_).value_or(self);
  }

 private:
  ops::ThreadLevelContext ctx_;
  std::set<const ir::BufferNode*> ready_;
};

}  // namespace

ir::PrimFunc lower_tile_ops(const ir::PrimFunc& func, int sm) { return rewrite_kernels<Lower>(func, sm); }

}  // namespace tilescale::passes
