#include "ops/device_builtins.h"

#include <map>

#include "tilescale/errors.h"

namespace tilescale::ops {

namespace {

using P = TemplateParam;
using O = OperandRole;
using E = Executor;

// <M, N, K, WARPS_M, WARPS_N, TRANS_A, TRANS_B, AT, CT>; gemm_rs and gemm_sr have one TRANS flag.
const std::vector<P> kGemm = {P::Int, P::Int, P::Int, P::Int, P::Int, P::Bool, P::Bool, P::Type, P::Type};
const std::vector<P> kGemmOneTrans = {P::Int, P::Int, P::Int, P::Int, P::Int, P::Bool, P::Type, P::Type};

std::vector<DeviceBuiltin> make_registry() {
  const char* sm80 = "tilescale/gemm_sm80.h";
  const char* sm90 = "tilescale/gemm_sm90.h";
  const char* copy = "tilescale/copy_sm80.h";
  const char* tma = "tilescale/tma.h";
  const char* mbar = "tilescale/mbarrier.h";
  const char* wgmma = "tilescale/wgmma_sm90.h";
  const char* ldsm = "tilescale/ldsm.h";
  const char* red = "tilescale/reduce.h";
  const Proxy G = Proxy::Generic, A = Proxy::Async;
  const AsyncFamily none = AsyncFamily::None, cp = AsyncFamily::CpAsync, wg = AsyncFamily::Wgmma,
                    bulk = AsyncFamily::BulkStore, tx = AsyncFamily::MbarrierTx;
  const AsyncStep no = AsyncStep::None, issue = AsyncStep::Issue, commit = AsyncStep::Commit, wait = AsyncStep::Wait;
  // name, cpp, rank_suffix, header, min_sm, arch_specific, targs, operands, returns_value, executor, proxy, sync, async, step
  return {
      // Tile gemms: ldmatrix + mma.sync (sm_80; fp8 needs sm_89), wgmma (sm_90a).
      {"tl.gemm_ss", "tl::gemm_ss", false, sm80, 80, false, kGemm, {O::MemoryRead, O::MemoryRead, O::Registers}, false, E::Block, G, Sync::None, none, no},
      {"tl.gemm_rs", "tl::gemm_rs", false, sm80, 80, false, kGemmOneTrans, {O::Registers, O::MemoryRead, O::Registers}, false, E::Block, G, Sync::None, none, no},
      // gemm_ss split around a cp.async main loop's stage boundary, its operand fragments in a
      // register array carried across the loop (ops::prefetched_calls).
      {"tl.gemm_ss_prefetched_first", "tl::gemm_ss_prefetched_first", false, sm80, 80, false, kGemm, {O::MemoryRead, O::MemoryRead, O::Registers}, false, E::Block, G, Sync::None, none, no},
      {"tl.gemm_ss_prefetched_head", "tl::gemm_ss_prefetched_head", false, sm80, 80, false, kGemm, {O::MemoryRead, O::MemoryRead, O::Registers, O::Registers}, false, E::Block, G, Sync::None, none, no},
      {"tl.gemm_ss_prefetched_tail", "tl::gemm_ss_prefetched_tail", false, sm80, 80, false, kGemm, {O::MemoryRead, O::MemoryRead, O::Registers, O::Registers}, false, E::Block, G, Sync::None, none, no},
      {"tl.gemm_sr", "tl::gemm_sr", false, sm80, 80, false, kGemmOneTrans, {O::MemoryRead, O::Registers, O::Registers}, false, E::Block, G, Sync::None, none, no},
      {"tl.gemm_ss_wgmma", "tl::gemm_ss_wgmma", false, sm90, 90, true, kGemm, {O::MemoryRead, O::MemoryRead, O::Registers}, false, E::Block, A, Sync::None, none, no},
      {"tl.gemm_ss_wgmma_issue", "tl::gemm_ss_wgmma_issue", false, sm90, 90, true, kGemm, {O::MemoryRead, O::MemoryRead, O::Registers}, false, E::Block, A, Sync::None, wg, issue},
      // Issues this group and waits for the one before it (wgmma_wait<1>).
      {"tl.gemm_ss_wgmma_async", "tl::gemm_ss_wgmma_async", false, sm90, 90, true, kGemm, {O::MemoryRead, O::MemoryRead, O::Registers}, false, E::Block, A, Sync::None, wg, issue},
      {"tl.gemm_ss_wgmma_drain", "tl::gemm_ss_wgmma_drain", false, sm90, 90, true, kGemm, {O::Registers}, false, E::Block, A, Sync::None, wg, wait},
      {"tl.gemm_rs_wgmma", "tl::gemm_rs_wgmma", false, sm90, 90, true, kGemmOneTrans, {O::Registers, O::MemoryRead, O::Registers}, false, E::Block, A, Sync::None, none, no},
      {"tl.gemm_rs_wgmma_issue", "tl::gemm_rs_wgmma_issue", false, sm90, 90, true, kGemmOneTrans, {O::Registers, O::MemoryRead, O::Registers}, false, E::Block, A, Sync::None, wg, issue},
      {"tl.wgmma_wait", "tl::wgmma_wait", false, wgmma, 90, true, {P::Int}, {}, false, E::Warpgroup, A, Sync::None, wg, wait},
      // Keeps the compiler's accesses to the registers after the wait that completed their group.
      {"tl.wgmma_fence_regs", "tl::wgmma_fence_regs", false, wgmma, 80, false, {P::Int}, {O::Registers}, false, E::Thread, G, Sync::None, none, no},
      // Warpgroups taking turns at issuing wgmma (WarpgroupTurns): <FIRST_BARRIER, WARPGROUPS>.
      {"tl.warpgroup_turns_start", "tl::warpgroup_turns_start", false, sm90, 90, true, {P::Int, P::Int}, {}, false, E::Warpgroup, G, Sync::Arrive, none, no},
      {"tl.warpgroup_turns_acquire", "tl::warpgroup_turns_acquire", false, sm90, 90, true, {P::Int, P::Int}, {}, false, E::Warpgroup, G, Sync::Barrier, none, no},
      {"tl.warpgroup_turns_release", "tl::warpgroup_turns_release", false, sm90, 90, true, {P::Int, P::Int}, {}, false, E::Warpgroup, G, Sync::Arrive, none, no},
      {"tl.warpgroup_turns_finish", "tl::warpgroup_turns_finish", false, sm90, 90, true, {P::Int, P::Int}, {}, false, E::Warpgroup, G, Sync::Barrier, none, no},
      // cp.async: each thread's copies form groups, committed and waited for by the same thread.
      {"tl.cp_async", "tl::cp_async", false, copy, 80, false, {P::Int}, {O::MemoryWrite, O::MemoryRead, O::Value}, false, E::Thread, G, Sync::None, cp, issue},
      // The same where the source may lie outside its tensor: the last operand (the tensor's base) is read instead.
      {"tl.cp_async_zfill", "tl::cp_async_zfill", false, copy, 80, false, {P::Int}, {O::MemoryWrite, O::MemoryRead, O::Value, O::MemoryRead}, false, E::Thread, G, Sync::None, cp, issue},
      {"tl.cp_async_commit", "tl::cp_async_commit", false, copy, 80, false, {}, {}, false, E::Thread, G, Sync::None, cp, commit},
      {"tl.cp_async_wait", "tl::cp_async_wait", false, copy, 80, false, {P::Int}, {}, false, E::Thread, G, Sync::None, cp, wait},
      // TMA: a load reports its bytes to the mbarrier; the global operand's indices are the box's
      // coordinates, the tensor map is the call's `map` attribute.
      {"tl.tma_load", "tl::tma_load", true, tma, 90, false, {}, {O::MemoryWrite, O::MemoryRead, O::Mbarrier}, false, E::OneThread, A, Sync::None, tx, issue},
      {"tl.tma_store", "tl::tma_store", true, tma, 90, false, {}, {O::MemoryWrite, O::MemoryRead}, false, E::OneThread, A, Sync::None, bulk, issue},
      {"tl.tma_store_commit", "tl::tma_store_commit", false, tma, 90, false, {}, {}, false, E::OneThread, A, Sync::None, bulk, commit},
      // Returns once the stores' shared sources may be overwritten.
      {"tl.tma_store_wait_read", "tl::tma_store_wait_read", false, tma, 90, false, {P::Int}, {}, false, E::OneThread, A, Sync::None, bulk, wait},
      {"tl.mbarrier_init", "tl::mbarrier_init", false, mbar, 80, false, {}, {O::Mbarrier, O::Value}, false, E::OneThread, G, Sync::None, none, no},
      {"tl.fence_mbarrier_init", "tl::fence_mbarrier_init", false, mbar, 90, false, {}, {}, false, E::OneThread, G, Sync::Fence, none, no},
      {"tl.mbarrier_arrive", "tl::mbarrier_arrive", false, mbar, 80, false, {}, {O::Mbarrier}, false, E::Thread, G, Sync::Arrive, none, no},
      {"tl.mbarrier_arrive_expect_tx", "tl::mbarrier_arrive_expect_tx", false, mbar, 90, false, {}, {O::Mbarrier, O::Value}, false, E::OneThread, G, Sync::Arrive, tx, commit},
      // Waits for the phase of the given parity: the loads reported to it have landed.
      {"tl.mbarrier_wait", "tl::mbarrier_wait", false, mbar, 80, false, {}, {O::Mbarrier, O::Value}, false, E::Thread, G, Sync::None, tx, wait},
      {"tl.mbarrier_wait_lean", "tl::mbarrier_wait_lean", false, mbar, 80, false, {}, {O::Mbarrier, O::Value}, false, E::Thread, G, Sync::None, tx, wait},
      {"tl.fence_proxy_async", "tl::fence_proxy_async", false, mbar, 90, false, {}, {}, false, E::Thread, G, Sync::Fence, none, no},
      {"tl.named_barrier_sync", "tl::named_barrier_sync", false, mbar, 80, false, {P::Int, P::Int}, {}, false, E::Warp, G, Sync::Barrier, none, no},
      {"tl.named_barrier_arrive", "tl::named_barrier_arrive", false, mbar, 80, false, {P::Int, P::Int}, {}, false, E::Warp, G, Sync::Arrive, none, no},
      {"tl.syncthreads", "__syncthreads", false, nullptr, 80, false, {}, {}, false, E::Block, G, Sync::Barrier, none, no},
      {"tl.syncwarp", "__syncwarp", false, nullptr, 80, false, {}, {}, false, E::Warp, G, Sync::Barrier, none, no},
      {"tl.elect_one", "tl::elect_one", false, mbar, 80, false, {}, {}, true, E::Warp, G, Sync::None, none, no},
      {"tl.setmaxnreg_inc", "tl::setmaxnreg_inc", false, mbar, 90, true, {P::Int}, {}, false, E::Warpgroup, G, Sync::None, none, no},
      {"tl.setmaxnreg_dec", "tl::setmaxnreg_dec", false, mbar, 90, true, {P::Int}, {}, false, E::Warpgroup, G, Sync::None, none, no},
      // Reductions (T::reduce_*, T::cumsum), values: <OP (0 sum, 1 max, 2 min), T>; lane_reduce <LANE_BITS, OP, T>.
      {"tl.reduce_combine", "tl::reduce_combine", false, red, 80, false, {P::Int, P::Type}, {O::Value, O::Value}, true, E::Thread, G, Sync::None, none, no},
      {"tl.reduce_identity", "tl::reduce_identity", false, red, 80, false, {P::Int, P::Type}, {}, true, E::Thread, G, Sync::None, none, no},
      {"tl.lane_reduce", "tl::lane_reduce", false, red, 80, false, {P::Int, P::Int, P::Type}, {O::Value}, true, E::Warp, G, Sync::None, none, no},
      {"tl.absolute", "tl::absolute", false, red, 80, false, {P::Type}, {O::Value}, true, E::Thread, G, Sync::None, none, no},
      // One element of global or shared memory updated atomically (T::atomic_add).
      {"tl.atomic_add", "tl::atomic_add", false, "tilescale/common.h", 80, false, {}, {O::MemoryWrite, O::Value}, false, E::Thread, G, Sync::None, none, no},
      // stmatrix: each lane's registers into the rows its lanes name.
      {"tl.stsm_x4_from", "tl::stsm_x4_from", false, ldsm, 90, false, {P::Type, P::Type}, {O::MemoryWrite, O::Registers}, false, E::Warp, G, Sync::None, none, no},
      // Vector accesses (T::copy): memory to memory, memory to registers and back, converting.
      {"tl.copy_vector", "tl::copy_vector", false, copy, 80, false, {P::Int}, {O::MemoryWrite, O::MemoryRead, O::Value}, false, E::Thread, G, Sync::None, none, no},
      {"tl.load_vector", "tl::load_vector", false, copy, 80, false, {P::Int, P::Type, P::Type}, {O::Registers, O::MemoryRead, O::Value}, false, E::Thread, G, Sync::None, none, no},
      {"tl.store_vector", "tl::store_vector", false, copy, 80, false, {P::Int, P::Type, P::Type}, {O::MemoryWrite, O::Registers, O::Value}, false, E::Thread, G, Sync::None, none, no},
  };
}

}  // namespace

const std::vector<DeviceBuiltin>& device_builtins() {
  static const std::vector<DeviceBuiltin> registry = make_registry();
  return registry;
}

const DeviceBuiltin* find_device_builtin(std::string_view name) {
  static const std::map<std::string_view, const DeviceBuiltin*> by_name = [] {
    std::map<std::string_view, const DeviceBuiltin*> m;
    for (const auto& d : device_builtins()) TS_ICHECK(m.emplace(d.name, &d).second, "device builtin ", d.name, " registered twice");
    return m;
  }();
  auto it = by_name.find(name);
  return it == by_name.end() ? nullptr : it->second;
}

const DeviceBuiltin& device_builtin(std::string_view name) {
  const DeviceBuiltin* d = find_device_builtin(name);
  TS_ICHECK(d, "unknown device builtin ", std::string(name));
  return *d;
}

void check_device_call(const ir::BuiltinNode& call) {
  const DeviceBuiltin& d = device_builtin(call.op);
  TS_ICHECK(call.targs.size() == d.targs.size(), "device call ", call.op, " has ", call.targs.size(), " template arguments for ",
            d.targs.size(), " parameters");
  for (std::size_t i = 0; i < d.targs.size(); ++i)
    TS_ICHECK(call.targs[i].index() == static_cast<std::size_t>(d.targs[i]), "template argument ", i, " of device call ", call.op,
              " is of the wrong kind");
  TS_ICHECK(call.args.size() == d.operands.size(), "device call ", call.op, " has ", call.args.size(), " operands for ",
            d.operands.size());
  for (std::size_t i = 0; i < d.operands.size(); ++i)
    TS_ICHECK(d.operands[i] == OperandRole::Value || ir::as<ir::LoadNode>(call.args[i]), "operand ", i, " of device call ", call.op,
              " is not an element of memory");
}

std::vector<const DeviceBuiltin*> async_builtins(AsyncFamily family, AsyncStep step) {
  std::vector<const DeviceBuiltin*> out;
  for (const auto& d : device_builtins())
    if (d.async == family && d.step == step) out.push_back(&d);
  return out;
}

std::string cpp_name(const DeviceBuiltin& d, int rank) {
  TS_ICHECK(d.rank_suffix == (rank > 0), "device builtin ", d.name, rank > 0 ? " takes no rank" : " needs a rank");
  return d.rank_suffix ? std::string(d.cpp) + "_" + std::to_string(rank) + "d" : d.cpp;
}

ir::Stmt device_call(const char* name, std::vector<ir::Expr> operands, std::vector<ir::TemplateArg> targs, ir::Attrs attrs) {
  return ir::make_evaluate(ir::make_builtin(DataType::Int32, name, std::move(operands), std::move(attrs), std::move(targs)));
}

ir::Expr first_element(const ir::Buffer& b) { return ir::make_load(b, std::vector<ir::Expr>(b->rank(), ir::make_int(0))); }

ir::Stmt block_barrier() { return device_call("tl.syncthreads"); }

ir::Expr device_value(DataType t, const char* name, std::vector<ir::Expr> operands, std::vector<ir::TemplateArg> targs) {
  TS_ICHECK(device_builtin(name).returns_value, "device builtin ", name, " returns no value");
  return ir::make_builtin(t, name, std::move(operands), {}, std::move(targs));
}

}  // namespace tilescale::ops
