// make_persistent: a T::persistent kernel's blocks each walk several grid points.
#pragma once

#include "ir/IR.h"

namespace tilescale::passes {

// Wraps the body of a kernel with a `persistent` record in `grid_points()`, followed by a block
// barrier (the next point's body starts over with the same shared memory): the CUDA generator
// prints it as a loop of each block over the points blockIdx.x, + gridDim.x, ... with the block
// indices computed from the point. A warp-specialized kernel has its grid points already
// (specialize_warps puts each role's per-point part in one); a distributed kernel cannot be
// persistent (its blocks wait on their peers' blocks by block index) and gets a CompileError.
// Idle for every other kernel.
//
//   before:  with T.Kernel(64, 64, 1, threads=128) as (bx, by, bz):
//                T.persistent()
//                <body>
//   after:   with T.Kernel(64, 64, 1, threads=128) as (bx, by, bz):
//                with T.grid_points():
//                    T.persistent()
//                    <body>
//                    T.tl.syncthreads()
ir::PrimFunc make_persistent(const ir::PrimFunc& func);

}  // namespace tilescale::passes
