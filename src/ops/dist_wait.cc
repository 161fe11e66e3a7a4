// wait_eq, wait_ne, wait_ge, wait_le, wait_gt, wait_lt: spin until the flag stands in the relation
// to the expected value.
//
//   args {flag, expected, pe}; attrs scope (gpu, sys), sem (acquire, volatile)
//
// The flag is an element of a global tensor holding a 2-, 4- or 8-byte integer, on this rank (pe
// -1) or on rank pe (symmetric). Each spin is an acquire load at the scope (so once the wait
// returns, what the writer published before its release store is visible) or a volatile load (no
// ordering: pair it with a fence). Every thread that reaches a wait waits; as the result is the
// same for all, the CPU backend waits once in block-uniform code. On the CPU backend a wait shows
// the sim's watchdog what it waits for (deadlock report, per-wait timeout).
#include "ir/printer.h"
#include "ops/builtin.h"

namespace tilescale::ops {
namespace {

using tilescale::detail::cat;

bool is_address(const ir::BuiltinNode&, std::size_t arg) { return arg == 0; }

std::string relation(const ir::BuiltinNode& call) { return call.op.substr(5); }  // "wait_eq" -> "eq"

void verify(const ir::BuiltinNode& call) {
  require_memory(call, 0, true, "flag");
  require_integer(call, call.args[2], "the rank");
  const ir::BufferNode& b = *address_operand(call, 0).buffer;
  if (!is_integer(b.dtype) || bytes(b.dtype) < 2)
    throw CompileError(cat("cannot call ", user_name(call), " on ", ir::print(call.args[0]), " because ", b.name, " is ",
                           name(b.dtype), "; waits compare 16-, 32- or 64-bit integer flags (int32, uint64...)"));
  TS_ICHECK(call.args[1]->dtype == b.dtype, "wait expected value of another dtype");
  checked_attr(call, "scope", {"gpu", "sys"}, "a wait takes the scopes");
  checked_attr(call, "sem", {"acquire", "volatile"}, "a wait takes the semantics");
}

CpuValue run(const ir::BuiltinNode& call, BuiltinCpuCall& cpu) {
  const CpuAddress flag = cpu.address(0);
  const std::int64_t pe = cpu.int_arg(2);
  const DataType t = flag.buffer->dtype;
  const std::int64_t n = checked_bytes(call, cpu, flag, 1);
  check_aligned(call, cpu, flag, static_cast<int>(n));
  const std::byte* p = cpu_remote(call, cpu, flag, n, pe);
  cpu_wait(call, cpu, p, t, relation(call), CpuValue{cpu.int_arg(1), 0}, call.str_attr("sem"), cpu_target(flag, pe, cpu));
  return {};
}

std::string lower(const ir::BuiltinNode& call, cuda::LowerContext& ctx) {
  const std::string& sem = call.str_attr("sem");
  const std::string fn = sem == "volatile" ? "wait_volatile" : cat("wait_acquire_", call.str_attr("scope"));
  std::string rel = relation(call);
  for (char& c : rel) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return cat("tl::dist::", fn, "<tl::dist::", rel, ", ", c_type(call.args[1]->dtype), ">(",
             cuda_remote_pointer(call, 0, call.args[2], ctx), ", ", ctx.expr(call.args[1]), ", ", kCudaDistContext, ")");
}

BuiltinDef def(const char* name) { return {name, BuiltinScope::Uniform, false, true, false, is_address, verify, run, lower}; }

}  // namespace

const std::vector<BuiltinDef>& wait_builtins() {
  static const std::vector<BuiltinDef> defs = {def("wait_eq"), def("wait_ne"), def("wait_ge"),
                                               def("wait_le"), def("wait_gt"), def("wait_lt")};
  return defs;
}

}  // namespace tilescale::ops
