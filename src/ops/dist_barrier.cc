// Barriers of blocks.
//
//   barrier_blocks  args {bar}      a barrier of one block per rank; fence.acq_rel.sys first
//   sync_blocks     args {bar}      the same without the fence
//   sync_grid       args {counter}  a barrier of every block of this kernel's grid, on this rank
//
// bar is the first element of a symmetric int32 array of get_num_ranks() elements, zero before its
// first use and zero again after every barrier (device/tilescale/dist.h gives the algorithm: rank r
// adds 1 to its own bar[p] and -1 to rank p's bar[r], then waits until no bar[p] is above 0).
// Exactly one block per rank may call it per barrier. counter is a global uint32, zero before its
// first use (cooperative groups' grid barrier: bit 31 flips every barrier); every block of the grid
// must call it. All three are block-scope: the whole block calls them, in block-uniform code. The
// CPU backend runs the same algorithms with std::atomic_ref on the same words.
#include "ir/printer.h"
#include "ops/builtin.h"
#include "runtime/dist/sim.h"

namespace tilescale::ops {
namespace {

using tilescale::detail::cat;

bool is_address(const ir::BuiltinNode&, std::size_t arg) { return arg == 0; }

void verify_barrier(const ir::BuiltinNode& call) {
  require_memory(call, 0, true, "barrier array");
  require_dtype(call, 0, DataType::Int32, "barrier array");
}

void verify_grid(const ir::BuiltinNode& call) {
  require_memory(call, 0, true, "counter");
  require_dtype(call, 0, DataType::UInt32, "counter");
}

std::int32_t& word(std::byte* p) { return *reinterpret_cast<std::int32_t*>(p); }

CpuValue run_barrier(const ir::BuiltinNode& call, BuiltinCpuCall& cpu) {
  const CpuAddress bar = cpu.address(0);
  const sim::RankView& rank = cpu.rank();
  const int n = rank.size();
  checked_bytes(call, cpu, bar, n);
  check_aligned(call, cpu, bar, 4);
  if (call.op == "barrier_blocks") std::atomic_thread_fence(std::memory_order_seq_cst);
  for (int p = 0; p < n; ++p) {
    std::atomic_ref<std::int32_t>(word(bar.data + 4 * p)).fetch_add(1, std::memory_order_acq_rel);
    std::byte* theirs = cpu_remote(call, cpu, bar, 4 * n, p) + 4 * rank.rank;
    std::atomic_ref<std::int32_t>(word(theirs)).fetch_add(-1, std::memory_order_acq_rel);
  }
  auto slot = [&](int p) { return std::atomic_ref<std::int32_t>(word(bar.data + 4 * p)).load(std::memory_order_acquire); };
  const std::function<bool()> passed = [&] {
    for (int p = 0; p < n; ++p)
      if (slot(p) > 0) return false;
    return true;
  };
  const std::string where = cpu.where() + " (every thread of the block)";
  const std::function<std::string()> describe = [&] {
    std::string behind;
    for (int p = 0; p < n; ++p)
      if (slot(p) > 0) behind += cat(behind.empty() ? "" : ", ", p, " (", bar.buffer->name, "[", p, "] = ", slot(p), ")");
    return cat(user_name(call), " on ", bar.text, " of rank ", rank.rank, " (address ", static_cast<const void*>(bar.data),
               ") ", where, ": expected every slot <= 0, waiting for rank(s) ", behind);
  };
  cpu.participant().wait(passed, describe);
  return {};
}

CpuValue run_grid(const ir::BuiltinNode& call, BuiltinCpuCall& cpu) {
  const CpuAddress counter = cpu.address(0);
  checked_bytes(call, cpu, counter, 1);
  check_aligned(call, cpu, counter, 4);
  const auto grid = cpu.grid(), block = cpu.block();
  const auto blocks = static_cast<std::uint32_t>(grid[0] * grid[1] * grid[2]);
  const bool first = block[0] == 0 && block[1] == 0 && block[2] == 0;
  const std::uint32_t inc = first ? 0x80000000u - (blocks - 1) : 1u;
  std::atomic_ref<std::uint32_t> c(*reinterpret_cast<std::uint32_t*>(counter.data));
  std::atomic_thread_fence(std::memory_order_seq_cst);
  const std::uint32_t old = c.fetch_add(inc, std::memory_order_acq_rel);
  const std::function<bool()> passed = [&] { return ((c.load(std::memory_order_acquire) ^ old) & 0x80000000u) != 0; };
  const std::string where = cpu.where() + " (every thread of the block)";
  const std::function<std::string()> describe = [&] {
    return cat("T::sync_grid on ", counter.text, " of rank ", cpu.rank().rank, " (address ",
               static_cast<const void*>(counter.data), ") ", where, ": expected bit 31 to flip from ", (old >> 31),
               ", observed ", c.load(), " (all ", blocks, " blocks of the grid must call it)");
  };
  cpu.participant().wait(passed, describe);
  return {};
}

std::string lower_barrier(const ir::BuiltinNode& call, cuda::LowerContext& ctx) {
  return cat("tl::dist::barrier_blocks(", kCudaDistContext, ", ", cuda_pointer(call, 0, ctx), ", ",
             call.op == "barrier_blocks" ? "true" : "false", ")");
}

std::string lower_grid(const ir::BuiltinNode& call, cuda::LowerContext& ctx) {
  return cat("tl::dist::sync_grid(", kCudaDistContext, ", ", cuda_pointer(call, 0, ctx), ")");
}

}  // namespace

const std::vector<BuiltinDef>& barrier_builtins() {
  static const std::vector<BuiltinDef> defs = {
      {"barrier_blocks", BuiltinScope::Block, false, true, false, is_address, verify_barrier, run_barrier, lower_barrier},
      {"sync_blocks", BuiltinScope::Block, false, true, false, is_address, verify_barrier, run_barrier, lower_barrier},
      {"sync_grid", BuiltinScope::Block, false, true, false, is_address, verify_grid, run_grid, lower_grid},
  };
  return defs;
}

}  // namespace tilescale::ops
