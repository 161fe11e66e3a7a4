// ld and st: one load or store of 2, 4, 8 or 16 bytes with memory-ordering semantics, on this rank
// or another (REFERENCE.md §2).
//
//   ld  args {src, pe}               -> the element's value          (scalar)
//       args {src, dst, pe}, lanes   -> nothing; dst[0:lanes] = the lanes elements at src (vector)
//   st  args {dst, value, pe}                                         (scalar)
//       args {dst, src, pe}, lanes   -> dst[0:lanes] on rank pe = src[0:lanes] (vector)
//   attrs: sem, scope (cta, gpu, sys), na (L1::no_allocate, 0/1); ld also nc (0/1).
//
// The memory operand (src of ld, dst of st) is an element of a global tensor (symmetric when pe is
// another rank); the vector form's other operand is a local or var buffer of the same dtype, the
// value in registers. Legal semantics: ld weak, volatile, relaxed, acquire; st weak, volatile,
// relaxed, release. The scope applies to relaxed, acquire and release (a weak or volatile access
// has none: PTX rejects ld.weak.gpu, so a weak load is a plain ld.global). nc (the non-coherent
// read-only path) is for weak loads only; na is not for volatile accesses. A vector moves 2, 4, 8
// or 16 bytes in one access, and its address must be aligned to its size.
#include <cstring>

#include "ir/printer.h"
#include "ops/builtin.h"
#include "runtime/dist/sim.h"

namespace tilescale::ops {
namespace {

using tilescale::detail::cat;

bool is_vector(const ir::BuiltinNode& call) { return call.attrs.count("lanes") != 0; }
std::int64_t lanes(const ir::BuiltinNode& call) { return is_vector(call) ? call.int_attr("lanes") : 1; }
bool flag(const ir::BuiltinNode& call, const char* key) { return call.attrs.count(key) && call.int_attr(key) != 0; }

bool is_address(const ir::BuiltinNode& call, std::size_t arg) { return arg == 0 || (arg == 1 && is_vector(call)); }

// The size rules shared by ld and st; `memory` is the operand in global memory.
void check_size(const ir::BuiltinNode& call, const char* role) {
  const ir::BufferNode& b = *address_operand(call, 0).buffer;
  const std::int64_t n = lanes(call) * bytes(b.dtype);
  if (!is_vector(call)) {
    if (n != 2 && n != 4 && n != 8)
      throw CompileError(cat("cannot call ", user_name(call), " on ", ir::print(call.args[0]), " of ", name(b.dtype),
                             " because ", user_name(call), " moves 2, 4, 8 or 16 bytes; use a 16-, 32- or 64-bit ",
                             "element, or a local buffer of 16 bytes for a vector"));
    return;
  }
  const ir::BufferNode& local = *address_operand(call, 1).buffer;
  if (local.scope != ir::Scope::Local && local.scope != ir::Scope::Var)
    throw CompileError(cat("cannot call ", user_name(call), " with ", role, " ", local.name, " because it is a ",
                           ir::spelling(local.scope), " buffer; the vector form moves a local buffer (T::alloc_local) "
                           "to or from memory in one access"));
  if (local.dtype != b.dtype)
    throw CompileError(cat("cannot call ", user_name(call), " between ", ir::print(call.args[0]), " (", name(b.dtype),
                           ") and ", local.name, " (", name(local.dtype), ") because the vector form copies bytes; use ",
                           "one dtype on both sides"));
  if (n != 2 && n != 4 && n != 8 && n != 16)
    throw CompileError(cat("cannot call ", user_name(call), " with the ", lanes(call), " elements of ", local.name, " (", n,
                           " bytes) because ", user_name(call), " moves 2, 4, 8 or 16 bytes at once; size the local "
                           "buffer to one of those"));
}

const std::string& check_scope(const ir::BuiltinNode& call) {
  return checked_attr(call, "scope", {"cta", "gpu", "sys"}, "the scopes are");
}

void verify_ld(const ir::BuiltinNode& call) {
  require_memory(call, 0, true, "source");
  require_integer(call, call.args.back(), "the rank");
  const std::string& sem = checked_attr(call, "sem", {"weak", "volatile", "relaxed", "acquire"},
                                        "a load takes the semantics");
  check_scope(call);
  if (flag(call, "nc") && sem != "weak")
    throw CompileError(cat("cannot call T::ld with nc=true and sem=", sem, " because the non-coherent read-only path "
                           "(ld.global.nc) is a weak load; use sem=weak with nc, or drop nc"));
  if (flag(call, "na") && sem == "volatile")
    throw CompileError("cannot call T::ld with na=true and sem=volatile because L1::no_allocate applies to weak, relaxed "
                       "and acquire loads; drop na, or use one of those");
  check_size(call, "destination");
}

void verify_st(const ir::BuiltinNode& call) {
  require_memory(call, 0, true, "destination");
  require_integer(call, call.args.back(), "the rank");
  const std::string& sem = checked_attr(call, "sem", {"weak", "volatile", "relaxed", "release"},
                                        "a store takes the semantics");
  check_scope(call);
  if (flag(call, "na") && sem == "volatile")
    throw CompileError("cannot call T::st with na=true and sem=volatile because L1::no_allocate applies to weak, relaxed "
                       "and release stores; drop na, or use one of those");
  check_size(call, "source");
  if (!is_vector(call))
    TS_ICHECK(call.args[1]->dtype == address_operand(call, 0).buffer->dtype, "st value of another dtype");
}

// The PTX flavour of the access: ld_acquire_sys_na, st_weak, ld_nc...
std::string function(const ir::BuiltinNode& call, const char* kind) {
  const std::string& sem = call.str_attr("sem");
  std::string f = cat("tl::dist::", kind, "_");
  if (sem == "weak") f += flag(call, "nc") ? "nc" : "weak";
  else if (sem == "volatile") return f + "volatile";
  else f += cat(sem, "_", call.str_attr("scope"));
  return flag(call, "na") ? f + "_na" : f;
}

std::int64_t memory_bytes(const ir::BuiltinNode& call) { return lanes(call) * bytes(address_operand(call, 0).buffer->dtype); }

CpuValue run_ld(const ir::BuiltinNode& call, BuiltinCpuCall& cpu) {
  const CpuAddress src = cpu.address(0);
  const std::int64_t pe = cpu.int_arg(call.args.size() - 1);
  const std::int64_t n = checked_bytes(call, cpu, src, lanes(call));
  check_aligned(call, cpu, src, static_cast<int>(n));
  const std::byte* p = cpu_remote(call, cpu, src, n, pe);
  const std::string sem = flag(call, "nc") ? "weak" : call.str_attr("sem");
  alignas(16) std::byte raw[16];
  cpu_load(raw, p, static_cast<int>(n), sem);
  // Every load reports what it found, so that a spin loop over T::ld is bounded (sim.h).
  if (cpu.rank().world)
    cpu.participant().load(p, static_cast<int>(n), raw, [&] {
      std::string seen;
      const DataType t = src.buffer->dtype;
      for (std::int64_t i = 0; i < lanes(call); ++i) seen += cat(i ? ", " : "", cpu_text(t, cpu_read(t, raw + i * bytes(t))));
      return cat(user_name(call), " of ", cpu_target(src, pe, cpu), " (address ", static_cast<const void*>(p), ") ",
                 cpu.where(), ": observed ", is_vector(call) ? "[" + seen + "]" : seen);
    });
  if (!is_vector(call)) return cpu_read(src.buffer->dtype, raw);
  const CpuAddress dst = cpu.address(1);
  checked_bytes(call, cpu, dst, lanes(call));
  std::memcpy(dst.data, raw, static_cast<std::size_t>(n));
  return {};
}

CpuValue run_st(const ir::BuiltinNode& call, BuiltinCpuCall& cpu) {
  const CpuAddress dst = cpu.address(0);
  const std::int64_t pe = cpu.int_arg(call.args.size() - 1);
  const DataType t = dst.buffer->dtype;
  const std::int64_t n = checked_bytes(call, cpu, dst, lanes(call));
  alignas(16) std::byte raw[16];
  if (is_vector(call)) {
    const CpuAddress src = cpu.address(1);
    checked_bytes(call, cpu, src, lanes(call));
    std::memcpy(raw, src.data, static_cast<std::size_t>(n));
  } else if (is_float(t)) {
    store_double(t, cpu.float_arg(1), raw);
  } else {
    store_int(t, cpu.int_arg(1), raw);
  }
  check_aligned(call, cpu, dst, static_cast<int>(n));
  cpu_store(cpu_remote(call, cpu, dst, n, pe), raw, static_cast<int>(n), call.str_attr("sem"));
  return {};
}

std::string lower_ld(const ir::BuiltinNode& call, cuda::LowerContext& ctx) {
  const std::string ptr = cuda_remote_pointer(call, 0, call.args.back(), ctx);
  if (is_vector(call))
    return cat(function(call, "ld"), "_bytes<", memory_bytes(call), ">(", cuda_pointer(call, 1, ctx), ", ", ptr, ")");
  return cat(function(call, "ld"), "<", c_type(call.dtype), ">(", ptr, ")");
}

std::string lower_st(const ir::BuiltinNode& call, cuda::LowerContext& ctx) {
  const std::string ptr = cuda_remote_pointer(call, 0, call.args.back(), ctx);
  if (is_vector(call))
    return cat(function(call, "st"), "_bytes<", memory_bytes(call), ">(", ptr, ", ", cuda_pointer(call, 1, ctx), ")");
  const DataType t = address_operand(call, 0).buffer->dtype;
  return cat(function(call, "st"), "<", c_type(t), ">(", ptr, ", ", ctx.expr(call.args[1]), ")");
}

}  // namespace

const std::vector<BuiltinDef>& ld_st_builtins() {
  static const std::vector<BuiltinDef> defs = {
      // A load may sit in a spin loop waiting for another block's or rank's store: on the CPU backend
      // such a kernel runs every block on its own thread, as the GPU would run them side by side.
      {"ld", BuiltinScope::Thread, true, true, false, is_address, verify_ld, run_ld, lower_ld},
      {"st", BuiltinScope::Thread, false, false, false, is_address, verify_st, run_st, lower_st},
  };
  return defs;
}

}  // namespace tilescale::ops
