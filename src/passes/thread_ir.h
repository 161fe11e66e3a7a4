// Builders for the thread-level IR that passes write (device calls, their operands, index
// arithmetic), so each expansion reads as the code it produces.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "ir/IR.h"
#include "ir/visitor.h"
#include "layout/layout.h"
#include "ops/device_builtins.h"
#include "passes/infer_fragment_layouts.h"

namespace tilescale::passes {

inline ir::Expr num(std::int64_t v) { return ir::make_int(v); }
inline ir::Expr op(ir::BinaryOp o, ir::Expr a, ir::Expr b) { return ir::make_binary(o, std::move(a), std::move(b)); }

// A device call statement (ops/device_builtins.h).
inline ir::Stmt call(const char* name, std::vector<ir::Expr> operands = {}, std::vector<ir::TemplateArg> targs = {}, ir::Attrs attrs = {}) {
  return ops::device_call(name, std::move(operands), std::move(targs), std::move(attrs));
}
using ops::block_barrier;
using ops::first_element;

// A rewrite of one kernel that knows, at each statement, how many threads run it (the kernel's, or
// its warp role's) and each fragment's layout (infer_fragment_layouts' records).
class KernelMutator : public ir::Mutator {
 public:
  explicit KernelMutator(const ir::KernelNode& kernel);
  using Mutator::mutate;

 protected:
  const ir::KernelNode& kernel() const { return kernel_; }
  int threads() const { return threads_; }
  const FragmentLayoutRecord& layout_of(const ir::BufferNode& fragment) const;
  const ir::Buffer& buffer_of(const ir::BufferNode& fragment) const;  // the Buffer that holds it
  ir::Stmt mutate(const ir::ScopedNode* op, const ir::Stmt& self) override;

 private:
  const ir::KernelNode& kernel_;
  int threads_;
  std::map<const ir::BufferNode*, std::pair<ir::Buffer, FragmentLayoutRecord>> fragments_;
};

// `func` with each kernel's body rewritten by a Rewrite(kernel, args...) (a KernelMutator).
template <class Rewrite, class... Args>
ir::PrimFunc rewrite_kernels(const ir::PrimFunc& func, const Args&... args) {
  struct Kernels : ir::Mutator {
    std::function<ir::Stmt(const ir::KernelNode&)> body;
    using Mutator::mutate;
    ir::Stmt mutate(const ir::KernelNode* k, const ir::Stmt& self) override {
      const ir::Stmt b = body(*k);
      return b == k->body ? self : ir::make_kernel(k->grid, k->threads, k->block_vars, k->thread_var, b);
    }
  } kernels;
  kernels.body = [&](const ir::KernelNode& k) { return Rewrite(k, args...).mutate_stmt(k.body); };
  const ir::Stmt body = kernels.mutate_stmt(func->body);
  return body == func->body ? func : ir::make_prim_func(func->name, func->params, body);
}

}  // namespace tilescale::passes
