// The whole verification of a tile program: the IR's structure (ir::verify, src/ir/verifier.h) and,
// at their places in the same walk, the rules of the ops, which the IR cannot know:
//  * tile ops verified by their definitions (TileOpDef::verify, tile_op.h); no tile op inside a
//    T::Parallel loop except the element-wise T::atomic_add;
//  * builtin calls verified by their definitions (verify_builtin, builtin.h) and placed as their
//    scope allows: block-scope ones in block-uniform code with block-uniform arguments, warp- and
//    block-scope ones outside T::Parallel loops;
//  * each kernel keeps the thread-level rules (ThreadLevel::check, thread_level.h): no tile op or
//    T::Parallel loop under control flow that diverges between threads, nor reading what varies;
//  * messages name ops as the user wrote them ("T::reduce_max", "T::copy from A[...] to B").
//
// CompileError for the first mistake met. The front end calls it when it finishes a prim_func (the
// mistake is the user's), the pipeline after every pass in builds with TILESCALE_VERIFY_PASSES (a
// failure there is the pass's bug: src/pipeline.h).
#pragma once

#include "ir/IR.h"

namespace tilescale::ops {

void verify_program(const ir::PrimFunc& func);

}  // namespace tilescale::ops
