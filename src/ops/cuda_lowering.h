// Building blocks shared by the tile ops' lowerings to thread-level IR (TileOpDef::lower_to_threads): walking a tile over the block's threads,
// walking a fragment's registers, addressing a region at a tile index, bounds predicates.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "ops/thread_lowering.h"
#include "ir/IR.h"

namespace tilescale::ops::cuda_lowering {

// The region's extents as constants; CompileError naming the op when one is not.
std::vector<std::int64_t> const_extent(const ir::Region& r, const char* op);
// Extents other than 1 (the tile's shape up to unit dimensions).
std::vector<std::int64_t> squeezed(const std::vector<std::int64_t>& extent);

// The index into `r`'s buffer of the tile element `tile` (a squeezed index: one entry per non-unit
// extent of r).
std::vector<ir::Expr> region_index(const ir::Region& r, const std::vector<ir::Expr>& tile);
// Whether that element (and the `vec` - 1 after it along the last dimension) lies inside a global
// tensor; null for other scopes, where regions always lie inside.
ir::Expr inside(ThreadLowering& ctx, const ir::Region& r, const std::vector<ir::Expr>& tile, std::int64_t vec = 1);
ir::Expr all_of(const std::vector<ir::Expr>& conds);  // null when empty

// `body(tile_index)` for every element of a tile of `shape`, vectors of `vec` consecutive elements
// along the last dimension dealt round-robin to the threads, as thread-level IR: each thread's
// vectors one after the other, each in a `bind` scope naming its first element `v` (with its
// range, for ThreadLowering::provably), `tile_index` pointing at it. `compact`
// gives them as one loop kept rolled instead (ir::ForKind::Rolled: for rarely taken fallbacks).
// `registers`: `body(reg, tile_index)` for every `step`-th register of fragment `b` (tile_index is
// the element it holds, in squeezed form), under the register's guard where it may be unused.
ir::Stmt vectors(ThreadLowering& ctx, const std::vector<std::int64_t>& shape, std::int64_t vec,
                 const std::function<ir::Stmt(const std::vector<ir::Expr>& tile)>& body, bool compact = false);
ir::Stmt registers(ThreadLowering& ctx, const ir::BufferNode& b,
                   const std::function<ir::Stmt(std::int64_t reg, const std::vector<ir::Expr>& tile)>& body, std::int64_t step = 1);
// `s` under `cond`; `s` itself when cond is null (no condition).
ir::Stmt guarded(const ir::Expr& cond, ir::Stmt s);
// `value` as dtype `to` (itself when it has that dtype).
ir::Expr converted(const ir::Expr& value, DataType to);
// `value` where `in` holds, else zero of its dtype; `value` itself when `in` is null (always).
ir::Expr or_zero(const ir::Expr& in, const ir::Expr& value);

// CompileError unless `r` covers fragment `r.buffer` whole (fragments are used as a unit).
void require_whole_fragment(const ir::Region& r, const char* op);

}  // namespace tilescale::ops::cuda_lowering
