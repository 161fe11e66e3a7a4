// The gemm's typed record: operand majorness and the plan the CUDA backend lowers it by.
//
// Majorness says which dimension of an operand tile is contiguous: A is K-major as [M, K] and
// MN-major as [K, M]; B is MN-major as [K, N] and K-major as [N, K]. The user's transpose flags
// mean opposite majorness for A and B (transpose_A: A is MN-major; transpose_B: B is K-major), so
// make_gemm resolves them once and everything below (plan, fragment layouts, lowering, the CPU
// reference) reads Major. Only device_trans maps Major back to the device gemms' TRANS_A/TRANS_B
// template parameters (device/tilescale/gemm_sm80.h, gemm_sm90.h), which keep the user's
// convention.
//
// GemmPlan lives in the gemm's attrs (so `tilescale dump --after` shows it): make_gemm writes the
// majorness, plan_tile_ops (the gemm's plan hook, gemm.cc) the warp split and the instruction.
// GemmPlan::encode/decode are the only code that reads or writes those keys.
//
//   after make_gemm:       T.gemm(A_shared, B_shared, C_local, A_major="K", B_major="MN", clear_accum=0, policy=0)
//   after plan_tile_ops:   T.gemm(..., A_major="K", B_major="MN", ..., warps_m=4, warps_n=1, wgmma=1)
#pragma once

#include <optional>

#include "ir/IR.h"

namespace tilescale::ops {

enum class Major { K, MN };
enum class GemmOperand { A, B };

// The user's transpose flag of an operand (transpose_A / transpose_B) as its majorness.
Major major_of(GemmOperand operand, bool transposed);
// The device gemms' TRANS_A / TRANS_B template argument for an operand of majorness `major`: the
// inverse of major_of (TRANS_A: A is [K, M]; TRANS_B: B is [N, K]).
bool device_trans(GemmOperand operand, Major major);

// Warp policies, as lang::GemmWarpPolicy numbers them (attr "policy").
enum class GemmPolicy { Square = 0, FullRow = 1, FullCol = 2 };

struct GemmPlan {
  int warps_m = 0, warps_n = 0;  // the warp grid over C; 0 until plan_tile_ops
  bool wgmma = false;            // tl::gemm_*_wgmma (Hopper) rather than mma.sync
  Major a = Major::K, b = Major::MN;

  bool planned() const { return warps_m > 0; }
  // The attrs that record this plan (the warp keys only once planned; wgmma only when set).
  ir::Attrs encode() const;
  // The plan recorded in a gemm's attrs; InternalError when `op` is not a gemm.
  static GemmPlan decode(const ir::TileOpNode& op);
};

// The plan of `op` when it is a gemm, nullopt for any other tile op.
std::optional<GemmPlan> as_gemm(const ir::TileOpNode& op);
// Whether gemm `op` overwrites C (clear_accum) rather than accumulating into it.
bool clears_accumulator(const ir::TileOpNode& op);

// The GEMM main loop's gemm on mma.sync as a cp.async pipeline expands it (stage overlap
// mma_fragments, passes/expand_pipelines.h): the operand fragments of the next k step are loading
// while the current one's mma's issue, across the stage boundary too, in a register array carried
// from iteration to iteration (`fragments`, uint32 words, allocated before the loop). The gemm
// becomes three device calls (gemm_sm80.h):
//   first  before the loop: k step 0 of the first stage into the fragments
//   head   in each iteration: the mma's of every k step but the last, each loading the next one's
//   tail   after the barrier that ends the stage: the last k step's mma's while k step 0 of the next
//          stage loads (the stage scope around it names the next stage)
//   T.tl.gemm_ss_prefetched_head[128, 128, 32, 2, 2, False, False, "float16", "float32"](A_shared[0, 0], B_shared[0, 0], C_local[0, 0], C_local_prefetched[0])
struct PrefetchedCalls {
  ir::Buffer fragments;
  ir::Stmt first, head, tail;
};
PrefetchedCalls prefetched_calls(const ir::TileOpNode& gemm);

// A wgmma gemm as a pipelined loop issues it (passes/specialize_warps.h, passes/expand_pipelines.h).
//
// The GEMM main loop's gemm (the stage overlap wgmma_async: an accumulating gemm_ss of two staged
// tiles) becomes two device calls: `issue` issues the iteration's wgmma group and waits for the
// previous iteration's, `drain` (after the loop) waits for the last one.
//   T.tl.gemm_ss_wgmma_async[128, 128, 32, 4, 1, False, False, "float16", "float32"](A_shared[0, 0], B_shared[0, 0], C_local[0, 0])
//   T.tl.gemm_ss_wgmma_drain[128, 128, 32, 4, 1, False, False, "float16", "float32"](C_local[0, 0])
struct WgmmaAsyncCalls {
  ir::Stmt issue, drain;
};
WgmmaAsyncCalls wgmma_async_calls(const ir::TileOpNode& gemm);
// The gemm lowered to issue its wgmma group without waiting for it (warpgroup turns; the caller
// waits with tl.wgmma_wait and fences the registers): the op with `wgmma_issue_only=1`.
ir::Stmt wgmma_issue_only(const ir::TileOpNode& gemm);

}  // namespace tilescale::ops
