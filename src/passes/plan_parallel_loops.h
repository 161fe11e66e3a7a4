// plan_parallel_loops: which thread runs which elements of each T::Parallel nest, checked for
// every thread before any code is printed.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
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
  bool write = false;  // a Store
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

// The threads that visit register `reg` of the anchor, in order, each with the loop variables'
// values it visits there (all threads 0 .. threads-1 that do, or only the first when `first_only`).
struct RegisterVisit {
  int thread;
  std::map<const ir::VarNode*, std::int64_t> loop_values;
};
std::vector<RegisterVisit> register_visits(const ParallelNest& nest, const ParallelAnchor& anchor, std::int64_t reg, int threads,
                                           const ir::Var& thread_var, bool first_only = false);

// Whether every thread that `visits` lists holds the element `access` (a fragment of layout
// `holder`) names there, its index computed from the loop variables alone.
bool held_by_visitors(const FragmentAccess& access, const layout::Fragment& holder, const std::vector<RegisterVisit>& visits);

// The register of `access` (a fragment of layout `holder`) in the threads that `visits` lists: the
// same constant in every one that owns the element, or nullopt when it differs between them (the
// expansion then indexes the array at run time). CompileError when some thread would write an
// element it does not hold (saying which thread, which element, and whether the layouts or only
// the index differ) or a written index depends on more than the loop variables; the reads that
// held_by_visitors refuses are staged instead, never asked here.
std::optional<std::int64_t> access_register(const ParallelNest& nest, const FragmentAccess& access, const layout::Fragment& holder,
                                            const ParallelAnchor& anchor, const std::vector<RegisterVisit>& visits);

// What a nest runs over, the scope around it: `parallel_over(C_local[0, 0])` (the anchor
// fragment's first element) or `parallel_over(threads=128)` (the default partition over that many
// threads), with `dynamic=[access, register, ...]` where an access's register differs between
// threads and `staged=[access, ...]` for the reads taken from a staged copy. One encode, one
// decode.
struct ParallelOver {
  ir::Expr anchor;                    // null: the default partition
  std::int64_t threads = 0;           // the default partition's threads
  std::vector<std::int64_t> dynamic;  // (access, register) pairs, accesses in ParallelNest's order
  std::vector<std::int64_t> staged;   // the reads of elements other threads hold (`staged=[...]`)
  ir::Stmt encode(ir::Stmt nest) const;
  static std::optional<ParallelOver> decode(const ir::ScopedNode& s);  // nullopt: another scope
};

// Wraps every Parallel nest of a CUDA kernel in `parallel_over(...)`: the nest runs over the
// registers of its anchor, the first fragment indexed with exactly the loop variables (a replicated
// one only when no other is: every thread then visits every element), named by its first element;
// without one, over the default partition of its extents over the threads that run it (the kernel's,
// or its warp role's), `parallel_over(threads=128)`. Then it checks, for every thread and register,
// that each fragment access lands in a register the thread holds (access_register). A read of an
// element another thread holds (`y[i] = x[255 - i]`, or an index that reads data: `x[idx[i]]`) is
// staged: lower_to_threads copies the fragment to scratch shared memory before the nest and the
// read takes it from there (`staged=[access, ...]`); a write of such an element, or a staged read
// of a fragment the nest also writes (its threads would race), is a CompileError here, before any
// code is printed. The (access, register) pairs whose register differs between threads are
// recorded as `dynamic=[access, register, ...]` (accesses numbered in ParallelNest's order; absent
// when there are none), so that lower_to_threads, which expands the nest from the scope, asks only
// the first thread. After infer_fragment_layouts and the expansions
// (a loop's threads are its role's).
//
//   before:  for i, j in T.Parallel(128, 128):
//                acc_s[i, j] = acc_s[i, j] * scale
//   after:   with T.parallel_over(acc_s[0, 0]):
//                for i, j in T.Parallel(128, 128):
//                    acc_s[i, j] = acc_s[i, j] * scale
//   before:  for i in T.Parallel(256):
//                y[i] = x[255 - i]
//   after:   with T.parallel_over(y[0], staged=[1]):
//                for i in T.Parallel(256):
//                    y[i] = x[255 - i]
ir::PrimFunc plan_parallel_loops(const ir::PrimFunc& func);

}  // namespace tilescale::passes
