#include "passes/specialize_warps.h"

#include <algorithm>
#include <map>
#include <set>
#include <vector>

#include "ir/visitor.h"
#include "ops/gemm.h"
#include "ops/kernel_annotations.h"
#include "ops/memory_access.h"
#include "passes/infer_fragment_layouts.h"
#include "passes/plan_pipelines.h"
#include "passes/plan_shared_memory.h"
#include "passes/plan_warp_specialization.h"
#include "passes/records.h"
#include "passes/simplify.h"
#include "passes/thread_ir.h"
#include "passes/tma.h"
#include "tilescale/errors.h"

namespace tilescale::passes {

namespace {

using ir::BinaryOp;
using ir::Expr;
using ir::Stmt;

// The kernel's records and buffers that the expansion reads.
struct Records : ir::Visitor {
  std::map<const ir::BufferNode*, SharedPlacement> shared;
  std::map<const ir::BufferNode*, std::int64_t> registers;  // each fragment's registers per thread
  std::int64_t shared_total = 0;
  bool persistent = false;
  void visit(const ir::AnnotateNode* a) override {
    if (auto p = SharedPlacement::decode(*a)) shared[a->buffer.get()] = *p;
    else if (auto f = FragmentLayoutRecord::decode(*a)) registers[a->buffer.get()] = f->layout->register_count();
    else if (auto t = SharedMemoryTotal::decode(*a)) shared_total = t->bytes;
    else if (ops::Persistent::decode(*a)) persistent = true;
  }
};

class Specializer {
 public:
  Specializer(const ir::PrimFunc& func, const ir::KernelNode& kernel, const WarpSpecializationPlan& plan, const PipelineSchedule& schedule,
              const ir::ForNode& loop)
      : func_(func), kernel_(kernel), plan_(plan), schedule_(schedule), loop_(loop), body_(loop_statements(loop)),
        S_(loop.pipeline.num_stages), consumers_(kernel.threads) {
    records_.visit_stmt(kernel.body);
    for (const std::int64_t i : schedule.producers) staged_.push_back(ir::as<ir::TileOpNode>(body_.at(i))->regions[1].buffer);
    barriers_ = ir::make_buffer("mbarriers", {num(2 * S_)}, DataType::UInt64, ir::Scope::Shared);
    loads_ = ir::make_buffer("loads_issued", {num(1)}, DataType::Int32, ir::Scope::Var);
    uses_ = ir::make_buffer("stages_used", {num(1)}, DataType::Int32, ir::Scope::Var);
    tma_loads_ = plan_loads();
  }

  Stmt kernel_body() {
    const auto& top = ir::as<ir::SeqNode>(kernel_.body)->stmts;
    // The staged tiles and their placements go before the roles, which both address them.
    std::vector<Stmt> shared_decls, program;
    for (const auto& s : top) (staged_decl(s) ? shared_decls : program).push_back(s);
    const std::int64_t barrier_bytes = pipeline_barrier_bytes(S_);
    shared_decls.push_back(ir::make_alloc(barriers_));
    shared_decls.push_back(SharedPlacement{records_.shared_total, barrier_bytes, 1}.encode(barriers_));
    shared_decls.push_back(PipelineBarriers{S_}.encode(barriers_));
    for (const auto& l : tma_loads_) shared_decls.push_back(l.copy.map.encode());
    // The loop's schedule and plan are spent: the expansion shows them.
    for (size_t i = 0; i < program.size(); ++i) {
      const auto* a = ir::as<ir::AnnotateNode>(program[i]);
      if (!a) continue;
      const bool spent = WarpSpecializationPlan::decode(*a) || (PipelineSchedule::decode(*a) && statement_after(program, i).get() == &loop_);
      if (SharedMemoryTotal::decode(*a)) program[i] = SharedMemoryTotal{records_.shared_total + barrier_bytes}.encode();
      else if (spent || ops::MinBlocksPerSm::decode(*a)) program[i] = ir::make_seq({});
    }
    program.insert(program.begin(), ops::MinBlocksPerSm{plan_.blocks_per_sm}.encode());

    std::vector<Stmt> out = shared_decls;
    const ir::Var s = ir::make_var("s");
    out.push_back(ir::make_if(op(BinaryOp::EQ, kernel_.thread_var, num(0)),
                              ir::make_seq({ir::make_for(s, num(0), num(S_), ir::ForKind::Serial,
                                                         ir::make_seq({call("tl.mbarrier_init", {full(s), num(1)}),
                                                                       call("tl.mbarrier_init", {empty(s), num(consumers_)})})),
                                            call("tl.fence_mbarrier_init")})));
    out.push_back(block_barrier());
    out.push_back(producer_role());
    out.push_back(consumer_role(program));
    return ir::make_seq(std::move(out));
  }

 private:
  struct PlannedLoad {
    const ir::TileOpNode* op;
    TmaCopy copy;
  };

  const ir::PrimFunc& func_;
  const ir::KernelNode& kernel_;
  const WarpSpecializationPlan& plan_;
  const PipelineSchedule& schedule_;
  const ir::ForNode& loop_;
  const std::vector<Stmt> body_;
  const int S_;
  const int consumers_;
  Records records_;
  std::vector<ir::Buffer> staged_;
  ir::Buffer barriers_, loads_, uses_;
  std::vector<PlannedLoad> tma_loads_;  // the producer's loads, in tensor-map order

  Expr full(const Expr& stage) const { return ir::make_load(barriers_, {stage}); }
  Expr empty(const Expr& stage) const { return ir::make_load(barriers_, {op(BinaryOp::Add, num(S_), stage)}); }
  Expr count(const ir::Buffer& counter) const { return ir::make_load(counter, {num(0)}); }
  Stmt bump(const ir::Buffer& counter, const Expr& by) const { return ir::make_store(counter, {num(0)}, op(BinaryOp::Add, count(counter), by)); }
  // Round `i / stages`'s parity, as the mbarrier waits take it.
  Expr parity(const Expr& i) const { return op(BinaryOp::BitAnd, op(BinaryOp::Div, i, num(S_)), num(1)); }

  bool staged_decl(const Stmt& s) const {
    const ir::BufferNode* b = nullptr;
    if (const auto* a = ir::as<ir::AllocNode>(s)) b = a->buffer.get();
    if (const auto* a = ir::as<ir::AnnotateNode>(s); a && SharedPlacement::decode(*a)) b = a->buffer.get();
    return b && std::any_of(staged_.begin(), staged_.end(), [&](const ir::Buffer& t) { return t.get() == b; });
  }

  std::vector<PlannedLoad> plan_loads() const {
    std::vector<PlannedLoad> out;
    for (const std::int64_t i : plan_.tma_loads) {
      const auto* copy = ir::as<ir::TileOpNode>(body_.at(i));
      const SharedPlacement& tile = records_.shared.at(copy->regions[1].buffer.get());
      std::string why;
      const auto load = plan_tma_copy(func_, *copy, tile.offset, tile.stage_bytes, why);
      TS_ICHECK(load, "TMA load of statement ", i, " planned but refused: ", why);
      out.push_back({copy, *load});
    }
    return out;
  }

  // Wraps a role's per-grid-point statements in grid_points() when the kernel is persistent.
  Stmt per_point(Stmt body) const { return records_.persistent ? ir::make_scoped("grid_points", {}, std::move(body)) : body; }
  Stmt stage_scope(const Expr& stage, Stmt body) const {
    std::vector<Expr> args{stage};
    for (const auto& b : staged_) args.push_back(first_element(b));
    return ir::make_scoped("stage", {}, std::move(body), std::move(args));
  }

  Stmt producer_role() const {
    const ir::Var k = ir::make_var(loop_.var->name);
    const Expr load = simplify(op(BinaryOp::Add, count(loads_), op(BinaryOp::Sub, k, loop_.min)));
    // The stage is computed once per load, before the wait: recomputed after it, its division
    // would sit between the stage's release and the TMA loads that refill it.
    const ir::Buffer stage_var = ir::make_buffer("stage", {num(1)}, DataType::Int32, ir::Scope::Var);
    const Expr stage = count(stage_var);
    std::vector<Stmt> iteration;
    iteration.push_back(ir::make_if(op(BinaryOp::GE, load, num(S_)),
                                    call("tl.mbarrier_wait", {empty(stage), op(BinaryOp::BitXor, parity(load), num(1))})));
    std::int64_t bytes = 0;
    const auto& loads = tma_loads_;
    for (const auto& l : loads) bytes += l.copy.bytes;
    iteration.push_back(call("tl.mbarrier_arrive_expect_tx", {full(stage), num(bytes)}));
    const std::map<const ir::VarNode*, Expr> at_k{{loop_.var.get(), k}};
    for (size_t i = 0; i < loads.size(); ++i) {
      const ir::Region &src = loads[i].op->regions[0], &dst = loads[i].op->regions[1];
      for (std::int64_t p = 0; p < loads[i].copy.panels; ++p) {
        std::vector<Expr> tile(dst.buffer->rank(), num(0)), coords;
        tile.back() = num(p * loads[i].copy.panel_cols);
        for (const auto& c : tma_box_coords(src, loads[i].copy, p)) coords.insert(coords.begin(), simplify(ir::substitute(c, at_k)));
        iteration.push_back(call("tl.tma_load", {ir::make_load(dst.buffer, tile), ir::make_load(src.buffer, coords), full(stage)}, {},
                                 {{"map", static_cast<std::int64_t>(i)}}));
      }
    }
    std::vector<Stmt> point;
    if (plan_.wait_for_consumers) point.push_back(call("tl.named_barrier_sync", {}, {std::int64_t{kStartBarrier}, std::int64_t{consumers_ + 32}}));
    point.push_back(ir::make_if(elect_one(), ir::make_for(k, loop_.min, loop_.extent, ir::ForKind::Serial,
                                                          ir::make_seq({ir::make_alloc(stage_var),
                                                                        ir::make_store(stage_var, {num(0)}, op(BinaryOp::Mod, load, num(S_))),
                                                                        stage_scope(stage, ir::make_seq(std::move(iteration)))}))));
    point.push_back(call("tl.syncwarp"));
    point.push_back(bump(loads_, loop_.extent));
    // The drain: the last `stages` loads released.
    const ir::Var l = ir::make_var("load");
    const Expr first = ir::make_binary(BinaryOp::Max, op(BinaryOp::Sub, count(loads_), num(S_)), num(0));
    const Stmt drain = ir::make_if(elect_one(), ir::make_for(l, first, ir::make_binary(BinaryOp::Min, count(loads_), num(S_)), ir::ForKind::Serial,
                                                             call("tl.mbarrier_wait", {empty(op(BinaryOp::Mod, l, num(S_))), parity(l)})));
    const Stmt warp = ir::make_seq({ir::make_alloc(loads_), ir::make_store(loads_, {num(0)}, num(0)), per_point(ir::make_seq(std::move(point))),
                                    drain, call("tl.syncwarp")});
    return WarpRole{consumers_, kProducerThreads}.encode(
        with_registers(plan_.consumer_registers ? kProducerRegisters : 0,
                       ir::make_if(op(BinaryOp::EQ, op(BinaryOp::Div, kernel_.thread_var, num(32)), num(consumers_ / 32)), warp)));
  }

  // A role's body that first sets each thread's registers to `registers` (none: 0): setmaxnreg
  // lowers or raises them from what the launch gives each thread (the register file over the
  // plan's blocks per SM).
  Stmt with_registers(int registers, Stmt body) const {
    if (!registers) return body;
    const std::int64_t launch = kRegistersPerSm / ((consumers_ + kProducerThreads) * std::max(plan_.blocks_per_sm, 1)) / 8 * 8;
    return ir::make_seq({call(registers < launch ? "tl.setmaxnreg_dec" : "tl.setmaxnreg_inc", {}, {std::int64_t{registers}}), std::move(body)});
  }

  static Expr elect_one() { return ir::make_builtin(DataType::Bool, "tl.elect_one", {}); }

  // `tl.wgmma_fence_regs` over fragment `b`'s registers, in 32-bit words (16-bit elements in pairs).
  Stmt fence_registers(const ir::Buffer& b) const {
    const std::int64_t regs = records_.registers.at(b.get());
    const std::int64_t words = b->dtype == DataType::Float32 ? regs : regs * bytes(b->dtype) / 4;
    return call("tl.wgmma_fence_regs", {first_element(b)}, {words});
  }

  Stmt consumer_role(const std::vector<Stmt>& program) const {
    std::vector<Stmt> point;
    for (const auto& s : program) {
      if (s.get() != &loop_) {
        point.push_back(s);
        continue;
      }
      for (auto& t : consumer_loop()) point.push_back(t);
    }
    if (records_.persistent) point.push_back(block_barrier());  // the next point's body starts over with the same shared memory
    return WarpRole{0, consumers_, kConsumerBarrier}.encode(with_registers(
        plan_.consumer_registers, ir::make_seq({ir::make_alloc(uses_), ir::make_store(uses_, {num(0)}, num(0)), per_point(ir::make_seq(std::move(point)))})));
  }

  std::vector<Stmt> consumer_loop() const {
    const Expr stage = op(BinaryOp::Mod, count(uses_), num(S_));
    // With asynchronous wgmma (and turns) a stage is released one iteration late, the last after the loop.
    const Stmt release_previous = call("tl.mbarrier_arrive", {empty(op(BinaryOp::Mod, op(BinaryOp::Add, count(uses_), num(S_ - 1)), num(S_)))});
    const Expr not_first = op(BinaryOp::GT, loop_.var, loop_.min);
    // After the loop: the same once it ran at all.
    const Expr ran = simplify(op(BinaryOp::GT, loop_.extent, num(0)));
    auto if_ran = [&](Stmt s) { return ir::as_const_int(ran) == 1 ? s : ir::make_if(ran, std::move(s)); };
    std::vector<Stmt> before, iteration, after;
    if (plan_.wait_for_consumers) before.push_back(call("tl.named_barrier_arrive", {}, {std::int64_t{kStartBarrier}, std::int64_t{consumers_ + 32}}));
    // Shared tiles the loop reads but does not write are fenced for the async proxy once, here;
    // the TMA stages need no fence.
    std::vector<Stmt> consumers;
    for (const std::int64_t i : schedule_.consumers) consumers.push_back(body_.at(i));
    ops::MemoryAccess a;
    for (const auto& c : consumers) a.merge(ops::access_of(c));
    std::vector<Expr> ready;
    for (const auto& b : staged_) ready.push_back(first_element(b));
    bool fence = false;
    for (const auto& s : records_.shared) {
      const ir::BufferNode* b = s.first;
      const bool is_staged = std::any_of(staged_.begin(), staged_.end(), [&](const ir::Buffer& t) { return t.get() == b; });
      if (!a.reads.count(b) || a.writes.count(b) || is_staged) continue;
      ready.push_back(first_element(buffer_of(b, consumers)));
      fence = true;
    }
    if (fence) before.insert(before.end(), {call("tl.fence_proxy_async"), block_barrier()});

    iteration.push_back(call("tl.mbarrier_wait_lean", {full(stage), parity(count(uses_))}));
    std::vector<Stmt> loop_before, loop_after;
    if (plan_.overlap == StageOverlapKind::WgmmaAsync) {
      const auto calls = ops::wgmma_async_calls(*ir::as<ir::TileOpNode>(consumers.at(0)));
      iteration.push_back(calls.issue);
      iteration.push_back(ir::make_if(not_first, release_previous));
      loop_after = {calls.drain, if_ran(release_previous)};
    } else if (!plan_.turns.empty()) {
      // Each warpgroup issues the carried gemm and the next iteration's first one in one turn; the
      // carried gemm's wait comes with the first gemm's.
      const std::vector<ir::TemplateArg> turns{std::int64_t{kFirstTurnBarrier}, std::int64_t{consumers_ / 128}};
      const Stmt& first = body_.at(plan_.turns[0]);
      const Stmt& last = body_.at(plan_.turns[1]);
      const auto* carried = ir::as<ir::TileOpNode>(last);
      std::vector<Stmt> carried_fences;
      for (const int r : {2, 0})
        if (carried->regions[r].buffer->scope == ir::Scope::Fragment) carried_fences.push_back(fence_registers(carried->regions[r].buffer));
      for (const auto& c : consumers) {
        if (c == first) {
          iteration.push_back(ir::make_if(op(BinaryOp::EQ, loop_.var, loop_.min), call("tl.warpgroup_turns_acquire", {}, turns)));
          iteration.push_back(ops::wgmma_issue_only(*ir::as<ir::TileOpNode>(c)));
          iteration.push_back(call("tl.warpgroup_turns_release", {}, turns));
          iteration.push_back(call("tl.wgmma_wait", {}, {std::int64_t{0}}));
          iteration.push_back(fence_registers(ir::as<ir::TileOpNode>(c)->regions[2].buffer));
          for (const auto& f : carried_fences) iteration.push_back(f);
          iteration.push_back(ir::make_if(not_first, release_previous));
        } else if (c == last) {
          iteration.push_back(call("tl.warpgroup_turns_acquire", {}, turns));
          iteration.push_back(ops::wgmma_issue_only(*carried));
        } else {
          iteration.push_back(c);
        }
      }
      loop_before = {call("tl.warpgroup_turns_start", {}, turns)};
      // The last iteration's carried gemm: wait (outside any branch: a wait on a divergent path
      // makes ptxas serialize every wgmma, C7518), pass the turn on, release its stage.
      loop_after = {call("tl.wgmma_wait", {}, {std::int64_t{0}})};
      for (const auto& f : carried_fences) loop_after.push_back(f);
      loop_after.push_back(if_ran(ir::make_seq({call("tl.warpgroup_turns_release", {}, turns), release_previous})));
      loop_after.push_back(call("tl.warpgroup_turns_finish", {}, turns));
    } else {
      for (const auto& c : consumers) iteration.push_back(c);
      iteration.push_back(call("tl.mbarrier_arrive", {empty(stage)}));
    }
    const Stmt loop = ir::make_for(loop_.var, loop_.min, loop_.extent, ir::ForKind::Serial,
                                   ir::make_seq({stage_scope(stage, ir::make_seq(std::move(iteration))), bump(uses_, num(1))}));
    std::vector<Stmt> in_ready = loop_before;
    in_ready.push_back(loop);
    std::vector<Stmt> out = before;
    out.push_back(ir::make_scoped("async_proxy_ready", {}, ir::make_seq(std::move(in_ready)), std::move(ready)));
    for (auto& s : loop_after) out.push_back(s);
    return out;
  }

  // The Buffer (shared pointer) of `b`, from the consumers that read it.
  static ir::Buffer buffer_of(const ir::BufferNode* b, const std::vector<Stmt>& consumers) {
    struct Find : ir::Visitor {
      const ir::BufferNode* want;
      ir::Buffer found;
      void visit(const ir::LoadNode* l) override {
        if (l->buffer.get() == want) found = l->buffer;
        Visitor::visit(l);
      }
      void visit(const ir::TileOpNode* t) override {
        for (const auto& r : t->regions)
          if (r.buffer.get() == want) found = r.buffer;
        Visitor::visit(t);
      }
    } f;
    f.want = b;
    for (const auto& c : consumers) f.visit_stmt(c);
    TS_ICHECK(f.found, "shared buffer ", b->name, " read in the loop but not found there");
    return f.found;
  }
};

}  // namespace

ir::Stmt PipelineBarriers::encode(const ir::Buffer& barriers) const {
  return ir::make_annotate("pipeline_barriers", barriers, nullptr, {{"stages", stages}});
}

std::optional<PipelineBarriers> PipelineBarriers::decode(const ir::AnnotateNode& a) {
  if (a.key != "pipeline_barriers") return std::nullopt;
  return PipelineBarriers{std::get<std::int64_t>(a.attrs.at("stages"))};
}

ir::Stmt WarpRole::encode(ir::Stmt body) const {
  ir::Attrs attrs{{"first_thread", first_thread}, {"threads", threads}};
  if (barrier) attrs["barrier"] = barrier;
  return ir::make_scoped("warp_role", std::move(attrs), std::move(body));
}

std::optional<WarpRole> WarpRole::decode(const ir::ScopedNode& s) {
  if (s.key != "warp_role") return std::nullopt;
  auto it = s.attrs.find("barrier");
  return WarpRole{std::get<std::int64_t>(s.attrs.at("first_thread")), std::get<std::int64_t>(s.attrs.at("threads")),
                  it == s.attrs.end() ? 0 : std::get<std::int64_t>(it->second)};
}

ir::PrimFunc specialize_warps(const ir::PrimFunc& func) {
  struct Rewrite : ir::Mutator {
    const ir::PrimFunc* func;
    using Mutator::mutate;
    Stmt mutate(const ir::KernelNode* k, const Stmt& self) override {
      const auto* top = ir::as<ir::SeqNode>(k->body);
      if (!top) return self;
      for (size_t i = 0; i < top->stmts.size(); ++i) {
        const auto* a = ir::as<ir::AnnotateNode>(top->stmts[i]);
        const auto plan = a ? WarpSpecializationPlan::decode(*a) : std::nullopt;
        if (!plan) continue;
        const auto* loop = ir::as<ir::ForNode>(statement_after(top->stmts, i));
        TS_ICHECK(loop, "warp_specialization record before no loop");
        std::optional<PipelineSchedule> schedule;
        for (size_t j = 0; j < i; ++j)
          if (const auto* r = ir::as<ir::AnnotateNode>(top->stmts[j]))
            if (auto s = PipelineSchedule::decode(*r); s && statement_after(top->stmts, j).get() == loop) schedule = s;
        TS_ICHECK(schedule, "warp-specialized loop without its pipeline schedule");
        Specializer spec(*func, *k, *plan, *schedule, *loop);
        return ir::make_kernel(k->grid, k->threads + kProducerThreads, k->block_vars, k->thread_var, spec.kernel_body());
      }
      return self;
    }
  } rewrite;
  rewrite.func = &func;
  const Stmt body = rewrite.mutate_stmt(func->body);
  return body == func->body ? func : ir::make_prim_func(func->name, func->params, body);
}

}  // namespace tilescale::passes
