// expand_pipelines: each multistage Pipelined loop that plan_pipelines scheduled and
// specialize_warps left to the block's own threads becomes a cp.async pipeline in thread-level IR.
#pragma once

#include "ir/IR.h"

namespace tilescale::passes {

// Expands each Pipelined loop with a `pipeline` schedule (passes/plan_pipelines.h) that is still
// a loop; the schedule is spent. With S stages and the schedule's `ahead` A, inside a
// `pipeline()` scope:
//   * Prologue: iterations 0 .. A-1's producers, each into its stage, one cp.async group per
//     iteration (`tl.cp_async_commit`, also for an iteration past the end: the group count stays
//     fixed).
//   * The loop, now serial over the same variable k: wait until at most A - 1 groups are pending
//     (iteration k's stage has landed) and a block barrier (no thread still reads the stage that
//     iteration k + A overwrites), issue iteration k + A's producers and commit, then the consumers
//     on stage (k - min) % S.
//   * After the loop every group is complete (`tl.cp_async_wait[0]`).
// The producers are the loop's copies under `bind(k_1, value, min, extent)` (the loop variable of
// another iteration; the printer knows it stays in the loop's range), `stage(index, tiles...)`
// and `async_copies()` (copies issued as cp.async, complete at a later wait). The consumers' stage
// overlap (the schedule's): mma_fragments splits the gemm at the stage boundary into device calls
// on a register array it allocates before the loop (ops::prefetched_calls: first before the loop,
// after that iteration's wait and barrier; the loop's wait and barrier then move between head and
// tail); wgmma_async issues each iteration's wgmma group and waits for the
// previous one (ops::wgmma_async_calls, the drain after the loop), the stage fenced for the async
// proxy after its wait.
//
//   before:  T.annotate("pipeline", ahead=2, consumers=[1], overlap="none", producers=[0])
//            for k in T.Pipelined(8, num_stages=3):
//                T.copy(A[0 : +128, k * 32 : +32], S)
//                for i, j in T.Parallel(128, 32): acc[i, j] = acc[i, j] + T.cast(S[i, j], "float32")
//   after:   with T.pipeline():
//                for s in T.serial(2):
//                    if s < 8:
//                        with T.bind(k, s, 0, 8):
//                            with T.stage(k % 3, S[0, 0]):
//                                with T.async_copies():
//                                    T.copy(A[0 : +128, k * 32 : +32], S)
//                    T.tl.cp_async_commit()
//                for k_1 in T.serial(8):
//                    T.tl.cp_async_wait[1]()
//                    T.tl.syncthreads()
//                    if k_1 + 2 < 8:
//                        with T.bind(k_2, k_1 + 2, 0, 8): ... (the copy of iteration k_2 into stage k_2 % 3)
//                    T.tl.cp_async_commit()
//                    with T.stage(k_1 % 3, S[0, 0]):
//                        for i, j in T.Parallel(128, 32): acc[i, j] = acc[i, j] + T.cast(S[i, j], "float32")
//                T.tl.cp_async_wait[0]()
ir::PrimFunc expand_pipelines(const ir::PrimFunc& func);

}  // namespace tilescale::passes
