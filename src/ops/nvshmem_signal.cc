// NVSHMEM's signals: a uint64 in the symmetric heap that a put raises after its data.
//
//   putmem_signal{,_nbi}{,_warp,_block}  args {dst, src, nbytes, sig, signal, pe}; attrs sig_op
//       nbytes from src (here) to dst on pe, then sig on pe updated with signal (sig_op set: =,
//       add: +=) once the data is there: a wait on sig that sees the update sees the data
//   signal_op          args {sig, signal, pe}; attrs sig_op: the update alone (atomic, unordered
//                      with earlier puts unless a T::fence or T::quiet comes between)
//   signal_wait_until  args {sig, value}; attrs cmp (eq, ne, gt, ge, lt, le) -> uint64: waits until
//                      this rank's sig stands in the relation to value; returns the value seen
//
// sig is an element of a global uint64 tensor in the symmetric heap. The CPU backend copies the
// data, then updates the signal with a release store or add; signal_op is a relaxed atomic;
// signal_wait_until spins on acquire loads as a sim wait (deadlock report, timeout). On CUDA each
// is tl::dist's function of the same name (device/tilescale/dist_shmem.h), which does the same at
// system scope (a put's data is fenced before its signal; the wait is dist.h's acquire wait), or,
// when the target calls NVSHMEM, the wrapper of NVSHMEM's device call (nvshmem_calls.h).
#include <cstring>

#include "ir/printer.h"
#include "ops/builtin.h"

namespace tilescale::ops {
namespace {

using tilescale::detail::cat;

bool is_signal_op(const ir::BuiltinNode& call) { return call.op == "signal_op"; }
bool is_wait(const ir::BuiltinNode& call) { return call.op == "signal_wait_until"; }
bool is_put(const ir::BuiltinNode& call) { return !is_signal_op(call) && !is_wait(call); }
std::size_t sig_arg(const ir::BuiltinNode& call) { return is_put(call) ? 3 : 0; }
bool is_address(const ir::BuiltinNode& call, std::size_t arg) { return arg == sig_arg(call) || (is_put(call) && arg < 2); }

void verify(const ir::BuiltinNode& call) {
  const std::size_t sig = sig_arg(call);
  require_memory(call, sig, true, "signal");
  require_dtype(call, sig, DataType::UInt64, "signal");
  if (is_wait(call)) {
    checked_attr(call, "cmp", {"eq", "ne", "gt", "ge", "lt", "le"}, "the comparisons are");
    TS_ICHECK(call.args[1]->dtype == DataType::UInt64, "signal_wait_until value of another dtype");
    return;
  }
  checked_attr(call, "sig_op", {"set", "add"}, "the signal operations are");
  const ir::Expr& pe = call.args.back();
  require_integer(call, pe, "the rank");
  if (auto c = ir::as_const_int(pe); c && *c < 0)
    throw CompileError(cat("cannot call ", user_name(call), " with rank ", *c, " because NVSHMEM calls name a rank "
                           "(0 to get_num_ranks() - 1); pass T::get_rank() for this rank"));
  TS_ICHECK(call.args[sig + 1]->dtype == DataType::UInt64, "signal value of another dtype");
  if (!is_put(call)) return;
  require_memory(call, 0, true, "destination");
  require_memory(call, 1, false, "source");
  require_byte_count(call, call.args[2]);
}

std::atomic_ref<std::uint64_t> signal_word(std::byte* p) { return std::atomic_ref<std::uint64_t>(*reinterpret_cast<std::uint64_t*>(p)); }

void update(const ir::BuiltinNode& call, std::byte* p, std::uint64_t v, std::memory_order o) {
  if (call.str_attr("sig_op") == "set") signal_word(p).store(v, o);
  else signal_word(p).fetch_add(v, o);
}

CpuValue run(const ir::BuiltinNode& call, BuiltinCpuCall& cpu) {
  const CpuAddress sig = cpu.address(sig_arg(call));
  checked_bytes(call, cpu, sig, 1);
  check_aligned(call, cpu, sig, 8);
  if (is_wait(call)) {
    const CpuValue v{cpu.int_arg(1), 0};
    return cpu_wait(call, cpu, sig.data, DataType::UInt64, call.str_attr("cmp"), v, "acquire", cpu_target(sig, -1, cpu));
  }
  const std::int64_t pe = cpu.int_arg(call.args.size() - 1);
  check_peer(call, cpu, pe);
  const auto value = static_cast<std::uint64_t>(cpu.int_arg(sig_arg(call) + 1));
  if (is_signal_op(call)) {
    update(call, cpu_remote(call, cpu, sig, 8, pe), value, std::memory_order_relaxed);
    return {};
  }
  const CpuAddress dst = cpu.address(0), src = cpu.address(1);
  const std::int64_t nbytes = cpu.int_arg(2);
  for (const CpuAddress* a : {&dst, &src})
    if (nbytes < 0 || nbytes > a->elements * bytes(a->buffer->dtype))
      throw RuntimeError(cat("cannot call ", user_name(call), " on ", nbytes, " bytes at ", a->text, " ", cpu.where(),
                             " because ", a->buffer->name, " has ", a->elements * bytes(a->buffer->dtype),
                             " bytes from there; keep the byte count within the buffer"));
  if (nbytes > 0) std::memmove(cpu_remote(call, cpu, dst, nbytes, pe), src.data, static_cast<std::size_t>(nbytes));
  update(call, cpu_remote(call, cpu, sig, 8, pe), value, std::memory_order_release);
  return {};
}

// The namespace of the constants (signal operations, comparisons): tl::nvshmem's, which have
// NVSHMEM's values (nvshmem_calls.h), or tl::dist's (dist_shmem.h).
const char* constants(const cuda::LowerContext& ctx) { return ctx.target().nvshmem_calls ? "tl::nvshmem::" : "tl::dist::"; }

std::string sig_op(const ir::BuiltinNode& call, const cuda::LowerContext& ctx) {
  return cat(constants(ctx), call.str_attr("sig_op") == "set" ? "SIGNAL_SET" : "SIGNAL_ADD");
}

std::string lower(const ir::BuiltinNode& call, cuda::LowerContext& ctx) {
  if (is_wait(call)) {
    std::string cmp = call.str_attr("cmp");
    for (char& c : cmp) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    // NVSHMEM takes the comparison as an argument; tl::dist's wait (dist.h's Relation) as a template argument.
    if (ctx.target().nvshmem_calls)
      return cuda_shmem_call(call, ctx, {cuda_pointer(call, 0, ctx), cat(constants(ctx), "CMP_", cmp), ctx.expr(call.args[1])});
    return cat("tl::dist::signal_wait_until<tl::dist::", cmp, ">(", kCudaDistContext, ", ", cuda_pointer(call, 0, ctx), ", ",
               ctx.expr(call.args[1]), ")");
  }
  if (is_signal_op(call))
    return cuda_shmem_call(call, ctx,
                           {cuda_pointer(call, 0, ctx), ctx.expr(call.args[1]), sig_op(call, ctx), ctx.expr(call.args[2])});
  return cuda_shmem_call(call, ctx, {cuda_pointer(call, 0, ctx), cuda_pointer(call, 1, ctx),
                                     cat("(unsigned long long)(", ctx.expr(call.args[2]), ")"), cuda_pointer(call, 3, ctx),
                                     ctx.expr(call.args[4]), sig_op(call, ctx), ctx.expr(call.args[5])});
}

BuiltinDef def(const char* name) {
  const std::string n = name;
  const BuiltinScope scope = n.find("_block") != std::string::npos  ? BuiltinScope::Block
                             : n.find("_warp") != std::string::npos ? BuiltinScope::Warp
                                                                    : BuiltinScope::Thread;
  const bool wait = n == "signal_wait_until";
  return {name, scope, wait, wait, true, is_address, verify, run, lower};
}

}  // namespace

const std::vector<BuiltinDef>& nvshmem_signal_builtins() {
  static const std::vector<BuiltinDef> defs = {
      def("putmem_signal"),       def("putmem_signal_nbi"),       def("putmem_signal_warp"),
      def("putmem_signal_nbi_warp"), def("putmem_signal_block"), def("putmem_signal_nbi_block"),
      def("signal_op"),           def("signal_wait_until"),
  };
  return defs;
}

}  // namespace tilescale::ops
