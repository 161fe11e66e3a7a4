#pragma once

#include "ir/IR.h"

namespace tilescale::passes {

// Records each tile op's decisions for the CUDA backend in its attrs by calling its definition's
// `plan` hook (ops/tile_op.h) with the kernel around it and the target; ops without one are left
// as they are. Today the gemm has one (ops/gemm.cc): how the block's warps split its C tile, from
// its policy, its register operands and those of the other gemms of the kernel, and on Hopper
// (sm >= 90) whether it runs on wgmma -- its GemmPlan (ops/gemm.h).
//
//   before:  T.gemm(A_shared, B_shared, C_local, A_major="K", B_major="MN", clear_accum=0, policy=0)   (threads=128)
//   after:   T.gemm(A_shared, B_shared, C_local, A_major="K", B_major="MN", clear_accum=0, policy=0, warps_m=2, warps_n=2)
//
// CompileError from a hook when no plan fits (for the gemm: no warp split, both operands in
// registers, or a gemm with A in registers and one with B in registers into the same C).
ir::PrimFunc plan_tile_ops(const ir::PrimFunc& func, int sm);

}  // namespace tilescale::passes
