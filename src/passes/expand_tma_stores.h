// expand_tma_stores: each copy that plan_tma_stores sends by TMA store becomes its thread-level
// IR: the writers' fence, a barrier, and one thread's bulk stores.
#pragma once

#include "ir/IR.h"

namespace tilescale::passes {

// Replaces each copy after a `tma_store` record (passes/plan_tma_stores.h) with: every thread
// makes its writes to the tile visible to the async proxy (`tl.fence_proxy_async`), the block
// meets at a barrier, and thread 0 issues one `tl.tma_store` per 128-byte panel of the tile
// (passes/tma.h), commits them and waits until they have read the tile (so that a later barrier
// frees it for writing again). The record becomes the store's `tensor_map` record, numbered after
// the kernel's load maps (a `tl.tma_store` names it with `map`). Parts of a box outside the tensor
// are not written.
//
//   before:  T.annotate("tma_store")
//            T.copy(C_shared, C[by * 128 : +128, bx * 128 : +128])
//   after:   T.annotate("tensor_map", box=[64, 128], param=2, swizzle=128)
//            T.tl.fence_proxy_async()
//            T.tl.syncthreads()
//            if tx == 0:
//                T.tl.tma_store(C[by * 128, bx * 128], C_shared[0, 0], map=2)
//                T.tl.tma_store(C[by * 128, bx * 128 + 64], C_shared[0, 64], map=2)
//                T.tl.tma_store_commit()
//                T.tl.tma_store_wait_read[0]()
ir::PrimFunc expand_tma_stores(const ir::PrimFunc& func);

}  // namespace tilescale::passes
