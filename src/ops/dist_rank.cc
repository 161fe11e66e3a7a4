// get_rank(), get_num_ranks(): this rank and the number of ranks, int32, the same in every thread.
// No arguments. On CUDA they read the kernel's distributed context; on the CPU backend the rank the
// kernel was called as (sim::current_rank()).
#include "ops/builtin.h"
#include "runtime/dist/sim.h"

namespace tilescale::ops {
namespace {

using tilescale::detail::cat;

bool no_address(const ir::BuiltinNode&, std::size_t) { return false; }
void verify(const ir::BuiltinNode&) {}

CpuValue run_rank(const ir::BuiltinNode&, BuiltinCpuCall& cpu) { return CpuValue{cpu.rank().rank, 0}; }
CpuValue run_num_ranks(const ir::BuiltinNode&, BuiltinCpuCall& cpu) { return CpuValue{cpu.rank().size(), 0}; }

std::string lower_rank(const ir::BuiltinNode&, cuda::LowerContext&) { return cat(kCudaDistContext, ".rank"); }
std::string lower_num_ranks(const ir::BuiltinNode&, cuda::LowerContext&) { return cat(kCudaDistContext, ".num_ranks"); }

}  // namespace

const std::vector<BuiltinDef>& rank_builtins() {
  static const std::vector<BuiltinDef> defs = {
      {"get_rank", BuiltinScope::Uniform, true, false, false, no_address, verify, run_rank, lower_rank},
      {"get_num_ranks", BuiltinScope::Uniform, true, false, false, no_address, verify, run_num_ranks, lower_num_ranks},
  };
  return defs;
}

}  // namespace tilescale::ops
