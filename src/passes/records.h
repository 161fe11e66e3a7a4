// Reading the passes' records back (each record's own decode reads its keys; these find them).
#pragma once

#include <functional>
#include <map>
#include <optional>
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

// What an expansion makes of a record and the statement after it.
struct Expanded {
  ir::Stmt record;     // in the record's place (an empty Seq: nothing)
  ir::Stmt statement;  // in the statement's place
};
// Rewrites `s` below: for each record (an Annotate) that `expand` takes, in any statement list,
// the record and the statement after it (statement_after) become what `expand` returns; nullopt
// leaves them. Lists are rewritten after their statements.
ir::Stmt expand_records(const ir::Stmt& s, const std::function<std::optional<Expanded>(const ir::AnnotateNode&, const ir::Stmt&)>& expand);

}  // namespace tilescale::passes
