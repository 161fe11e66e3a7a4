#include "passes/plan_warp_specialization.h"

#include <algorithm>

#include "ir/visitor.h"
#include "ops/builtin.h"
#include "ops/gemm.h"
#include "ops/kernel_annotations.h"
#include "ops/memory_access.h"
#include "passes/infer_fragment_layouts.h"
#include "passes/records.h"
#include "passes/tma.h"
#include "tilescale/errors.h"

namespace tilescale::passes {

using tilescale::detail::cat;

namespace {

constexpr std::int64_t kSharedPerSm = 233472, kReservedPerBlock = 1024;  // sm_90: 228 KB, 1 KB of it per block
constexpr int kMostRegisters = 240;
// The least launch budget a warp-specialized kernel gets: two blocks of 256 threads. Below it ptxas
// cannot fit a wgmma's accumulators and descriptors (T::min_blocks_per_sm(3) over 128 + 128
// threads: "Insufficient registers (80) ... register target of 90 or higher").
constexpr int kLeastLaunchRegisters = 128;

// The records plan_shared_memory and infer_fragment_layouts left in the kernel, and the user's
// occupancy request.
struct Records : ir::Visitor {
  std::map<const ir::BufferNode*, SharedPlacement> shared;
  std::int64_t shared_total = 0;
  std::int64_t fragment_registers = 0;  // per thread, every fragment together
  std::int64_t min_blocks_per_sm = 0;
  void visit(const ir::AnnotateNode* op) override {
    if (auto t = SharedMemoryTotal::decode(*op)) shared_total = t->bytes;
    else if (auto f = FragmentLayoutRecord::decode(*op)) fragment_registers += f->layout->register_count();
    else if (auto m = ops::MinBlocksPerSm::decode(*op)) min_blocks_per_sm = m->blocks;
  }
};

// The multistage Pipelined loops, and whether a loop is left early (a consumer that leaves would
// leave the producer waiting for a release).
struct Loops : ir::Visitor {
  std::vector<const ir::ForNode*> pipelined;
  bool breaks = false;
  void visit(const ir::ForNode* op) override {
    if (op->for_kind == ir::ForKind::Pipelined && op->pipeline.num_stages >= 2) pipelined.push_back(op);
    Visitor::visit(op);
  }
  void visit(const ir::BreakNode*) override { breaks = true; }
};

// Whether `s` reads or writes one of `buffers`, in any scope.
bool touches(const ir::Stmt& s, const std::vector<const ir::BufferNode*>& buffers) {
  struct Finder : ir::Visitor {
    const std::vector<const ir::BufferNode*>& buffers;
    bool found = false;
    explicit Finder(const std::vector<const ir::BufferNode*>& b) : buffers(b) {}
    void note(const ir::BufferNode* b) { found |= std::find(buffers.begin(), buffers.end(), b) != buffers.end(); }
    void visit(const ir::LoadNode* op) override { note(op->buffer.get()), Visitor::visit(op); }
    void visit(const ir::StoreNode* op) override { note(op->buffer.get()), Visitor::visit(op); }
    void visit(const ir::TileOpNode* op) override {
      for (const auto& r : op->regions) note(r.buffer.get());
      Visitor::visit(op);
    }
  } f(buffers);
  f.visit_stmt(s);
  return f.found;
}

// The warpgroup turns of the consumers (in issue order) of a loop with `stages` stages over
// `threads` consumer threads: the indices of the turn's two gemms, or none (see the header).
std::vector<std::int64_t> warpgroup_turns(const std::vector<ir::Stmt>& body, const std::vector<std::int64_t>& consumers, int threads,
                                          int stages) {
  auto wgmma_gemm = [&](std::int64_t i) {
    const auto* g = ir::as<ir::TileOpNode>(body[i]);
    const auto gemm = g ? ops::as_gemm(*g) : std::nullopt;
    return gemm && gemm->wgmma ? g : nullptr;
  };
  if (threads < 256 || stages < 3 || consumers.empty() || !wgmma_gemm(consumers.back())) return {};
  std::vector<const ir::BufferNode*> operands;
  for (const auto& r : wgmma_gemm(consumers.back())->regions) operands.push_back(r.buffer.get());
  ops::MemoryAccess writes;
  for (const std::int64_t c : consumers) writes.merge(ops::access_of(body[c]));
  for (const auto* b : operands)
    if (b->scope == ir::Scope::Shared && writes.writes.count(b)) return {};
  for (size_t i = 0; i + 1 < consumers.size(); ++i) {
    if (touches(body[consumers[i]], operands)) return {};
    const ir::TileOpNode* first = wgmma_gemm(consumers[i]);
    if (!first) continue;
    // The first gemm issues right after taking the turn: a shared operand the consumers write would
    // need a fence and a barrier of all consumers there, which the warpgroups waiting for the turn
    // never reach.
    for (const auto& r : first->regions)
      if (r.buffer->scope == ir::Scope::Shared && writes.writes.count(r.buffer.get())) return {};
    return {consumers[i], consumers.back()};
  }
  return {};
}

// The plan for `k`'s pipelined loop `f`, or the reason it gets none (empty when it simply does
// not qualify).
struct Decision {
  std::optional<WarpSpecializationPlan> plan;
  std::string refused;
};

Decision decide(const ir::PrimFunc& func, const ir::KernelNode& k, const ir::ForNode& f, const PipelineSchedule& schedule,
               const Records& r) {
  // The producer computes the loop bounds and the tiles' coordinates from the block indices, the
  // symbolic dimensions, the scalar parameters and the loop variable alone.
  std::set<const ir::VarNode*> known{f.var.get()};
  for (const auto& v : k.block_vars) known.insert(v.get());
  for (const auto& v : func->symbolic_dims()) known.insert(v.get());
  for (const auto& p : func->params)
    if (p.scalar) known.insert(p.scalar.get());
  auto producer_computable = [&](const ir::Expr& e) {
    bool ok = true;
    ir::for_each_expr(e, [&](const ir::Expr& x) {
      if (x->kind == ir::ExprKind::Var) ok &= known.count(ir::as<ir::VarNode>(x)) > 0;
      ok &= x->kind != ir::ExprKind::Load && x->kind != ir::ExprKind::Builtin;
    });
    return ok;
  };
  if (!producer_computable(f.min) || !producer_computable(f.extent)) return {};
  // An occupancy the program asks for must leave the consumers' wgmma code the registers it needs
  // at launch (ptxas compiles it within the launch bounds' budget).
  const std::int64_t launch_threads = k.threads + kProducerThreads;
  if (r.min_blocks_per_sm && kRegistersPerSm / (r.min_blocks_per_sm * launch_threads) < kLeastLaunchRegisters)
    return {std::nullopt, cat("no warp specialization: T::min_blocks_per_sm(", r.min_blocks_per_sm, ") leaves ",
                              kRegistersPerSm / (r.min_blocks_per_sm * launch_threads), " registers a thread to ", launch_threads,
                              " threads (a producer warpgroup's included), fewer than ", kLeastLaunchRegisters)};
  Loops in_loop;
  in_loop.visit_stmt(f.body);
  if (in_loop.breaks) return {};
  const std::vector<ir::Stmt> body = loop_statements(f);
  // The schedule's producers, in the loop's own order (the tensor maps' and the loads' order).
  std::vector<std::int64_t> producers = schedule.producers;
  std::sort(producers.begin(), producers.end());
  WarpSpecializationPlan plan;
  std::set<const ir::BufferNode*> staged;
  for (const std::int64_t i : producers) {
    const auto* copy = ir::as<ir::TileOpNode>(body[i]);
    for (const auto& e : copy->regions[0].base)
      if (!producer_computable(e)) return {};
    const ir::BufferNode* tile = copy->regions[1].buffer.get();
    std::string why;
    if (!plan_tma_copy(func, *copy, r.shared.at(tile).offset, r.shared.at(tile).stage_bytes, why))
      return {std::nullopt, cat("no warp specialization: the copy from ", copy->regions[0].buffer->name, " into ", tile->name,
                                " cannot go by TMA because ", why)};
    staged.insert(tile);
    plan.tma_loads.push_back(i);
  }
  if (plan.tma_loads.empty()) return {};
  for (const auto& [b, p] : r.shared) {
    if (staged.count(b)) continue;
    for (const auto* t : staged) plan.wait_for_consumers |= p.overlaps(r.shared.at(t));
  }
  std::vector<ir::Stmt> consumers;
  for (const std::int64_t i : schedule.consumers) consumers.push_back(body[i]);
  plan.overlap = stage_overlap(consumers, staged, f.pipeline.num_stages, true);
  if (plan.overlap == StageOverlapKind::None) plan.turns = warpgroup_turns(body, schedule.consumers, k.threads, f.pipeline.num_stages);
  // Occupancy (see the header), then the consumers' registers.
  const std::int64_t barrier_bytes = pipeline_barrier_bytes(f.pipeline.num_stages);
  plan.blocks_per_sm = static_cast<int>(r.min_blocks_per_sm);
  if (!r.min_blocks_per_sm) {
    const bool two = k.threads == 128 && plan.overlap == StageOverlapKind::WgmmaAsync && r.fragment_registers <= 128 &&
                     2 * (r.shared_total + barrier_bytes + kReservedPerBlock) <= kSharedPerSm;
    plan.blocks_per_sm = two ? 2 : 1;
  }
  if (k.threads >= 256 || plan.blocks_per_sm > 1)
    plan.consumer_registers = std::min<int>(
        kMostRegisters, static_cast<int>((kRegistersPerSm / plan.blocks_per_sm - kProducerThreads * kProducerRegisters) / k.threads / 8 * 8));
  return {plan, ""};
}

class Planner : public ir::Mutator {
 public:
  Planner(const ir::PrimFunc& func, const Records& r) : func_(func), records_(r) {}
  using Mutator::mutate;

  ir::Stmt mutate(const ir::KernelNode* op, const ir::Stmt& self) override {
    if (op->threads % 128 != 0 || op->threads + kProducerThreads > 1024) return self;
    Loops loops;
    loops.visit_stmt(op->body);
    if (loops.pipelined.size() != 1) return self;
    const ir::ForNode* f = loops.pipelined[0];
    const auto* top = ir::as<ir::SeqNode>(op->body);
    std::vector<ir::Stmt> stmts = top ? top->stmts : std::vector<ir::Stmt>{op->body};
    const auto at = std::find_if(stmts.begin(), stmts.end(), [&](const ir::Stmt& s) { return s.get() == f; });
    if (at == stmts.end()) return self;
    std::optional<PipelineSchedule> schedule;
    for (size_t i = 0; i < stmts.size() && !schedule; ++i)
      if (const auto* a = ir::as<ir::AnnotateNode>(stmts[i]); a && statement_after(stmts, i).get() == f) schedule = PipelineSchedule::decode(*a);
    TS_ICHECK(schedule, "pipelined loop ", f->var->name, " without its schedule");
    const Decision d = decide(func_, *op, *f, *schedule, records_);
    if (!d.plan && d.refused.empty()) return self;
    stmts.insert(at, d.plan ? d.plan->encode() : NoWarpSpecialization{d.refused}.encode());
    return ir::make_kernel(op->grid, op->threads, op->block_vars, op->thread_var, ir::make_seq(stmts));
  }

 private:
  const ir::PrimFunc& func_;
  const Records& records_;
};

}  // namespace

std::int64_t pipeline_barrier_bytes(int stages) { return (16 * stages + 127) / 128 * 128; }

ir::Stmt WarpSpecializationPlan::encode() const {
  return ir::make_annotate("warp_specialization", nullptr, nullptr,
                           {{"tma_loads", tma_loads},
                            {"wait_for_consumers", std::int64_t(wait_for_consumers)},
                            {"overlap", overlap_name(overlap)},
                            {"blocks_per_sm", std::int64_t(blocks_per_sm)},
                            {"consumer_registers", std::int64_t(consumer_registers)},
                            {"turns", turns}});
}

std::optional<WarpSpecializationPlan> WarpSpecializationPlan::decode(const ir::AnnotateNode& a) {
  if (a.key != "warp_specialization") return std::nullopt;
  WarpSpecializationPlan p;
  p.tma_loads = std::get<std::vector<std::int64_t>>(a.attrs.at("tma_loads"));
  p.wait_for_consumers = std::get<std::int64_t>(a.attrs.at("wait_for_consumers")) != 0;
  p.overlap = overlap_of(std::get<std::string>(a.attrs.at("overlap")));
  p.blocks_per_sm = static_cast<int>(std::get<std::int64_t>(a.attrs.at("blocks_per_sm")));
  p.consumer_registers = static_cast<int>(std::get<std::int64_t>(a.attrs.at("consumer_registers")));
  p.turns = std::get<std::vector<std::int64_t>>(a.attrs.at("turns"));
  return p;
}

ir::Stmt NoWarpSpecialization::encode() const {
  return ir::make_annotate("no_warp_specialization", nullptr, nullptr, {{"reason", reason}});
}

std::optional<NoWarpSpecialization> NoWarpSpecialization::decode(const ir::AnnotateNode& a) {
  if (a.key != "no_warp_specialization") return std::nullopt;
  return NoWarpSpecialization{std::get<std::string>(a.attrs.at("reason"))};
}

ir::PrimFunc plan_warp_specialization(const ir::PrimFunc& func, int sm, bool tma) {
  if (!tma || sm < 90 || ops::uses_builtins(func->body)) return func;
  Records r;
  r.visit_stmt(func->body);
  r.shared = shared_placements(func->body);
  Planner p(func, r);
  return ir::make_prim_func(func->name, func->params, p.mutate_stmt(func->body));
}

}  // namespace tilescale::passes
