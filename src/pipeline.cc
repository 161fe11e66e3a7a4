// THE pass pipeline, in order. Each step is a named call; target-specific steps are plain `if`
// blocks in this one list. The CPU backend runs the program at tile level, so its pipeline is
// short; for CUDA the passes record their decisions (warp arrangements, fragment layouts, shared
// memory placement, warp specialization) as annotations and end in thread-level IR that the code
// generator (src/codegen/cuda) prints.
#include "pipeline.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>

#include "ir/printer.h"
#include "ops/verify.h"
#include "passes/check_budgets.h"
#include "passes/expand_pipelines.h"
#include "passes/expand_tma_stores.h"
#include "passes/infer_fragment_layouts.h"
#include "passes/insert_barriers.h"
#include "passes/lower_tile_ops.h"
#include "passes/lower_to_threads.h"
#include "passes/make_persistent.h"
#include "passes/plan_copies.h"
#include "passes/plan_parallel_loops.h"
#include "passes/plan_pipelines.h"
#include "passes/plan_shared_memory.h"
#include "passes/plan_tile_ops.h"
#include "passes/plan_tma_stores.h"
#include "passes/plan_warp_specialization.h"
#include "passes/simplify.h"
#include "passes/specialize_warps.h"
#include "passes/widen_indices.h"
#include "support/env.h"

namespace tilescale {

using tilescale::detail::cat;

namespace {

struct Pass {
  const char* name;
  std::function<ir::PrimFunc(const ir::PrimFunc&)> run;
};

std::vector<Pass> passes_for(Target target, int sm, bool tma) {
  std::vector<Pass> list;
  // Fold index arithmetic first: every later pass and the dumps see the simplest form.
  list.push_back({"simplify", [](const ir::PrimFunc& f) { return passes::simplify(f); }});
  // Both backends: which elements an index reaches must not depend on the target.
  list.push_back({"widen_indices", passes::widen_indices});
  if (target == Target::CUDA || target == Target::NVSHMEM) {
    // Before any search: a buffer that cannot fit stops here, not minutes later in layout inference
    // or NVRTC.
    list.push_back({"check_budgets", [sm](const ir::PrimFunc& f) { return passes::check_budgets(f, sm); }});
    // Op plans (gemm warp arrangements) first: the accumulator layouts that inference starts from
    // depend on them.
    list.push_back({"plan_tile_ops", [sm](const ir::PrimFunc& f) { return passes::plan_tile_ops(f, sm); }});
    list.push_back({"infer_fragment_layouts", passes::infer_fragment_layouts});
    // Stage counts come from the Pipelined loops as they are now.
    list.push_back({"plan_shared_memory", passes::plan_shared_memory});
    // Reads the placements: a loop's producers are the copies into staged buffers.
    list.push_back({"plan_pipelines", passes::plan_pipelines});
    // Reads the placements: which loads qualify for TMA, and the occupancy, depend on them.
    list.push_back(
        {"plan_warp_specialization", [sm, tma](const ir::PrimFunc& f) { return passes::plan_warp_specialization(f, sm, tma); }});
    list.push_back({"plan_tma_stores", [sm, tma](const ir::PrimFunc& f) { return passes::plan_tma_stores(f, sm, tma); }});
    // From here on thread-level IR: the warp-specialized loop becomes its producer and consumer roles.
    list.push_back({"specialize_warps", passes::specialize_warps});
    // The pipelined loops the block's own threads run become cp.async prologue, loop and drain.
    list.push_back({"expand_pipelines", passes::expand_pipelines});
    // After the load maps (specialize_warps'): the store maps are numbered after them.
    list.push_back({"expand_tma_stores", passes::expand_tma_stores});
    list.push_back({"make_persistent", passes::make_persistent});
    // After the expansions: each Parallel nest in its final place, its threads its role's.
    list.push_back({"plan_parallel_loops", passes::plan_parallel_loops});
    list.push_back({"plan_copies", [sm](const ir::PrimFunc& f) { return passes::plan_copies(f, sm); }});
    list.push_back({"lower_tile_ops", [sm](const ir::PrimFunc& f) { return passes::lower_tile_ops(f, sm); }});
    // After the placements: a buffer placed over a dead one's bytes waits for that one's accesses;
    // after the roles: each role's barriers are its own; after the pipelines: the barriers between
    // their consumers too.
    list.push_back({"insert_barriers", passes::insert_barriers});
    // Last: the tile ops left and the Parallel nests become thread-level IR, fragments register
    // arrays; the code generator prints what is left.
    list.push_back({"lower_to_threads", passes::lower_to_threads});
  }
  return list;
}

// Observation switches, read once per run.
struct Observers {
  std::string dump_dir = std::getenv("TILESCALE_DUMP_IR") ? std::getenv("TILESCALE_DUMP_IR") : "";
  bool time = env_switch("TILESCALE_TIME_PASSES", false);

  void dump(const ir::PrimFunc& f, int position, const char* pass) const {
    if (dump_dir.empty()) return;
    std::error_code ec;
    std::filesystem::create_directories(dump_dir, ec);
    char prefix[16];
    std::snprintf(prefix, sizeof prefix, "%02d", position);
    const auto path = std::filesystem::path(dump_dir) / cat(f->name, ".", prefix, ".", pass, ".tir");
    std::ofstream out(path);
    out << ir::print(f);
    if (!out.flush())
      throw RuntimeError(cat("cannot write the IR of ", f->name, " to ", path.string(), " because ",
                             ec ? ec.message() : "the file cannot be written",
                             "; set TILESCALE_DUMP_IR to a writable directory, or unset it"));
  }
};

}  // namespace

std::vector<std::string> pipeline_pass_names(Target target) {
  std::vector<std::string> names;
  for (const auto& p : passes_for(target, 80, true)) names.emplace_back(p.name);
  return names;
}

ir::PrimFunc run_pipeline(const ir::PrimFunc& func, const PipelineOptions& options) {
  TS_ICHECK(options.target != Target::Auto, "run_pipeline needs a concrete target");
  const auto list = passes_for(options.target, options.sm, options.tma);
  if (!options.stop_after.empty()) {
    bool known = false;
    for (const auto& p : list) known |= options.stop_after == p.name;
    if (!known) {
      std::string names;
      for (const auto& p : list) names += cat(names.empty() ? "" : ", ", p.name);
      throw CompileError(cat("cannot stop after pass '", options.stop_after, "' because the ", name(options.target),
                             " pipeline has no such pass; passes: ", names));
    }
  }
  const Observers obs;
  obs.dump(func, 0, "input");
  ir::PrimFunc f = func;
  int position = 0;
  for (const auto& pass : list) {
    ++position;
    const auto start = std::chrono::steady_clock::now();
    ir::PrimFunc next = pass.run(f);
    if (obs.time)
      std::fprintf(stderr, "[tilescale] pass %-24s %8.3f ms\n", pass.name,
                   std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
#ifdef TILESCALE_VERIFY_PASSES
    try {
      ops::verify_program(next);
    } catch (const CompileError& e) {
      throw InternalError(cat("pass ", pass.name, " produced an invalid program: ", e.what()));
    }
#endif
    if (next != f) obs.dump(next, position, pass.name);
    f = next;
    if (options.stop_after == pass.name) break;
  }
  return f;
}

}  // namespace tilescale
