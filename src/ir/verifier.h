// The verifier: is this PrimFunc a well-formed tile program?
//
// It runs when the front end finishes a prim_func (a failure is the user's: CompileError naming the
// op, the buffer and what to do) and between passes in builds with TILESCALE_VERIFY_PASSES (a
// failure there is the pass's bug). What it checks:
//  * exactly one Kernel, at the top level; threads a positive multiple of 32, at most 1024;
//    constant grid extents positive;
//  * parameters (global tensors and scalars) named uniquely; scalar parameters outside tensor shapes
//    and, when float32, outside grid extents (grids are computed from integers before the launch);
//  * shared/fragment/local/var buffers allocated inside the Kernel with constant positive shapes
//    (shared and fragment of rank 1 or more), used only where their Alloc is in scope: an Alloc in a
//    loop, branch or kernel body goes out of scope at the body's end; global tensors are parameters;
//  * every Load, Store and tile-op region indexes its buffer with one index per dimension;
//    tile-op regions of on-chip buffers lie inside the buffer where their bounds are constants;
//  * variables used only inside the loop or kernel that binds them; symbolic dimensions appear
//    alone in some parameter's shape, so a call can bind them;
//  * tile ops verified by their definitions (src/ops); no tile op inside a Parallel loop except
//    element-wise atomic_add; Parallel extents positive constants; Break inside a serial loop or
//    While; Pipelined order/stage lists of one entry per body statement;
//  * a layout annotation's layout has its buffer's shape;
//  * builtin calls (the distributed operators) inside the Kernel, verified by their definitions
//    (src/ops/builtin.h), placed as their scope allows: block-scope ones in block-uniform code with
//    block-uniform arguments, warp- and block-scope ones outside T::Parallel loops.
#pragma once

#include <cstddef>

#include "ir/IR.h"

namespace tilescale::ir {

void verify(const PrimFunc& func);

// CompileError unless `buffer` is indexed with one index per dimension. `what` says where
// ("T::copy", "a load", ...).
void check_rank(const BufferNode& buffer, std::size_t num_indices, const char* what);

}  // namespace tilescale::ir
