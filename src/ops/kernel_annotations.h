// The user's annotations of a kernel, as typed records: T::use_swizzle, T::min_blocks_per_sm and
// T::persistent (include/tilescale/lang.h). The front end encodes each as an Annotate statement in
// the kernel body; the backends decode it. One encode and one decode per record, and nothing else
// reads their keys (the printer only spells `swizzle` as TileLang's T.use_swizzle).
//
//   T::use_swizzle(8, true)   ->  T.use_swizzle(panel_size=8, order="col")    BlockSwizzle{8, true}
//   T::min_blocks_per_sm(2)   ->  T.annotate("min_blocks_per_sm", blocks=2)    MinBlocksPerSm{2}
//   T::persistent()           ->  T.annotate("persistent")                     Persistent{}
#pragma once

#include <cstdint>
#include <optional>

#include "ir/IR.h"

namespace tilescale::ops {

// Block rasterization: consecutive blocks walk panels `panel_size` blocks wide, along columns when
// `column_major`, so that blocks running together share operand tiles in L2.
struct BlockSwizzle {
  std::int64_t panel_size = 0;
  bool column_major = false;
  ir::Stmt encode() const;
  static std::optional<BlockSwizzle> decode(const ir::AnnotateNode& a);  // nullopt: another annotation
};

// `__launch_bounds__(threads, blocks)`: at least `blocks` blocks resident per SM.
struct MinBlocksPerSm {
  std::int64_t blocks = 0;
  ir::Stmt encode() const;
  static std::optional<MinBlocksPerSm> decode(const ir::AnnotateNode& a);  // nullopt: another annotation
};

// One block per SM slot, each walking the grid points.
struct Persistent {
  ir::Stmt encode() const;
  static std::optional<Persistent> decode(const ir::AnnotateNode& a);  // nullopt: another annotation
};

}  // namespace tilescale::ops
