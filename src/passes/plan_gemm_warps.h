#pragma once

#include "ir/IR.h"

namespace tilescale::passes {

// Decides how the warps of the block split each gemm's C tile (attrs warps_m, warps_n), from the
// gemm's policy and the block size, for the CUDA backend. Square makes the warp tiles as square as
// the shapes allow; FullRow stacks all warps along M; FullCol along N. A kernel with a gemm whose A
// operand is a fragment (gemm_rs, e.g. attention's P·V) stacks every gemm's warps along M, because
// the register operand must be laid out as an accumulator of the same warp arrangement.
//
//   before:  T.gemm(A_shared, B_shared, C_local, policy=0, ...)                   (threads=128)
//   after:   T.gemm(A_shared, B_shared, C_local, policy=0, warps_m=2, warps_n=2, ...)
//
// CompileError when no arrangement fits (each warp needs a multiple of 16 rows and 16 columns).
ir::PrimFunc plan_gemm_warps(const ir::PrimFunc& func);

}  // namespace tilescale::passes
