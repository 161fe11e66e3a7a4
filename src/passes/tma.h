// Moving shared tiles with the Tensor Memory Accelerator (sm_90, device/tilescale/tma.h).
//
// A T::copy between a global tensor and a whole shared tile goes by TMA when one box per 128-byte
// column panel of the tile moves exactly the layout the code generator addresses it with
// (tl::swizzle, device/tilescale/swizzle.h):
//   * the copy's non-unit extents are the tile's shape, its innermost extent the tile's last
//     dimension, no conversion (same dtype), and the tensor has at most 5 dimensions;
//   * the tile's rows are whole 16-byte chunks. Rows of 32 and 64 bytes use the TMA swizzle of
//     that width, rows of a multiple of 128 bytes the 128-byte swizzle with one box per panel (its
//     innermost coordinate advancing by a panel), and other rows no swizzle (at most 256 elements);
//   * every box dimension is at most 256 elements;
//   * tile, stages and panels start on the swizzle's pattern boundary (8 rows: 1024, 512, 256
//     bytes; 128 bytes unswizzled).
// Loads fill elements outside the tensor with zeros, which is what the cp.async path does with its
// predicates, and stores drop them, so ragged edges need no code.
//
// The runtime builds each tensor map at launch from the tensor's actual shape and strides
// (KernelSpec::tensor_maps); when it cannot (strides that are not multiples of 16 bytes), the
// kernel is run from its cp.async variant instead (src/runtime/kernel.cc).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <vector>

#include "ir/IR.h"

namespace tilescale::passes {

// A TMA tensor map over tensor parameter `param` (its index in PrimFuncNode::params): boxes of `box`
// elements, innermost dimension first (one per tensor dimension), loaded with a `swizzle_bytes`
// swizzle (0, 32, 64 or 128). The runtime encodes it at launch (KernelSpec::tensor_maps).
// A kernel that loads by TMA records each of its tensor maps, in kernel-parameter order, as
// `annotate("tensor_map", param=0, box=[32, 128], swizzle=64)` (passes/specialize_warps.h); a
// `tl.tma_load` names its map by that order (its attr `map`).
struct TensorMapSpec {
  int param = 0;
  std::vector<std::int64_t> box;
  int swizzle_bytes = 0;
  ir::Stmt encode() const;
  static std::optional<TensorMapSpec> decode(const ir::AnnotateNode& a);  // nullopt: another annotation
};

struct TmaCopy {
  TensorMapSpec map;
  std::int64_t panels = 1;       // boxes per tile
  std::int64_t panel_cols = 0;   // tile columns per box: the innermost coordinate's step
  std::int64_t panel_elems = 0;  // tile elements per box: the shared-memory step
  std::int64_t bytes = 0;        // the whole tile, out-of-tensor fill included (what a load's mbarrier expects)
};

// The TMA load or store for `copy` between a global tensor and a shared tile placed at byte
// `offset` whose stages lie `stage_bytes` apart (loads: global -> shared; stores: shared ->
// global); nullopt, with the reason in `why`, when the copy does not qualify.
std::optional<TmaCopy> plan_tma_copy(const ir::PrimFunc& func, const ir::TileOpNode& copy, std::int64_t offset,
                                     std::int64_t stage_bytes, std::string& why);

// The tensor coordinates of box `panel` of a planned copy whose global side is `global`, innermost
// first and as int32, as tl::tma_load_Nd and tl::tma_store_Nd take them.
std::vector<ir::Expr> tma_box_coords(const ir::Region& global, const TmaCopy& plan, std::int64_t panel);

}  // namespace tilescale::passes
