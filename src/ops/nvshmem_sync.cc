// NVSHMEM's ordering and synchronisation (no arguments).
//
//   quiet                          completes every put and get this thread issued (_nbi included)
//   fence                          orders this thread's puts to each rank: later puts to a rank
//                                  land after earlier ones (the "put, fence, signal" pattern)
//   barrier_all{,_warp,_block}     quiet, then wait until every rank has arrived
//   sync_all{,_warp,_block}        wait until every rank has arrived (no completion of puts)
//
// A barrier takes exactly one call per rank: from one thread (barrier_all), one warp (_warp) or
// one block (_block). The CPU backend's transfers complete when issued, so quiet and fence are
// sequentially consistent fences there; its barriers count one arrival per rank and raise an
// error naming both callers when a rank calls twice before the others arrive. On CUDA each is
// tl::dist's function of the same name (device/tilescale/dist_shmem.h: quiet and fence are
// fence.acq_rel.sys, the barriers fence and then count arrivals in memory the runtime reserves at
// the start of every rank's heap), or, when the target calls NVSHMEM, the wrapper of NVSHMEM's device call (nvshmem_calls.h).
#include <atomic>

#include "ops/builtin.h"
#include "runtime/dist/sim.h"

namespace tilescale::ops {
namespace {

bool no_address(const ir::BuiltinNode&, std::size_t) { return false; }
void verify(const ir::BuiltinNode&) {}

CpuValue run_fence(const ir::BuiltinNode&, BuiltinCpuCall&) {
  std::atomic_thread_fence(std::memory_order_seq_cst);
  return {};
}

CpuValue run_barrier(const ir::BuiltinNode& call, BuiltinCpuCall& cpu) {
  std::atomic_thread_fence(std::memory_order_seq_cst);
  const sim::RankView& rank = cpu.rank();
  TS_ICHECK(rank.world, "a blocking builtin run outside a sim world");
  rank.world->rank_barrier(cpu.participant(), user_name(call), cpu.where());
  std::atomic_thread_fence(std::memory_order_seq_cst);
  return {};
}

std::string lower(const ir::BuiltinNode& call, cuda::LowerContext& ctx) { return cuda_shmem_call(call, ctx, {}); }

BuiltinDef def(const char* name) {
  const std::string n = name;
  if (n == "quiet" || n == "fence") return {name, BuiltinScope::Uniform, false, false, true, no_address, verify, run_fence, lower};
  const BuiltinScope scope = n.find("_block") != std::string::npos  ? BuiltinScope::Block
                             : n.find("_warp") != std::string::npos ? BuiltinScope::Warp
                                                                    : BuiltinScope::Thread;
  return {name, scope, false, true, true, no_address, verify, run_barrier, lower};
}

}  // namespace

const std::vector<BuiltinDef>& nvshmem_sync_builtins() {
  static const std::vector<BuiltinDef> defs = {
      def("quiet"),       def("fence"),          def("barrier_all"),     def("barrier_all_warp"),
      def("barrier_all_block"), def("sync_all"), def("sync_all_warp"),   def("sync_all_block"),
  };
  return defs;
}

}  // namespace tilescale::ops
