// atom_add: *addr += value atomically, on this rank or another, returning the old value.
//
//   args {addr, value, pe}; attrs scope (cta, gpu, sys), sem (relaxed, acquire, release, acq_rel)
//
// addr is an element of a global tensor (symmetric when pe is another rank) of int32, uint32,
// int64, uint64, float32 or float64. A release add publishes what the thread wrote before it (the
// per-tile counters of gemm_rs); an acquire add orders what follows. The CPU backend adds through
// std::atomic_ref with the matching C++ order.
#include "ir/printer.h"
#include "ops/builtin.h"

namespace tilescale::ops {
namespace {

using tilescale::detail::cat;

bool is_address(const ir::BuiltinNode&, std::size_t arg) { return arg == 0; }

void verify(const ir::BuiltinNode& call) {
  require_memory(call, 0, true, "address");
  require_integer(call, call.args[2], "the rank");
  const ir::BufferNode& b = *address_operand(call, 0).buffer;
  switch (b.dtype) {
    case DataType::Int32: case DataType::UInt32: case DataType::Int64: case DataType::UInt64:
    case DataType::Float32: case DataType::Float64: break;
    default:
      throw CompileError(cat("cannot call T::atom_add on ", ir::print(call.args[0]), " because ", b.name, " is ",
                             name(b.dtype), "; atom_add adds int32, uint32, int64, uint64, float32 or float64"));
  }
  TS_ICHECK(call.args[1]->dtype == b.dtype && call.dtype == b.dtype, "atom_add value of another dtype");
  checked_attr(call, "scope", {"cta", "gpu", "sys"}, "the scopes are");
  checked_attr(call, "sem", {"relaxed", "acquire", "release", "acq_rel"}, "an atomic takes the semantics");
}

template <typename T>
T fetch_add(std::byte* p, T v, std::memory_order o) {
  return std::atomic_ref<T>(*reinterpret_cast<T*>(p)).fetch_add(v, o);
}

CpuValue run(const ir::BuiltinNode& call, BuiltinCpuCall& cpu) {
  const CpuAddress a = cpu.address(0);
  const std::int64_t pe = cpu.int_arg(2);
  const DataType t = a.buffer->dtype;
  const std::int64_t n = checked_bytes(call, cpu, a, 1);
  check_aligned(call, cpu, a, static_cast<int>(n));
  std::byte* p = cpu_remote(call, cpu, a, n, pe);
  const std::memory_order o = cpu_order(call.str_attr("sem"));
  switch (t) {
    case DataType::Int32: return {fetch_add<std::int32_t>(p, static_cast<std::int32_t>(cpu.int_arg(1)), o), 0};
    case DataType::UInt32: return {fetch_add<std::uint32_t>(p, static_cast<std::uint32_t>(cpu.int_arg(1)), o), 0};
    case DataType::Int64: return {fetch_add<std::int64_t>(p, cpu.int_arg(1), o), 0};
    case DataType::UInt64:
      return {static_cast<std::int64_t>(fetch_add<std::uint64_t>(p, static_cast<std::uint64_t>(cpu.int_arg(1)), o)), 0};
    case DataType::Float32: return {0, fetch_add<float>(p, static_cast<float>(cpu.float_arg(1)), o)};
    case DataType::Float64: return {0, fetch_add<double>(p, cpu.float_arg(1), o)};
    default: break;
  }
  throw InternalError(cat("atom_add of ", name(t)));
}

std::string lower(const ir::BuiltinNode& call, cuda::LowerContext& ctx) {
  return cat("tl::dist::atom_add_", call.str_attr("sem"), "_", call.str_attr("scope"), "(",
             cuda_remote_pointer(call, 0, call.args[2], ctx), ", (", c_type(call.dtype), ")(", ctx.expr(call.args[1]), "))");
}

}  // namespace

const std::vector<BuiltinDef>& atom_add_builtins() {
  static const std::vector<BuiltinDef> defs = {
      {"atom_add", BuiltinScope::Thread, true, false, false, is_address, verify, run, lower},
  };
  return defs;
}

}  // namespace tilescale::ops
