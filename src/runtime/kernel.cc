// compile() and Kernel: the pipeline for the chosen target, then a backend executable.
#include <cstdlib>

#include "codegen/cpu/executor.h"
#include "ir/printer.h"
#include "pipeline.h"
#include "runtime/arguments.h"
#include "tilescale/runtime.h"

namespace tilescale {

using tilescale::detail::cat;

const char* name(Target t) {
  switch (t) {
    case Target::Auto: return "auto";
    case Target::CPU: return "cpu";
    case Target::CUDA: return "cuda";
  }
  return "?";
}

Target parse_target(const std::string& s) {
  if (s == "auto") return Target::Auto;
  if (s == "cpu") return Target::CPU;
  if (s == "cuda") return Target::CUDA;
  throw CompileError(cat("cannot compile for target '", s, "' because it is unknown; use auto, cpu or cuda"));
}

std::string why_not_cuda() { return "this build of tilescale has no CUDA backend yet"; }

struct Kernel::Impl {
  ir::PrimFunc lowered;
  Target target;
  std::shared_ptr<const cpu::Executable> cpu;
};

const std::string& Kernel::name() const { return impl_->lowered->name; }
Target Kernel::target() const { return impl_->target; }
std::string Kernel::lowered_ir() const { return ir::print(impl_->lowered); }

void Kernel::call(const std::vector<Tensor>& args) const {
  runtime::check_arguments(*impl_->lowered, args, Device::cpu());
  impl_->cpu->run(args);
}

Kernel compile(const lang::PrimFunc& func, const CompileOptions& options) {
  Target target = options.target;
  if (target == Target::Auto) target = why_not_cuda().empty() ? Target::CUDA : Target::CPU;
  if (target == Target::CUDA)
    throw CompileError(cat("cannot compile ", func.name(), " for target cuda because ", why_not_cuda(),
                           "; use target cpu (or auto)"));
  auto impl = std::make_shared<Kernel::Impl>();
  impl->target = target;
  impl->lowered = run_pipeline(func.node(), PipelineOptions{target, ""});
  impl->cpu = cpu::Executable::build(impl->lowered);
  return Kernel(impl);
}

}  // namespace tilescale
