// Copies between this rank and another, in elements (TileScale's vocabulary).
//
//   put_warp   args {src, dst, n, dst_pe}; attrs unroll, vectorize: one warp copies n elements
//              from src (here) to dst on rank dst_pe, lane-strided, `unroll` loads in flight per
//              lane, 16-byte vectors when `vectorize` and both ends are aligned
//   get_warp   args {src, dst, n, src_pe}; attrs unroll, vectorize: from src on rank src_pe to dst
//   put_block  args {src, dst, n, dst_pe}: the whole block copies, in the widest aligned chunks
//   get_block  args {src, dst, n, src_pe}
//
// The remote side is an element of a global tensor (symmetric), the local side of a global tensor
// or a shared buffer (both sides may be shared when the rank is the constant -1), of one dtype; n counts elements from there (both sides must hold them).
// A rank of -1 means this rank. No fence, no completion beyond the copy itself: the warp forms end
// with __syncwarp, the block forms with __syncthreads (so that one thread may then publish the copy
// with a release store). The CPU backend copies with memmove, once per warp or block.
#include <cstring>

#include "ir/printer.h"
#include "ops/builtin.h"

namespace tilescale::ops {
namespace {

using tilescale::detail::cat;

bool is_address(const ir::BuiltinNode&, std::size_t arg) { return arg < 2; }
bool is_put(const ir::BuiltinNode& call) { return call.op.rfind("put", 0) == 0; }
bool is_warp(const ir::BuiltinNode& call) { return call.op.find("_warp") != std::string::npos; }

void verify(const ir::BuiltinNode& call) {
  const bool put = is_put(call);
  // The remote side must be global (symmetric) unless the rank is the constant -1 (a local copy).
  const bool local = ir::as_const_int(call.args[3]) == -1;
  require_memory(call, 0, !put && !local, "source");
  require_memory(call, 1, put && !local, "destination");
  require_integer(call, call.args[2], "the element count");
  require_integer(call, call.args[3], "the rank");
  const ir::BufferNode &src = *address_operand(call, 0).buffer, &dst = *address_operand(call, 1).buffer;
  if (src.dtype != dst.dtype)
    throw CompileError(cat("cannot call ", user_name(call), " from ", src.name, " (", name(src.dtype), ") to ", dst.name,
                           " (", name(dst.dtype), ") because it copies elements as they are; use one dtype on both sides"));
  if (auto n = ir::as_const_int(call.args[2]); n && *n < 0)
    throw CompileError(cat("cannot call ", user_name(call), " with ", *n, " elements; the count is 0 or more"));
  if (is_warp(call) && call.int_attr("unroll") < 1)
    throw CompileError(cat("cannot call ", user_name(call), " with unroll=", call.int_attr("unroll"),
                           "; unroll is 1 or more loads in flight per lane"));
}

CpuValue run(const ir::BuiltinNode& call, BuiltinCpuCall& cpu) {
  const CpuAddress src = cpu.address(0), dst = cpu.address(1);
  const std::int64_t n = cpu.int_arg(2), pe = cpu.int_arg(3);
  const std::int64_t bytes = checked_bytes(call, cpu, src, n);
  checked_bytes(call, cpu, dst, n);
  if (bytes == 0) return {};
  const std::byte* from = is_put(call) ? src.data : cpu_remote(call, cpu, src, bytes, pe);
  std::byte* to = is_put(call) ? cpu_remote(call, cpu, dst, bytes, pe) : dst.data;
  std::memmove(to, from, static_cast<std::size_t>(bytes));
  return {};
}

std::string lower(const ir::BuiltinNode& call, cuda::LowerContext& ctx) {
  const ir::Expr& pe = call.args[3];
  const std::string src = is_put(call) ? cuda_pointer(call, 0, ctx) : cuda_remote_pointer(call, 0, pe, ctx);
  const std::string dst = is_put(call) ? cuda_remote_pointer(call, 1, pe, ctx) : cuda_pointer(call, 1, ctx);
  const std::string n = ctx.expr(call.args[2]);
  if (is_warp(call))
    return cat("tl::dist::copy_warp<", call.int_attr("unroll"), ", ", call.int_attr("vectorize") ? "true" : "false", ">(",
               dst, ", ", src, ", (long long)(", n, "))");
  return cat("tl::dist::copy_block(", dst, ", ", src, ", (long long)(", n, "))");
}

}  // namespace

const std::vector<BuiltinDef>& copy_builtins() {
  static const std::vector<BuiltinDef> defs = {
      {"put_warp", BuiltinScope::Warp, false, false, false, is_address, verify, run, lower},
      {"get_warp", BuiltinScope::Warp, false, false, false, is_address, verify, run, lower},
      {"put_block", BuiltinScope::Block, false, false, false, is_address, verify, run, lower},
      {"get_block", BuiltinScope::Block, false, false, false, is_address, verify, run, lower},
  };
  return defs;
}

}  // namespace tilescale::ops
