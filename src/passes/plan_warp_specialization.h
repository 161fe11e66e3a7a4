#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ir/IR.h"
#include "passes/plan_pipelines.h"

namespace tilescale::passes {

// The producer warpgroup of a warp-specialized kernel: 128 threads after the program's own, which
// keep 40 registers each when registers move to the consumers.
constexpr int kProducerThreads = 128, kProducerRegisters = 40;
// 32-bit registers per SM (sm_80, sm_90): what the launch's blocks share.
constexpr int kRegistersPerSm = 65536;

// The bytes of a warp-specialized pipeline's mbarriers, placed after the planned shared memory: a
// full and an empty barrier (8 bytes each) per stage, in whole 128-byte blocks.
std::int64_t pipeline_barrier_bytes(int stages);

// plan_warp_specialization's decision for the kernel's pipelined loop, recorded as
// `annotate("warp_specialization", tma_loads=[...], ...)` right before the loop in the kernel body:
// one encode, one decode, and nothing else reads its keys.
struct WarpSpecializationPlan {
  std::vector<std::int64_t> tma_loads;  // the loop's statements (loop_statements) the producer issues by TMA
  bool wait_for_consumers = false;      // the staged tiles share memory with buffers used before the loop
  StageOverlapKind overlap = StageOverlapKind::None;  // the consumers' stage overlap (stage_overlap)
  int blocks_per_sm = 1;                // the launch bounds' occupancy
  int consumer_registers = 0;           // setmaxnreg for the consumers (the producer: kProducerRegisters); 0: none
  // Warpgroup turns (device/tilescale/gemm_sm90.h, Turns): the loop's statements of the gemm that
  // takes the turn and of the carried gemm, issued in one turn across the iteration's end; empty: none.
  std::vector<std::int64_t> turns;
  ir::Stmt encode() const;
  static std::optional<WarpSpecializationPlan> decode(const ir::AnnotateNode& a);  // nullopt: another annotation
};
// Why a loop that could have been warp-specialized is not (a copy that cannot go by TMA, or too few
// registers for the occupancy T::min_blocks_per_sm asks), for the
// generated code's header: `annotate("no_warp_specialization", reason=...)` before the loop.
struct NoWarpSpecialization {
  std::string reason;
  ir::Stmt encode() const;
  static std::optional<NoWarpSpecialization> decode(const ir::AnnotateNode& a);  // nullopt: another annotation
};

// Decides, for sm_90 with TMA (`tma`), whether the kernel's pipelined loop gets a producer
// warpgroup: when the kernel's one multistage Pipelined loop sits at the top of the kernel body,
// is never left early, its bounds and tile coordinates depend only on block indices, symbolic
// sizes, scalar parameters and the loop variable, and every tile it loads qualifies for TMA
// (tma.h). Then the block gets kProducerThreads more threads: one of them issues the loop's loads
// by TMA into mbarrier-guarded stages, the program's threads (the consumers) compute (the code
// pass specialize_warps expands it: specialize_warps.h). The plan also fixes the occupancy: what
// T::min_blocks_per_sm asks for; else two blocks per SM for a GEMM main loop (WgmmaAsync) with one
// consumer warpgroup whose fragments need at most 128 registers a thread and whose shared memory
// fits twice in an SM (alone, one warpgroup's wgmma groups leave the tensor cores idle between
// them: the README GEMM ran 287 TFLOP/s with one block per SM, 526-556 with two, on the H200;
// FlashAttention's default tiles were slower with two); else one. Registers move to the consumers
// (setmaxnreg) when there are 2+ consumer warpgroups or 2+ blocks per SM: the block's share of the
// register file less the producer's, at most 240 a thread.
//
// Warpgroup turns: with 2+ consumer warpgroups, 3+ stages and no stage overlap, when the consumers'
// last statement (in issue order, plan_pipelines' schedule) is a wgmma gemm (the carried one) and
// an earlier one is another wgmma gemm, with nothing up to that first gemm touching the carried
// gemm's operands (it is still running then: its registers and any shared tile it reads), no
// consumer writing a shared tile it reads (the other warpgroups' carried gemms still read it after
// this one's wait) nor one the first gemm reads (that would need a barrier of all consumers right
// after the turn is taken, where the warpgroups waiting for it never arrive), each warpgroup issues the carried gemm and the next iteration's first gemm in
// one turn, so one warpgroup's gemms run while the others compute (FlashAttention's softmax).
// Fewer than 3 stages: a stage is released one iteration late, so 2 would leave the producer a
// single stage to fill ahead (measured: 63% of the time per FlashAttention tile that 3 stages take).
//
//   before:  for k in T.Pipelined(32, num_stages=3):            (128 threads, sm_90a)
//   after:   T.annotate("warp_specialization", blocks_per_sm=2, consumer_registers=216, overlap="wgmma_async",
//                       tma_loads=[0, 1], wait_for_consumers=0)
//            for k in T.Pipelined(32, num_stages=3):
//
// A loop refused because a copy cannot go by TMA, or because T::min_blocks_per_sm leaves fewer
// than 128 registers a thread at launch, gets `annotate("no_warp_specialization", reason=...)`
// instead, and stays a cp.async pipeline. Idle (returns its input) before sm_90, without TMA, and in distributed
// kernels.
ir::PrimFunc plan_warp_specialization(const ir::PrimFunc& func, int sm, bool tma);

}  // namespace tilescale::passes
