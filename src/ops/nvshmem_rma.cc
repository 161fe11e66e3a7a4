// NVSHMEM's puts and gets (NVSHMEM's vocabulary: destination first, sizes in bytes).
//
//   putmem{,_nbi}{,_warp,_block}  args {dst, src, nbytes, pe}: nbytes from src (here) to dst on pe
//   getmem{,_nbi}{,_warp,_block}  args {dst, src, nbytes, pe}: nbytes from src on pe to dst (here)
//   int_p                         args {dst, value, pe}: one int32 to dst on pe
//
// The remote side is an element of a global tensor in the symmetric heap, the local side of a
// global tensor or a shared buffer. pe is a rank (0 to get_num_ranks() - 1; NVSHMEM has no "this
// rank" shorthand). Blocking forms return when the local side may be reused (a put) or holds the
// data (a get); _nbi forms return at once and complete at T::quiet (or a barrier). The plain forms
// are thread-scope, _warp and _block forms warp- and block-scope. On CUDA each is tl::dist's
// function of the same name (device/tilescale/dist_shmem.h: plain copies with the remote side
// translated, int_p a relaxed store, so _nbi transfers have completed when they return), or, when
// the target calls NVSHMEM, the wrapper of NVSHMEM's device call (nvshmem_calls.h). The CPU
// backend copies at once too.
#include <cstring>

#include "ir/printer.h"
#include "ops/builtin.h"

namespace tilescale::ops {
namespace {

using tilescale::detail::cat;

bool is_int_p(const ir::BuiltinNode& call) { return call.op == "int_p"; }
bool is_put(const ir::BuiltinNode& call) { return call.op.rfind("put", 0) == 0 || is_int_p(call); }
bool is_address(const ir::BuiltinNode& call, std::size_t arg) { return arg == 0 || (arg == 1 && !is_int_p(call)); }

void require_rank(const ir::BuiltinNode& call, const ir::Expr& pe) {
  require_integer(call, pe, "the rank");
  if (auto c = ir::as_const_int(pe); c && *c < 0)
    throw CompileError(cat("cannot call ", user_name(call), " with rank ", *c, " because NVSHMEM calls name a rank "
                           "(0 to get_num_ranks() - 1); pass T::get_rank() for this rank"));
}

void verify(const ir::BuiltinNode& call) {
  if (is_int_p(call)) {
    require_memory(call, 0, true, "destination");
    require_dtype(call, 0, DataType::Int32, "destination");
    TS_ICHECK(call.args[1]->dtype == DataType::Int32, "int_p value of another dtype");
    return require_rank(call, call.args[2]);
  }
  const bool put = is_put(call);
  require_memory(call, 0, put, "destination");
  require_memory(call, 1, !put, "source");
  require_integer(call, call.args[2], "the byte count");
  require_rank(call, call.args[3]);
  if (auto n = ir::as_const_int(call.args[2]); n && *n < 0)
    throw CompileError(cat("cannot call ", user_name(call), " with ", *n, " bytes; the byte count is 0 or more"));
}

// The bytes of an operand, checked against its buffer.
void check_room(const ir::BuiltinNode& call, BuiltinCpuCall& cpu, const CpuAddress& a, std::int64_t nbytes) {
  const std::int64_t room = a.elements * bytes(a.buffer->dtype);
  if (nbytes < 0 || nbytes > room)
    throw RuntimeError(cat("cannot call ", user_name(call), " on ", nbytes, " bytes at ", a.text, " ", cpu.where(),
                           " because ", a.buffer->name, " has ", room, " bytes from there; keep the byte count within ",
                           "the buffer"));
}

CpuValue run(const ir::BuiltinNode& call, BuiltinCpuCall& cpu) {
  const CpuAddress dst = cpu.address(0);
  if (is_int_p(call)) {
    const std::int64_t pe = cpu.int_arg(2);
    check_peer(call, cpu, pe);
    check_room(call, cpu, dst, 4);
    check_aligned(call, cpu, dst, 4);
    const auto v = static_cast<std::int32_t>(cpu.int_arg(1));
    cpu_store(cpu_remote(call, cpu, dst, 4, pe), &v, 4, "relaxed");
    return {};
  }
  const CpuAddress src = cpu.address(1);
  const std::int64_t nbytes = cpu.int_arg(2), pe = cpu.int_arg(3);
  check_peer(call, cpu, pe);
  check_room(call, cpu, dst, nbytes);
  check_room(call, cpu, src, nbytes);
  if (nbytes == 0) return {};
  std::byte* to = is_put(call) ? cpu_remote(call, cpu, dst, nbytes, pe) : dst.data;
  const std::byte* from = is_put(call) ? src.data : cpu_remote(call, cpu, src, nbytes, pe);
  std::memmove(to, from, static_cast<std::size_t>(nbytes));
  return {};
}

std::string lower(const ir::BuiltinNode& call, cuda::LowerContext& ctx) {
  if (is_int_p(call))
    return cuda_shmem_call(call, ctx, {cuda_pointer(call, 0, ctx), ctx.expr(call.args[1]), ctx.expr(call.args[2])});
  return cuda_shmem_call(call, ctx, {cuda_pointer(call, 0, ctx), cuda_pointer(call, 1, ctx),
                                     cat("(unsigned long long)(", ctx.expr(call.args[2]), ")"), ctx.expr(call.args[3])});
}

BuiltinDef def(const char* name) {
  const std::string n = name;
  const BuiltinScope scope = n.find("_block") != std::string::npos  ? BuiltinScope::Block
                             : n.find("_warp") != std::string::npos ? BuiltinScope::Warp
                                                                    : BuiltinScope::Thread;
  return {name, scope, false, false, true, is_address, verify, run, lower};
}

}  // namespace

const std::vector<BuiltinDef>& nvshmem_rma_builtins() {
  static const std::vector<BuiltinDef> defs = {
      def("putmem"),       def("putmem_nbi"),       def("putmem_warp"),  def("putmem_nbi_warp"),
      def("putmem_block"), def("putmem_nbi_block"), def("getmem"),       def("getmem_nbi"),
      def("getmem_warp"),  def("getmem_nbi_warp"),  def("getmem_block"), def("getmem_nbi_block"),
      def("int_p"),
  };
  return defs;
}

}  // namespace tilescale::ops
