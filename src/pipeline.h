// The pass pipeline: THE ordered list of passes lives in pipeline.cc.
//
// Observing it:
//   TILESCALE_DUMP_IR=<dir>   writes the IR after every pass that changed it to
//                             <dir>/<func>.<NN>.<pass>.tir (NN is the pass's position)
//   TILESCALE_TIME_PASSES=1   prints each pass's wall time to stderr
// In builds with TILESCALE_VERIFY_PASSES (the default, CI included) the verifier runs after every
// pass (ops::verify_program: the IR's structure and the ops' rules); a failure there is an
// InternalError naming the pass.
#pragma once

#include <string>
#include <vector>

#include "ir/IR.h"
#include "tilescale/runtime.h"

namespace tilescale {

struct PipelineOptions {
  Target target = Target::CPU;  // a concrete target, not Auto
  std::string stop_after;       // stop after the pass of this name ("" runs them all)
  int sm = 80;                  // CUDA: the compute capability the code is for (90: Hopper instructions)
  bool tma = true;              // CUDA, sm_90: tiles may move by TMA (TILESCALE_TMA=0 says no)
};

// The names of the passes run for `target`, in order.
std::vector<std::string> pipeline_pass_names(Target target);

// Runs the pipeline. CompileError when stop_after names no pass of this target's pipeline.
ir::PrimFunc run_pipeline(const ir::PrimFunc& func, const PipelineOptions& options);

}  // namespace tilescale
