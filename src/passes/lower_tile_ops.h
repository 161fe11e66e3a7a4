// lower_tile_ops: the tile ops that have a thread-level form become it.
#pragma once

#include "ir/IR.h"

namespace tilescale::passes {

// Replaces each tile op whose definition gives a thread-level form (TileOpDef::thread_level,
// ops/tile_op.h) with it: today the gemm, as its device call (tl.gemm_ss, tl.gemm_rs_wgmma...),
// after a T.fill of its accumulator when it clears it and, on wgmma, after the fence and barrier
// that hand shared operands to the async proxy unless an async_proxy_ready scope says they are
// visible to it. lower_to_threads lowers the other ops, after the barriers are placed. After
// plan_copies, before insert_barriers (which sees the gemm's barrier).
//
//   before:  T.gemm(A_shared, B_shared, C_local, A_major="K", B_major="MN", clear_accum=0, policy=0, warps_m=2, warps_n=2)
//   after:   T.tl.gemm_ss[128, 128, 32, 2, 2, False, False, "float16", "float32"](A_shared[0, 0], B_shared[0, 0], C_local[0, 0])
ir::PrimFunc lower_tile_ops(const ir::PrimFunc& func, int sm);

}  // namespace tilescale::passes
