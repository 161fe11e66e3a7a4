// fence_cta, fence_gpu, fence_sys: fence.acq_rel at the scope, ordering the thread's memory accesses
// before the fence against those after it as seen from the scope. No arguments. The CPU backend
// issues a sequentially consistent std::atomic_thread_fence (its memory is one coherent memory, so
// every scope is the whole run).
#include <atomic>

#include "ops/builtin.h"

namespace tilescale::ops {
namespace {

using tilescale::detail::cat;

bool no_address(const ir::BuiltinNode&, std::size_t) { return false; }
void verify(const ir::BuiltinNode&) {}

CpuValue run(const ir::BuiltinNode&, BuiltinCpuCall&) {
  std::atomic_thread_fence(std::memory_order_seq_cst);
  return {};
}

std::string lower(const ir::BuiltinNode& call, cuda::LowerContext&) { return cat("tl::dist::", call.op, "()"); }

BuiltinDef def(const char* name) { return {name, BuiltinScope::Uniform, false, false, false, no_address, verify, run, lower}; }

}  // namespace

const std::vector<BuiltinDef>& fence_builtins() {
  static const std::vector<BuiltinDef> defs = {def("fence_cta"), def("fence_gpu"), def("fence_sys")};
  return defs;
}

}  // namespace tilescale::ops
