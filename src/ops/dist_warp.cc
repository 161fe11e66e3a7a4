// Warp-level builtins.
//
//   warp_any       args {value (bool), mask (uint32)} -> bool: value is true on some lane in mask
//   warp_all       args {value (bool), mask (uint32)} -> bool: value is true on every lane in mask
//   shuffle_elect  args {extent}                       -> bool: true on one thread of each group of
//                  `extent` consecutive threads (a multiple of 32; 0: the whole block), the first
//                  lane of the group's first warp
//   sync_warp      args {mask}: __syncwarp(mask)
//
// All lanes in the mask execute them together (warp scope: not inside T::Parallel). The CPU
// backend runs a block's threads one after another, so a vote evaluates its value for each lane in
// the mask at the point of the vote: the value may read memory, the thread index and block-uniform
// values, but not what another lane wrote in the same thread-level statement; sync_warp is a no-op
// there.
#include "ir/printer.h"
#include "ops/builtin.h"

namespace tilescale::ops {
namespace {

using tilescale::detail::cat;

bool no_address(const ir::BuiltinNode&, std::size_t) { return false; }

void verify_vote(const ir::BuiltinNode& call) {
  TS_ICHECK(is_bool(call.args[0]->dtype) && call.args[1]->dtype == DataType::UInt32, "vote of a non-bool value or mask");
}

void verify_elect(const ir::BuiltinNode& call) {
  require_integer(call, call.args[0], "the group extent");
  if (auto e = ir::as_const_int(call.args[0]); e && (*e < 0 || *e % 32 != 0))
    throw CompileError(cat("cannot call T::shuffle_elect(", *e, ") because the group extent is a multiple of 32 "
                           "threads (whole warps), or 0 for the whole block"));
}

void verify_sync(const ir::BuiltinNode& call) { TS_ICHECK(call.args[0]->dtype == DataType::UInt32, "lane mask of another dtype"); }

CpuValue vote(const ir::BuiltinNode& call, BuiltinCpuCall& cpu, bool all) {
  const std::int64_t t = std::max<std::int64_t>(cpu.thread(), 0);
  const auto mask = static_cast<std::uint32_t>(cpu.int_arg(1));
  const std::int64_t warp = t / 32 * 32;
  bool any = false, every = true;
  for (int lane = 0; lane < 32 && warp + lane < cpu.threads(); ++lane) {
    if (!(mask >> lane & 1u)) continue;
    const bool v = cpu.int_arg_of_thread(0, warp + lane) != 0;
    any |= v;
    every &= v;
  }
  return CpuValue{all ? every : any, 0};
}
CpuValue run_any(const ir::BuiltinNode& call, BuiltinCpuCall& cpu) { return vote(call, cpu, false); }
CpuValue run_all(const ir::BuiltinNode& call, BuiltinCpuCall& cpu) { return vote(call, cpu, true); }

CpuValue run_elect(const ir::BuiltinNode&, BuiltinCpuCall& cpu) {
  const std::int64_t extent = cpu.int_arg(0);
  const std::int64_t group = extent == 0 ? cpu.threads() : extent;
  return CpuValue{group > 0 && std::max<std::int64_t>(cpu.thread(), 0) % group == 0, 0};
}

CpuValue run_sync(const ir::BuiltinNode&, BuiltinCpuCall&) { return {}; }

std::string lower_any(const ir::BuiltinNode& call, cuda::LowerContext& ctx) {
  return cat("__any_sync(", ctx.expr(call.args[1]), ", ", ctx.expr(call.args[0]), ")");
}
std::string lower_all(const ir::BuiltinNode& call, cuda::LowerContext& ctx) {
  return cat("__all_sync(", ctx.expr(call.args[1]), ", ", ctx.expr(call.args[0]), ")");
}
std::string lower_elect(const ir::BuiltinNode& call, cuda::LowerContext& ctx) {
  return cat("tl::dist::shuffle_elect(", ctx.expr(call.args[0]), ")");
}
std::string lower_sync(const ir::BuiltinNode& call, cuda::LowerContext& ctx) {
  return cat("__syncwarp(", ctx.expr(call.args[0]), ")");
}

}  // namespace

const std::vector<BuiltinDef>& warp_builtins() {
  static const std::vector<BuiltinDef> defs = {
      {"warp_any", BuiltinScope::Warp, true, false, false, no_address, verify_vote, run_any, lower_any},
      {"warp_all", BuiltinScope::Warp, true, false, false, no_address, verify_vote, run_all, lower_all},
      {"shuffle_elect", BuiltinScope::Warp, true, false, false, no_address, verify_elect, run_elect, lower_elect},
      {"sync_warp", BuiltinScope::Warp, false, false, false, no_address, verify_sync, run_sync, lower_sync},
  };
  return defs;
}

}  // namespace tilescale::ops
