#include "passes/plan_gemm_warps.h"

#include <cmath>
#include <cstdlib>
#include <limits>

#include "ir/printer.h"
#include "ir/visitor.h"

namespace tilescale::passes {

using tilescale::detail::cat;

namespace {

// Gemm policies, as lang::GemmWarpPolicy numbers them.
enum Policy { kSquare = 0, kFullRow = 1, kFullCol = 2 };

bool has_register_operand(const ir::Stmt& body) {
  struct Finder : ir::Visitor {
    bool found = false;
    void visit(const ir::TileOpNode* op) override {
      found |= op->op == "gemm" && op->regions[0].buffer->scope == ir::Scope::Fragment;
    }
  } f;
  f.visit_stmt(body);
  return f.found;
}

class Planner : public ir::Mutator {
 public:
  using Mutator::mutate;

  ir::Stmt mutate(const ir::KernelNode* op, const ir::Stmt& self) override {
    warps_ = op->threads / 32;
    force_full_row_ = has_register_operand(op->body);
    return Mutator::mutate(op, self);
  }

  ir::Stmt mutate(const ir::TileOpNode* op, const ir::Stmt& self) override {
    if (op->op != "gemm") return self;
    const ir::Region& C = op->regions[2];
    const auto M = ir::as_const_int(C.extent[C.rank() - 2]), N = ir::as_const_int(C.extent[C.rank() - 1]);
    if (!M || !N)
      throw CompileError(cat("cannot lower T::gemm into ", C.buffer->name, " for CUDA because its tile extent is not constant"));
    const int policy = force_full_row_ ? kFullRow : static_cast<int>(op->int_attr("policy"));
    auto [wm, wn] = choose(*M, *N, policy, C.buffer->name);
    ir::Attrs attrs = op->attrs;
    attrs["warps_m"] = std::int64_t(wm);
    attrs["warps_n"] = std::int64_t(wn);
    return ir::make_tile_op(op->op, op->regions, op->args, attrs);
  }

 private:
  int warps_ = 1;
  bool force_full_row_ = false;

  std::pair<int, int> choose(std::int64_t M, std::int64_t N, int policy, const std::string& c) const {
    std::pair<int, int> best{0, 0};
    double best_score = std::numeric_limits<double>::max();
    for (int wm = 1; wm <= warps_; ++wm) {
      if (warps_ % wm) continue;
      const int wn = warps_ / wm;
      if (policy == kFullRow && wn != 1) continue;
      if (policy == kFullCol && wm != 1) continue;
      if (M % (16 * wm) || N % (16 * wn)) continue;
      const double score = std::abs(std::log(double(M / wm) / double(N / wn)));
      if (score < best_score) best_score = score, best = {wm, wn};
    }
    if (best.first == 0)
      throw CompileError(cat("cannot split the gemm tile ", c, " (", M, " x ", N, ") over ", warps_, " warps",
                             policy == kFullRow ? " stacked along M" : policy == kFullCol ? " stacked along N" : "",
                             " because each warp needs a multiple of 16 rows and 16 columns; change the tile size, "
                             "the thread count or the policy"));
    return best;
  }
};

}  // namespace

ir::PrimFunc plan_gemm_warps(const ir::PrimFunc& func) {
  Planner p;
  ir::Stmt body = p.mutate_stmt(func->body);
  return body == func->body ? func : ir::make_prim_func(func->name, func->params, body);
}

}  // namespace tilescale::passes
