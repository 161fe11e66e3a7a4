#pragma once

#include "ir/IR.h"

namespace tilescale::passes {

// Puts a block barrier, `T.tl.syncthreads()` (device_builtins.h), between statements of
// block-uniform control flow where the later one reads or writes shared or global memory that an
// earlier one since the last barrier wrote, or writes what it read (ops/memory_access.h: hazards
// are between bytes, so a shared buffer placed over a dead one's bytes waits for that one's
// accesses; a language builtin conflicts with any memory access), and at the end of a loop body
// when what it did since its last barrier conflicts so with what the next iteration does before its
// first. A barrier already in the program (one a pass placed) counts. Nothing is placed inside
// control flow that diverges between threads, nor inside T::Parallel loops (their elements are
// independent); a branch's accesses count after the If, and a loop's after the loop, as if it might
// not have run. A cp.async pipeline's copies are its own to order (ops/memory_access.h), its
// consumers' accesses are placed like any others. CUDA only, after plan_shared_memory (the aliases
// come from its placements) and the expansions (warp roles, pipelines); the generator prints the
// barrier as __syncthreads, or as the role's named barrier in a warp role.
//
//   before:  T.copy(A[by * 64 : +64, 0 : +64], A_shared)
//            for i, j in T.Parallel(64, 64):
//                B[by * 64 + i, j] = A_shared[j, i]
//   after:   T.copy(A[by * 64 : +64, 0 : +64], A_shared)
//            T.tl.syncthreads()
//            for i, j in T.Parallel(64, 64):
//                B[by * 64 + i, j] = A_shared[j, i]
ir::PrimFunc insert_barriers(const ir::PrimFunc& func);

}  // namespace tilescale::passes
