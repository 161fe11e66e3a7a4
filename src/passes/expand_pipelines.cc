#include "passes/expand_pipelines.h"

#include <map>

#include "ir/visitor.h"
#include "ops/gemm.h"
#include "passes/plan_pipelines.h"
#include "passes/records.h"
#include "passes/simplify.h"
#include "passes/thread_ir.h"
#include "tilescale/errors.h"

namespace tilescale::passes {

namespace {

using ir::BinaryOp;
using ir::Expr;
using ir::Stmt;

class Expansion {
 public:
  Expansion(const ir::ForNode& loop, const PipelineSchedule& schedule)
      : loop_(loop), schedule_(schedule), body_(loop_statements(loop)), S_(loop.pipeline.num_stages) {
    for (const std::int64_t i : schedule.producers) staged_.push_back(ir::as<ir::TileOpNode>(body_.at(i))->regions[1].buffer);
  }

  Stmt expand() const {
    const std::int64_t A = schedule_.ahead;
    const Expr end = simplify(op(BinaryOp::Add, loop_.min, loop_.extent));
    const Expr k = loop_.var;
    // Iteration k's stage has landed once at most A - 1 newer groups are pending.
    const Stmt wait = call("tl.cp_async_wait", {}, {A - 1});
    std::vector<Stmt> out;
    const ir::Var s = ir::make_var("s");
    out.push_back(ir::make_for(s, num(0), num(A), ir::ForKind::Serial,
                               ir::make_seq({ir::make_if(op(BinaryOp::LT, s, loop_.extent), producers(simplify(op(BinaryOp::Add, loop_.min, s)))),
                                             call("tl.cp_async_commit")})));
    std::vector<Stmt> iteration;
    const StageOverlapKind overlap = schedule_.overlap;
    if (overlap != StageOverlapKind::MmaFragments) {
      iteration.push_back(wait);
      // wgmma reads the stage through the async proxy: each thread fences its own cp.async writes.
      if (overlap == StageOverlapKind::WgmmaAsync) iteration.push_back(call("tl.fence_proxy_async"));
      iteration.push_back(block_barrier());
    }
    const Expr next = simplify(op(BinaryOp::Add, k, num(A)));
    iteration.push_back(ir::make_if(simplify(op(BinaryOp::LT, next, end)), producers(next)));
    iteration.push_back(call("tl.cp_async_commit"));
    const Expr current = stage_of(k, 0);
    std::vector<Stmt> after;
    switch (overlap) {
      case StageOverlapKind::None: {
        std::vector<Stmt> consumers;
        for (const std::int64_t i : schedule_.consumers) consumers.push_back(body_.at(i));
        iteration.push_back(stage_scope(current, ir::make_seq(std::move(consumers))));
        break;
      }
      case StageOverlapKind::WgmmaAsync: {
        const auto calls = ops::wgmma_async_calls(gemm());
        iteration.push_back(stage_scope(current, calls.issue));
        after.push_back(calls.drain);
        break;
      }
      case StageOverlapKind::MmaFragments: {
        // Stage 0 has landed: the gemm loads its first fragments before the loop. In the loop, the
        // barrier comes after the last read of the stage, before the next stage's first loads.
        const auto calls = ops::prefetched_calls(gemm());
        out.push_back(wait);
        out.push_back(block_barrier());
        out.push_back(ir::make_alloc(calls.fragments));
        out.push_back(stage_scope(num(0), calls.first));
        iteration.push_back(stage_scope(current, calls.head));
        iteration.push_back(wait);
        iteration.push_back(block_barrier());
        iteration.push_back(stage_scope(stage_of(k, 1), calls.tail));
        break;
      }
    }
    out.push_back(ir::make_for(loop_.var, loop_.min, loop_.extent, ir::ForKind::Serial, ir::make_seq(std::move(iteration))));
    for (auto& a : after) out.push_back(a);
    out.push_back(call("tl.cp_async_wait", {}, {std::int64_t{0}}));
    return ir::make_scoped("pipeline", {}, ir::make_seq(std::move(out)));
  }

 private:
  const ir::ForNode& loop_;
  const PipelineSchedule& schedule_;
  const std::vector<Stmt> body_;
  const int S_;
  std::vector<ir::Buffer> staged_;

  // The stage of the iteration `offset` after the one where the loop variable is `k`.
  Expr stage_of(const Expr& k, std::int64_t offset) const {
    return simplify(op(BinaryOp::Mod, op(BinaryOp::Add, op(BinaryOp::Sub, k, loop_.min), num(offset)), num(S_)));
  }

  Stmt stage_scope(const Expr& stage, Stmt body) const {
    std::vector<Expr> args{stage};
    for (const auto& b : staged_) args.push_back(first_element(b));
    return ir::make_scoped("stage", {}, std::move(body), std::move(args));
  }

  // The producers of the iteration whose loop variable is `value`.
  Stmt producers(const Expr& value) const {
    const ir::Var k = ir::make_var(loop_.var->name, loop_.var->dtype);
    const std::map<const ir::VarNode*, Expr> at_k{{loop_.var.get(), k}};
    std::vector<Stmt> copies;
    for (const std::int64_t i : schedule_.producers) copies.push_back(ir::substitute(body_.at(i), at_k));
    return ir::make_scoped("bind", {}, stage_scope(stage_of(k, 0), ir::make_scoped("async_copies", {}, ir::make_seq(std::move(copies)))),
                           {k, value, loop_.min, loop_.extent});
  }

  // The overlapped consumer: the GEMM main loop's one gemm.
  const ir::TileOpNode& gemm() const {
    TS_ICHECK(schedule_.consumers.size() == 1, "stage overlap with ", schedule_.consumers.size(), " consumers");
    return *ir::as<ir::TileOpNode>(body_.at(schedule_.consumers[0]));
  }
};

}  // namespace

ir::PrimFunc expand_pipelines(const ir::PrimFunc& func) {
  // Each scheduled loop (the statement after its record) becomes its expansion; the record is spent.
  const Stmt body = expand_records(func->body, [](const ir::AnnotateNode& a, const Stmt& after) -> std::optional<Expanded> {
    const auto schedule = PipelineSchedule::decode(a);
    if (!schedule) return std::nullopt;
    const auto* loop = ir::as<ir::ForNode>(after);
    TS_ICHECK(loop && loop->for_kind == ir::ForKind::Pipelined, "pipeline schedule before no Pipelined loop");
    return Expanded{ir::make_seq({}), Expansion(*loop, *schedule).expand()};
  });
  return body == func->body ? func : ir::make_prim_func(func->name, func->params, body);
}

}  // namespace tilescale::passes
