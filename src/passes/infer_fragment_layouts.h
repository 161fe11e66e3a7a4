#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "ir/IR.h"
#include "layout/gemm_fragments.h"
#include "layout/layout.h"

namespace tilescale::passes {

// infer_fragment_layouts' decision for one fragment, recorded in the IR as
// `annotate("fragment_layout", buf, <Fragment>, family=, M=, warps_m=, warps_n=)` right after its
// Alloc: one encode, one decode, and nothing else reads its keys.
struct FragmentLayoutRecord {
  std::shared_ptr<const layout::Fragment> layout;
  std::string family;  // mma_accumulator, mma_accumulator_transposed, mma_rows, partition, replicated
  std::int64_t M = 0;  // the mma families: the rows of the gemm tile they come from
  int warps_m = 0, warps_n = 0;  // the mma families: its warp grid
  // The mma families: how the rows are dealt to the warps; printed (warp_rows="m64_tiles") only
  // when not Contiguous.
  layout::WarpRows warp_rows = layout::WarpRows::Contiguous;
  ir::Stmt encode(const ir::Buffer& buffer) const;
  static std::optional<FragmentLayoutRecord> decode(const ir::AnnotateNode& a);  // nullopt: another annotation
};

// Gives every fragment a Fragment layout (which thread holds which element in which register),
// for the CUDA backend, in three levels as TileLang does (REFERENCE.md):
//  * strict: what an instruction dictates, as each op's strict_layouts hook says (ops/tile_op.h):
//    a gemm's C is an mma accumulator; a fragment A operand (gemm_rs) is an accumulator of the
//    same warp arrangement with one warp column; a fragment B operand (gemm_sr, one warp row)
//    holds B^T as an accumulator with the gemm's warp columns as its warp rows:
//    mma_accumulator(N, K, warps_n, 1) when read K-major, as [N][K], its transpose
//    mma_accumulator_transposed(N, K, warps_n, 1) when read as [K][N];
//  * common: propagation, as each op's layout_flow hook says — a reduce along dim 1 of an
//    accumulator yields per-row values held by the row's owners (mma_rows); a fragment-to-fragment
//    copy shares the layout; fragments a Parallel loop indexes with exactly its variables take the
//    loop's layout, and 1-D fragments indexed by its first variable take that layout's rows;
//  * free: a fragment nothing constrains gets the default partition (or is replicated, when it is
//    the result of reducing a partitioned tile); propagation then resumes.
// The result is an `annotate("fragment_layout", buf, layout)` right after each fragment's Alloc.
//
//   before:  C_local = T.alloc_fragment((128, 128), "float32")
//   after:   C_local = T.alloc_fragment((128, 128), "float32")
//            T.annotate_layout({C_local: Fragment((128, 128) -> (i, j) => thread ..., register ...)})
//
// A fragment that two ops constrain differently is a CompileError naming both ops, the buffer and
// both layouts. A T::annotate_layout on a fragment or local buffer is a CompileError too: a
// T::make_layout layout maps indices to addresses and cannot say which thread holds an element.
ir::PrimFunc infer_fragment_layouts(const ir::PrimFunc& func);

}  // namespace tilescale::passes
