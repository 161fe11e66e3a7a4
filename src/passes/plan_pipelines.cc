#include "passes/plan_pipelines.h"

#include <algorithm>
#include <iterator>

#include "ir/visitor.h"
#include "ops/gemm.h"
#include "ops/tile_op.h"
#include "passes/records.h"
#include "tilescale/errors.h"

namespace tilescale::passes {

using tilescale::detail::cat;

namespace {

constexpr const char* kOverlapNames[] = {"none", "mma_fragments", "wgmma_async"};

// A Pipelined loop's producers: its copies from global memory into shared buffers placed with one
// copy per stage.
std::vector<bool> producers_of(const ir::ForNode& f, const std::map<const ir::BufferNode*, SharedPlacement>& shared) {
  const std::vector<ir::Stmt> body = loop_statements(f);
  std::vector<bool> producer(body.size(), false);
  for (size_t i = 0; i < body.size(); ++i)
    if (const auto* t = ir::as<ir::TileOpNode>(body[i]); t && ops::is_copy(*t) && shared.count(t->regions[1].buffer.get()) &&
                                                          shared.at(t->regions[1].buffer.get()).stages == f.pipeline.num_stages)
      producer[i] = true;
  return producer;
}

PipelineSchedule schedule(const ir::ForNode& f, const std::map<const ir::BufferNode*, SharedPlacement>& shared) {
  const int S = f.pipeline.num_stages;
  const std::vector<ir::Stmt> body = loop_statements(f);
  const std::vector<bool> producer = producers_of(f, shared);
  if (!f.pipeline.stage.empty())
    for (size_t i = 0; i < body.size(); ++i)
      if ((f.pipeline.stage[i] == 0) != producer[i])
        throw CompileError(cat("cannot pipeline loop ", f.var->name, " with stage=[...] as given: on this target stage 0 must hold "
                               "exactly the T::copy statements from global into shared memory (statement ", i, " breaks this)"));
  std::vector<size_t> order(body.size());
  for (size_t i = 0; i < body.size(); ++i) order[i] = i;
  if (!f.pipeline.order.empty())
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return f.pipeline.order[a] < f.pipeline.order[b]; });
  PipelineSchedule s;
  std::set<const ir::BufferNode*> staged;
  std::vector<ir::Stmt> consumers;
  for (size_t i : order) {
    (producer[i] ? s.producers : s.consumers).push_back(static_cast<std::int64_t>(i));
    if (producer[i]) staged.insert(ir::as<ir::TileOpNode>(body[i])->regions[1].buffer.get());
    else consumers.push_back(body[i]);
  }
  s.overlap = stage_overlap(consumers, staged, S, false);
  // Asynchronous wgmma keeps the previous iteration's group in flight, reading its stage, so one
  // stage fewer is free to load into.
  s.ahead = s.overlap == StageOverlapKind::WgmmaAsync ? S - 2 : S - 1;
  return s;
}

// Puts each multistage Pipelined loop's schedule right before it (a Seq flattens into its parent).
class Scheduler : public ir::Mutator {
 public:
  explicit Scheduler(const std::map<const ir::BufferNode*, SharedPlacement>& shared) : shared_(shared) {}
  using Mutator::mutate;

  ir::Stmt mutate(const ir::ForNode* op, const ir::Stmt& self) override {
    ir::Stmt m = Mutator::mutate(op, self);
    const auto* f = ir::as<ir::ForNode>(m);
    if (f->for_kind != ir::ForKind::Pipelined || f->pipeline.num_stages < 2) return m;
    return ir::make_seq({schedule(*f, shared_).encode(), m});
  }

 private:
  const std::map<const ir::BufferNode*, SharedPlacement>& shared_;
};

}  // namespace

std::string overlap_name(StageOverlapKind kind) { return kOverlapNames[static_cast<int>(kind)]; }

StageOverlapKind overlap_of(const std::string& name) {
  const auto* it = std::find_if(std::begin(kOverlapNames), std::end(kOverlapNames), [&](const char* n) { return name == n; });
  TS_ICHECK(it != std::end(kOverlapNames), "a record with overlap ", name);
  return static_cast<StageOverlapKind>(it - std::begin(kOverlapNames));
}

ir::Stmt PipelineSchedule::encode() const {
  return ir::make_annotate("pipeline", nullptr, nullptr,
                           {{"producers", producers}, {"consumers", consumers}, {"ahead", ahead}, {"overlap", overlap_name(overlap)}});
}

std::optional<PipelineSchedule> PipelineSchedule::decode(const ir::AnnotateNode& a) {
  if (a.key != "pipeline") return std::nullopt;
  PipelineSchedule s;
  s.producers = std::get<std::vector<std::int64_t>>(a.attrs.at("producers"));
  s.consumers = std::get<std::vector<std::int64_t>>(a.attrs.at("consumers"));
  s.ahead = std::get<std::int64_t>(a.attrs.at("ahead"));
  s.overlap = overlap_of(std::get<std::string>(a.attrs.at("overlap")));
  return s;
}

std::vector<ir::Stmt> loop_statements(const ir::ForNode& f) {
  const auto* seq = ir::as<ir::SeqNode>(f.body);
  return seq ? seq->stmts : std::vector<ir::Stmt>{f.body};
}


StageOverlapKind stage_overlap(const std::vector<ir::Stmt>& consumers, const std::set<const ir::BufferNode*>& staged, int stages,
                               bool warp_specialized) {
  if (consumers.size() != 1) return StageOverlapKind::None;
  const auto* g = ir::as<ir::TileOpNode>(consumers[0]);
  const auto gemm = g ? ops::as_gemm(*g) : std::nullopt;
  if (!gemm || !staged.count(g->regions[0].buffer.get()) || !staged.count(g->regions[1].buffer.get()) || ops::clears_accumulator(*g))
    return StageOverlapKind::None;
  if (!gemm->wgmma) return warp_specialized ? StageOverlapKind::None : StageOverlapKind::MmaFragments;
  return stages >= (warp_specialized ? 2 : 3) ? StageOverlapKind::WgmmaAsync : StageOverlapKind::None;
}

ir::PrimFunc plan_pipelines(const ir::PrimFunc& func) {
  const auto shared = shared_placements(func->body);
  Scheduler s(shared);
  return ir::make_prim_func(func->name, func->params, s.mutate_stmt(func->body));
}

}  // namespace tilescale::passes
