// Reading the passes' records back (each record's own decode reads its keys; these find them).
#pragma once

#include <map>
#include <vector>

#include "ir/IR.h"
#include "passes/plan_shared_memory.h"

namespace tilescale::passes {

// Every shared buffer's placement (plan_shared_memory's SharedPlacement records) in `body`.
std::map<const ir::BufferNode*, SharedPlacement> shared_placements(const ir::Stmt& body);

// The statement that a record at stmts[i] stands before (a pipeline schedule or warp
// specialization plan before its loop, a TMA store plan before its copy): the next statement that
// is neither another record nor a device call (insert_barriers may put a barrier between them);
// null when there is none.
ir::Stmt statement_after(const std::vector<ir::Stmt>& stmts, size_t i);

}  // namespace tilescale::passes
