// specialize_warps: the warp-specialized loop that plan_warp_specialization planned becomes
// thread-level IR: a producer warpgroup that loads the stages by TMA, the program's threads (the
// consumers) computing on them, and the mbarrier protocol between the two.
#pragma once

#include <cstdint>
#include <optional>

#include "ir/IR.h"

namespace tilescale::passes {

// Named barriers of a warp-specialized kernel: the consumers' block-wide barrier, the producer's
// start (wait_for_consumers), and from kFirstTurnBarrier on one per consumer warpgroup (warpgroup
// turns, device/tilescale/gemm_sm90.h).
constexpr int kConsumerBarrier = 1, kStartBarrier = 2, kFirstTurnBarrier = 3;

// The pipeline's mbarriers, recorded after their Alloc as
// `annotate("pipeline_barriers", mbarriers, stages=3)`: full[stages] (one arrival, the
// producer's, plus the stage's bytes) then empty[stages] (one arrival per consumer thread). A hang
// report names them (KernelSpec::pipeline_barriers).
struct PipelineBarriers {
  std::int64_t stages = 0;
  ir::Stmt encode(const ir::Buffer& barriers) const;
  static std::optional<PipelineBarriers> decode(const ir::AnnotateNode& a);  // nullopt: another annotation
};

// The threads that run a body: `warp_role(first_thread=, threads=, barrier=)` around it, whole
// warpgroups; the role's block-wide barrier is named barrier `barrier` (0: __syncthreads).
struct WarpRole {
  std::int64_t first_thread = 0, threads = 0, barrier = 0;
  ir::Stmt encode(ir::Stmt body) const;
  static std::optional<WarpRole> decode(const ir::ScopedNode& s);  // nullopt: another scope
};

// Expands the Pipelined loop that a `warp_specialization` record stands before (sm_90a, TMA; idle
// for every other kernel). The kernel gains a producer warpgroup of 128 threads after the
// program's own; the loop's staged tiles, their placement records and the mbarriers move before
// both roles, which share them.
//   * Before the roles: `tx == 0` initializes the mbarriers; a block barrier.
//   * Registers: when the plan moves registers to the consumers, each role's body starts with
//     setmaxnreg (`tl.setmaxnreg_dec[40]` for the producer, `_inc` or `_dec` to the plan's
//     consumer_registers for the consumers, from what the launch's occupancy gives a thread).
//   * Producer role (`warp_role(first_thread=consumers, threads=128)`): its first warp keeps a
//     count of the loads it issued, `loads_issued`; per grid point one elected thread runs
//     the loop: load i = loads_issued + (k - min) uses stage i % stages (computed once, into the
//     scalar `stage`, before the wait: after it, the division would delay the refill) in round
//     i / stages, waits
//     until the consumers released that stage (empty[stage], skipped in the first round), announces
//     the stage's bytes (full[stage]) and issues each tile's TMA loads, one per 128-byte panel
//     (`tl.tma_load`, its tensor map recorded as `tensor_map` in kernel-parameter order). Last, it
//     waits (with mbarrier_wait's timeout) until the consumers released the last `stages` loads, so
//     that a pipeline that stops ends in a hang report, not a hang.
//   * Consumer role (`warp_role(first_thread=0, threads=consumers, barrier=1)`): the program, its
//     block barriers a named barrier over the consumers; the loop a serial loop over the same k
//     whose iteration waits for full[stage] (lean), runs the consumers on
//     `stage(stages_used % stages, ...)` and releases empty[stage]. Shared tiles read-only in the loop
//     are fenced for the async proxy once before it (`async_proxy_ready` holds them and the stages).
//     The GEMM main loop's gemm (overlap wgmma_async) becomes its device calls
//     (ops::wgmma_async_calls): each iteration releases the previous one's stage after its group
//     completed, the last after the drain. Warpgroup turns (the plan's `turns`): the two gemms
//     issue only, between acquire and release of the turn, the carried one's wait comes with the
//     next iteration's first gemm and after the loop.
//   * Wait for consumers: the producer starts each grid point's loads at a named barrier the
//     consumers arrive at when they reach the loop.
//   * T::persistent: each role's per-point part runs in `grid_points()`; the load and use counts
//     carry over from point to point.
// The plan's occupancy becomes the kernel's `min_blocks_per_sm` record, the shared memory total
// grows by the mbarriers.
//
//   before:  T.annotate("warp_specialization", blocks_per_sm=2, ..., tma_loads=[0, 1])
//            for k in T.Pipelined(32, num_stages=3):
//                T.copy(A[...], A_shared); T.copy(B[...], B_shared); T.gemm(A_shared, B_shared, C_local, ...)
//   after:   if tx == 0: ... T.tl.mbarrier_init(mbarriers[s], 1) ...
//            with T.warp_role(first_thread=128, threads=128):
//                T.tl.setmaxnreg_dec[40]()
//                if tx / 32 == 4:
//                    ... if T.tl.elect_one(): for k_1 in T.serial(32):
//                        stage = T.alloc_var("int32"); stage[0] = (loads_issued[0] + k_1) % 3
//                        with T.stage(stage[0], A_shared[0, 0], B_shared[0, 0]): ...
//                        T.tl.mbarrier_arrive_expect_tx(mbarriers[stage[0]], 16384)
//                        T.tl.tma_load(A_shared[0, 0], A[by * 128, k_1 * 32], mbarriers[...], map=0) ...
//            with T.warp_role(barrier=1, first_thread=0, threads=128):
//                T.tl.setmaxnreg_inc[216]()
//                ... for k in T.serial(32): with T.stage(stages_used[0] % 3, A_shared[0, 0], B_shared[0, 0]):
//                        T.tl.mbarrier_wait_lean(mbarriers[stages_used[0] % 3], stages_used[0] / 3 & 1)
//                        T.tl.gemm_ss_wgmma_async[128, 128, 32, 4, 1, False, False, "float16", "float32"](...)
//                        if k > 0: T.tl.mbarrier_arrive(mbarriers[3 + (stages_used[0] + 2) % 3]) ...
ir::PrimFunc specialize_warps(const ir::PrimFunc& func);

}  // namespace tilescale::passes
