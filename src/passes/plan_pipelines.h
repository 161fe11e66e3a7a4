#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "ir/IR.h"
#include "passes/plan_shared_memory.h"

namespace tilescale::passes {

// How a pipelined loop's consumers overlap the stage boundary (stage_overlap, below; the
// expansions: passes/expand_pipelines.h, passes/specialize_warps.h).
enum class StageOverlapKind { None, MmaFragments, WgmmaAsync };

// The overlap's name in records ("none", "mma_fragments", "wgmma_async") and back.
std::string overlap_name(StageOverlapKind kind);
StageOverlapKind overlap_of(const std::string& name);

// plan_pipelines' schedule of one multistage Pipelined loop, recorded as
// `annotate("pipeline", producers=[...], consumers=[...], ahead=, overlap=)` before the loop (other
// records may stand between them): one encode, one decode, and nothing else reads its keys.
struct PipelineSchedule {
  std::vector<std::int64_t> producers;  // the loop's statements (loop_statements) that fill stages, in issue order
  std::vector<std::int64_t> consumers;  // the others, in issue order (the loop's order=[...], else as written)
  std::int64_t ahead = 1;               // how many iterations ahead the producers load (cp.async pipelines)
  StageOverlapKind overlap = StageOverlapKind::None;  // how the consumers overlap the stage boundary (stage_overlap)
  ir::Stmt encode() const;
  static std::optional<PipelineSchedule> decode(const ir::AnnotateNode& a);  // nullopt: another annotation
};

// A loop's statements: its body's Seq, or the body alone.
std::vector<ir::Stmt> loop_statements(const ir::ForNode& f);

// How a pipelined loop's consumers overlap the stage boundary: the GEMM main loop shapes, one gemm
// of two staged tiles (so both are whole shared buffers), accumulating (clear_accum would reset it
// every stage). An mma.sync gemm keeps the next k step's fragments in flight (MmaFragments); a
// wgmma one its previous group (WgmmaAsync), which needs a stage besides the one being read: with
// cp.async also one besides the one landing (stages >= 3), with a producer warpgroup
// (warp_specialized) stages >= 2. A producer warpgroup has no next stage to prefetch fragments from
// in the last iteration, so mma.sync gemms are not overlapped there.
StageOverlapKind stage_overlap(const std::vector<ir::Stmt>& consumers, const std::set<const ir::BufferNode*>& staged, int stages,
                               bool warp_specialized);

// Schedules each multistage Pipelined loop (num_stages >= 2) for the CUDA backend: its producers
// are its T::copy statements into the shared buffers plan_shared_memory gave one copy per stage,
// issued `ahead` iterations early (num_stages - 1; num_stages - 2 when the consumers keep the
// previous iteration's wgmma group in flight), the rest are its consumers, in the loop's `order`
// when given; `overlap` is how the consumer gemm of a GEMM main loop spans the stage boundary. A
// `stage=[...]` that puts anything but exactly the producers in stage 0 is a CompileError. A loop
// that plan_warp_specialization gives a producer warpgroup keeps this record for its statements'
// order; the warp-specialized loop has its own overlap and no `ahead`.
//
//   before:  for k in T.Pipelined(32, num_stages=3):   (copies into A_shared, B_shared; a gemm)
//   after:   T.annotate("pipeline", ahead=2, consumers=[2], overlap="mma_fragments", producers=[0, 1])
//            for k in T.Pipelined(32, num_stages=3):
ir::PrimFunc plan_pipelines(const ir::PrimFunc& func);

}  // namespace tilescale::passes
