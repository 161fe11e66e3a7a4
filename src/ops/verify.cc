#include "ops/verify.h"

#include <optional>
#include <vector>

#include "ir/printer.h"
#include "ir/verifier.h"
#include "ops/builtin.h"
#include "ops/device_builtins.h"
#include "ops/thread_level.h"
#include "ops/tile_op.h"

namespace tilescale::ops {

using tilescale::detail::cat;

namespace {

// The ops' side of the verifier's walk: where a tile op or builtin call stands (inside T::Parallel
// loops, under diverging control flow) and what the registries say of it.
class Checks : public ir::OpChecks {
 public:
  std::string name(const ir::TileOpNode& op) const override { return user_op_name(op); }
  std::string describe(const ir::TileOpNode& op) const override { return ops::describe(op); }
  std::string name(const ir::BuiltinNode& call) const override { return user_name(call); }

  void enter_kernel(const ir::KernelNode& kernel) override {
    thread_level_.emplace(kernel);
    threads_ = kernel.threads;
  }
  void leave_kernel(const ir::PrimFuncNode& func) override {
    thread_level_->check(func.name);
    thread_level_.reset();
  }

  void enter(const ir::StmtNode& s) override {
    const bool parallel = s.kind == ir::StmtKind::For && static_cast<const ir::ForNode&>(s).for_kind == ir::ForKind::Parallel;
    const bool divergent = thread_level_ && thread_level_->diverges(s);
    parallel_depth_ += parallel;
    thread_dependent_depth_ += divergent;
    entered_.push_back({parallel, divergent});
  }
  void leave(const ir::StmtNode&) override {
    parallel_depth_ -= entered_.back().parallel;
    thread_dependent_depth_ -= entered_.back().divergent;
    entered_.pop_back();
  }

  void check_place(const ir::TileOpNode& op) override {
    if (parallel_depth_ > 0 && !is_element_atomic_add(op))
      throw CompileError(cat("cannot run ", ops::describe(op), " inside a T::Parallel loop because tile ops are "
                             "executed by the whole block; move it out of the loop"));
  }
  void check(const ir::TileOpNode& op) override { tile_op(op.op).verify(op); }

  void check(const ir::BuiltinNode& call, bool evaluated) override {
    verify_builtin(call, BuiltinPlace{parallel_depth_ > 0, thread_dependent_depth_ > 0, evaluated});
    // What a warp (or warpgroup) executes with all its lanes together needs a block of whole warps.
    const DeviceBuiltin* device = find_device_builtin(call.op);
    const bool warp_collective = device ? device->executor == Executor::Warp || device->executor == Executor::Warpgroup
                                        : builtin(call.op).scope == BuiltinScope::Warp;
    if (warp_collective && threads_ % 32 != 0)
      throw CompileError(cat("cannot call ", user_name(call), " in a block of ", threads_, " threads because a warp executes it "
                             "with all 32 lanes together and the block is not whole warps; use a multiple of 32 threads"));
    if (!find_device_builtin(call.op) && builtin(call.op).scope == BuiltinScope::Block)
      for (const auto& a : call.args)
        if (thread_level_ && thread_level_->varies(a))
          throw CompileError(cat("cannot call ", user_name(call), " with the argument ", ir::print(a),
                                 " because it differs between threads and the whole block executes the call together; ",
                                 "give it block-uniform arguments"));
  }

 private:
  struct Entered {
    bool parallel, divergent;
  };
  std::optional<ThreadLevel> thread_level_;  // of the kernel being walked
  std::vector<Entered> entered_;             // the For, While and If statements around the walk
  int parallel_depth_ = 0;
  int thread_dependent_depth_ = 0;  // control flow that diverges between the block's threads
  std::int64_t threads_ = 32;       // of the kernel being walked
};

}  // namespace

void verify_program(const ir::PrimFunc& func) {
  Checks checks;
  ir::verify(func, checks);
}

}  // namespace tilescale::ops
