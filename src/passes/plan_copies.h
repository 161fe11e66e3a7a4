// plan_copies: which instructions move each T::copy's elements on CUDA.
#pragma once

#include "ir/IR.h"

namespace tilescale::passes {

// Records in each copy's attrs its CopyPlan (ops/copy.h), decided from its operands, the
// fragments' layouts and the threads that run it (the kernel's, or its warp role's): 16-byte (or
// narrower) vectors where the last dimensions allow, cp.async for global -> shared, register
// vectors for fragment <-> memory where every thread's registers hold consecutive elements,
// stmatrix.x4 for a fragment -> 16-bit shared tile on sm_90 when the registers form the mma
// accumulator's 8x8 matrices. After the expansions (a TMA load or store is no longer a copy) and
// plan_parallel_loops.
//
//   before:  T.copy(A[by * 128 : +128, k * 32 : +32], A_shared)
//   after:   T.copy(A[by * 128 : +128, k * 32 : +32], A_shared, path="cp_async", vector=8)
ir::PrimFunc plan_copies(const ir::PrimFunc& func, int sm);

}  // namespace tilescale::passes
