#pragma once

#include "ir/IR.h"

namespace tilescale::passes {

// Decides how the warps of the block split each gemm's C tile (attrs warps_m, warps_n), from the
// gemm's policy and the block size, for the CUDA backend. Square makes the warp tiles as square as
// the shapes allow; FullRow stacks all warps along M; FullCol along N. Register operands override
// the policy: a gemm whose B is a fragment (gemm_sr) stacks its warps along N (each warp needs whole
// columns of B); one whose A is a fragment (gemm_rs, e.g. attention's P·V) along M; so does every
// other gemm of a kernel with register operands, because a register operand must be laid out as an
// accumulator with one warp column (A: M x K; B read as B^T: N x K). Gemms into the same C follow
// the one with a register operand.
//
//   before:  T.gemm(A_shared, B_shared, C_local, policy=0, ...)                   (threads=128)
//   after:   T.gemm(A_shared, B_shared, C_local, policy=0, warps_m=2, warps_n=2, ...)
//
// On Hopper (sm >= 90) a square-policy gemm of 16-bit shared tiles into a float32 fragment, in a
// kernel without register operands, takes one warp per 16 rows (warps_m = M / 16, whole
// warpgroups of 64 rows) when the shapes allow, and is marked wgmma=1: the code generator then
// lowers it to tl::gemm_ss_wgmma (device/tilescale/gemm_sm90.h), whose accumulator layout is the
// mma.sync one for exactly this arrangement.
//
// CompileError when no arrangement fits (each warp needs a multiple of 16 rows and 16 columns),
// when a gemm has both operands in registers, and when a gemm with A in registers and one with B
// in registers accumulate into the same C over more than one warp.
ir::PrimFunc plan_gemm_warps(const ir::PrimFunc& func, int sm);

}  // namespace tilescale::passes
