// Which block-visible memory a statement reads and writes: the access interface that barrier
// placement works against (passes/insert_barriers.h). Threads exchange data through shared memory
// and global tensors, so only buffers of those scopes count. A tile op's accesses come from its definition (reads_region and
// writes_region, tile_op.h), a device call's from its operand roles (device_builtins.h); a
// language builtin (builtin.h: puts, signals, waits) reaches memory beyond its operands, so a
// statement that calls one conflicts with any statement that touches memory.
//
// Copies in an `async_copies` scope (cp.async, passes/expand_pipelines.h) complete at a later
// wait, and the pipeline that issues them orders them: it waits for a stage and has the block meet
// at a barrier before any thread reads it, and overwrites a stage only after a barrier that follows
// its last read. So they count as accesses of a statement that holds their whole `pipeline` scope
// (what runs before and after the pipeline is ordered against them), and not of a part of it.
//
//   MemoryAccess a = access_of(copy_A_to_A_shared), b = access_of(gemm_reading_A_shared);
//   hazard(a, b, aliases)   // true: b reads what a writes, so a barrier goes between them
#pragma once

#include <map>
#include <set>

#include "ir/IR.h"

namespace tilescale::ops {

struct MemoryAccess {
  std::set<const ir::BufferNode*> reads, writes;
  bool builtin = false;  // calls a language builtin
  bool touches_memory() const { return builtin || !reads.empty() || !writes.empty(); }
  void merge(const MemoryAccess& o);
};

MemoryAccess access_of(const ir::Stmt& s);

// For each shared buffer, the others placed over some of its bytes (plan_shared_memory gives a dead
// buffer's memory to a later one): a barrier orders accesses to memory, not to names.
using Aliases = std::map<const ir::BufferNode*, std::set<const ir::BufferNode*>>;

// Whether `after` must wait at a barrier for `before`: it reads or writes what `before` wrote, or
// writes what `before` read, counting aliases; or either calls a language builtin while the other
// touches memory.
bool hazard(const MemoryAccess& before, const MemoryAccess& after, const Aliases& aliases);

}  // namespace tilescale::ops
