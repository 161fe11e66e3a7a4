// plan_parallel_loops: which thread runs which elements of each T::Parallel nest, checked for
// every thread before any code is printed.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ir/IR.h"
#include "layout/layout.h"

namespace tilescale::passes {

// A fragment element that a Parallel nest's body reads or writes.
struct FragmentAccess {
  const void* node;  // the Load or Store
  const ir::BufferNode* buffer;
  std::vector<ir::Expr> index;
};

// Perfectly nested Parallel loops from `outer`, their body and the body's fragment accesses.
// CompileError for a Parallel loop inside the body.
struct ParallelNest {
  explicit ParallelNest(const ir::ForNode& outer);
  std::vector<const ir::ForNode*> loops;
  ir::Stmt body;
  std::vector<FragmentAccess> accesses;
};

// What a nest runs over: the elements each thread holds of `layout` (the anchor fragment's, or the
// default partition of the nest's extents over the threads), `name` naming it in messages.
struct ParallelAnchor {
  std::shared_ptr<const layout::Fragment> layout;
  std::string name;
};

// The register of `access` (a fragment of layout `holder`) while the thread `thread_var` stands for
// visits register `reg` of the anchor: the same constant in every thread that owns the element, or
// nullopt when it differs between threads (the generator then indexes the array at run time).
// CompileError when some thread would read an element it does not hold (saying which thread, which
// element, and whether the layouts or only the index differ) or an index depends on more than the
// loop variables. Threads 0 .. threads-1 are enumerated.
std::optional<std::int64_t> access_register(const ParallelNest& nest, const FragmentAccess& access, const layout::Fragment& holder,
                                            const ParallelAnchor& anchor, std::int64_t reg, int threads, const ir::Var& thread_var);

// Wraps every Parallel nest of a CUDA kernel in `parallel_over(...)`: the nest runs over the
// registers of its anchor, the first fragment indexed with exactly the loop variables (a replicated
// one only when no other is: every thread then visits every element), named by its first element;
// without one, over the default partition of its extents over the threads that run it (the kernel's,
// or its warp role's), `parallel_over(threads=128)`. Then it checks, for every thread and register,
// that each fragment access lands in a register the thread holds (access_register): a conflict is a
// CompileError here, before any code is printed. After infer_fragment_layouts and the expansions
// (a loop's threads are its role's); the generator prints the nest from the scope.
//
//   before:  for i, j in T.Parallel(128, 128):
//                acc_s[i, j] = acc_s[i, j] * scale
//   after:   with T.parallel_over(acc_s[0, 0]):
//                for i, j in T.Parallel(128, 128):
//                    acc_s[i, j] = acc_s[i, j] * scale
ir::PrimFunc plan_parallel_loops(const ir::PrimFunc& func);

}  // namespace tilescale::passes
