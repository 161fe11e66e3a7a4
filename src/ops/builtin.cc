#include "ops/builtin.h"

#include <cstring>
#include <functional>
#include <map>

#include "ir/printer.h"
#include "ir/visitor.h"
#include "ops/device_builtins.h"
#include "runtime/dist/sim.h"

namespace tilescale::ops {

using tilescale::detail::cat;

const std::vector<const BuiltinDef*>& all_builtins() {
  static const std::vector<const BuiltinDef*> defs = [] {
    std::vector<const BuiltinDef*> out;
    for (const auto* family : {&rank_builtins(), &ld_st_builtins(), &wait_builtins(), &atom_add_builtins(),
                               &fence_builtins(), &barrier_builtins(), &warp_builtins(), &copy_builtins(),
                               &nvshmem_rma_builtins(), &nvshmem_signal_builtins(), &nvshmem_sync_builtins()})
      for (const auto& d : *family) out.push_back(&d);
    return out;
  }();
  return defs;
}

const BuiltinDef& builtin(const std::string& name) {
  static const std::map<std::string, const BuiltinDef*> by_name = [] {
    std::map<std::string, const BuiltinDef*> m;
    for (const auto* d : all_builtins()) {
      TS_ICHECK(!m.count(d->name), "builtin ", d->name, " registered twice");
      m[d->name] = d;
    }
    return m;
  }();
  auto it = by_name.find(name);
  if (it == by_name.end()) throw InternalError(cat("unknown builtin '", name, "'"));
  return *it->second;
}

std::string user_name(const ir::BuiltinNode& call) { return "T::" + call.op; }

void verify_builtin(const ir::BuiltinNode& call, const BuiltinPlace& place) {
  if (find_device_builtin(call.op)) return check_device_call(call);  // placed by the passes that make it
  const BuiltinDef& def = builtin(call.op);
  TS_ICHECK(def.returns_value || place.evaluated, "builtin ", call.op, " returns nothing but is used as a value");
  TS_ICHECK(call.targs.empty(), "builtin ", call.op, " has no template parameters but is given ", call.targs.size());
  const std::string name = user_name(call);
  if (def.scope == BuiltinScope::Block && place.in_parallel)
    throw CompileError(cat("cannot call ", name, " inside a T::Parallel loop because the whole block executes it "
                           "together; move it out of the loop"));
  if (def.scope == BuiltinScope::Block && place.thread_dependent)
    throw CompileError(cat("cannot call ", name, " under control flow that depends on the thread index because the "
                           "whole block executes it together; move it out of the branch or loop (or use the warp or "
                           "thread variant from the threads you select)"));
  if (def.scope == BuiltinScope::Warp && place.in_parallel)
    throw CompileError(cat("cannot call ", name, " inside a T::Parallel loop because a warp executes it with all 32 "
                           "lanes together, not once per element; call it from warp-level code, e.g. under "
                           "T::If(tx / 32 == w, ...)"));
  def.verify(call);
}

namespace {

template <typename Pred>
bool any_builtin(const ir::Stmt& s, Pred pred) {
  struct Finder : ir::Visitor {
    Pred pred;
    bool found = false;
    explicit Finder(Pred p) : pred(p) {}
    void visit(const ir::BuiltinNode* op) override {
      found |= !find_device_builtin(op->op) && pred(builtin(op->op));
      Visitor::visit(op);
    }
  } f(pred);
  f.visit_stmt(s);
  return f.found;
}

}  // namespace

bool uses_builtins(const ir::Stmt& s) {
  return any_builtin(s, [](const BuiltinDef&) { return true; });
}
bool uses_blocking_builtins(const ir::Stmt& s) {
  return any_builtin(s, [](const BuiltinDef& d) { return d.blocks; });
}
bool uses_nvshmem_builtins(const ir::Stmt& s) {
  return any_builtin(s, [](const BuiltinDef& d) { return d.nvshmem; });
}

// ------------------------------------------------------------------------------------------------

const ir::LoadNode& address_operand(const ir::BuiltinNode& call, std::size_t arg) {
  TS_ICHECK(arg < call.args.size(), "builtin ", call.op, " has no argument ", arg);
  const auto* load = ir::as<ir::LoadNode>(call.args[arg]);
  TS_ICHECK(load, "memory operand ", arg, " of builtin ", call.op, " is not a buffer element");
  return *load;
}

void require_memory(const ir::BuiltinNode& call, std::size_t arg, bool global_only, const char* role) {
  const ir::BufferNode& b = *address_operand(call, arg).buffer;
  if (b.scope == ir::Scope::Global || (!global_only && b.scope == ir::Scope::Shared)) return;
  const char* what = b.scope == ir::Scope::Fragment ? ", spread over the block's registers"
                     : b.scope == ir::Scope::Shared ? ""
                                                    : ", private to a thread";
  throw CompileError(cat("cannot call ", user_name(call), " with ", role, " ", ir::print(call.args[arg]), " because ",
                         b.name, " is a ", ir::spelling(b.scope), " buffer", what, "; this operand must be an element of ",
                         global_only ? "a global tensor" : "a global tensor or a shared buffer",
                         " (a tensor in the symmetric heap when it is on another rank)"));
}

void require_dtype(const ir::BuiltinNode& call, std::size_t arg, DataType t, const char* role) {
  const ir::BufferNode& b = *address_operand(call, arg).buffer;
  if (b.dtype != t)
    throw CompileError(cat("cannot call ", user_name(call), " with ", role, " ", ir::print(call.args[arg]), " because ",
                           b.name, " is ", name(b.dtype), "; the ", role, " of ", user_name(call), " is ", name(t)));
}

const std::string& checked_attr(const ir::BuiltinNode& call, const std::string& key, const std::vector<std::string>& allowed,
                                const char* why) {
  const std::string& v = call.str_attr(key);
  for (const auto& a : allowed)
    if (v == a) return v;
  std::string legal;
  for (size_t i = 0; i < allowed.size(); ++i)
    legal += cat(i == 0 ? "" : i + 1 == allowed.size() ? " or " : ", ", allowed[i]);
  throw CompileError(cat("cannot call ", user_name(call), " with ", key, "=", v, " because ", why, " ", legal,
                         "; use one of those"));
}

void require_integer(const ir::BuiltinNode& call, const ir::Expr& e, const char* what) {
  if (!is_integer(e->dtype))
    throw CompileError(cat("cannot call ", user_name(call), " with ", what, " ", ir::print(e), " of type ", name(e->dtype),
                           "; it is an integer"));
}

void require_byte_count(const ir::BuiltinNode& call, const ir::Expr& n) {
  require_integer(call, n, "the byte count");
  if (auto c = ir::as_const_int(n); c && *c < 0)
    throw CompileError(cat("cannot call ", user_name(call), " with ", *c, " bytes; the byte count is 0 or more"));
}

void check_peer(const ir::BuiltinNode& call, BuiltinCpuCall& cpu, std::int64_t pe) {
  if (pe < 0 || pe >= cpu.rank().size())
    throw RuntimeError(cat("cannot call ", user_name(call), " with rank ", pe, " ", cpu.where(), " because the run has ",
                           cpu.rank().size(), cpu.rank().size() == 1 ? " rank" : " ranks", "; pass a rank from 0 to ",
                           cpu.rank().size() - 1));
}

std::string cuda_pointer(const ir::BuiltinNode& call, std::size_t arg, cuda::LowerContext& ctx) {
  const ir::LoadNode& l = address_operand(call, arg);
  return cat("(&", ctx.element(*l.buffer, l.indices), ")");
}

std::string cuda_remote_pointer(const ir::BuiltinNode& call, std::size_t arg, const ir::Expr& pe, cuda::LowerContext& ctx) {
  if (ir::as_const_int(pe) == -1) return cuda_pointer(call, arg, ctx);
  return cat("tl::dist::remote(", kCudaDistContext, ", ", cuda_pointer(call, arg, ctx), ", ", ctx.expr(pe), ")");
}

std::string cuda_shmem_call(const ir::BuiltinNode& call, const cuda::LowerContext& ctx, const std::vector<std::string>& args) {
  // nvshmem_calls.h names each wrapper ts_nvshmem_<op> and says which NVSHMEM call it makes.
  const bool nvshmem = ctx.target().nvshmem_calls;
  const std::string callee = cat(nvshmem ? "ts_nvshmem_" : "tl::dist::", call.op);
  std::string list = nvshmem ? "" : kCudaDistContext;
  for (const auto& a : args) list += cat(list.empty() ? "" : ", ", a);
  return cat(callee, "(", list, ")");
}

std::int64_t checked_bytes(const ir::BuiltinNode& call, BuiltinCpuCall& cpu, const CpuAddress& a, std::int64_t count) {
  if (count < 0)
    throw RuntimeError(cat("cannot call ", user_name(call), " on ", a.text, " with a count of ", count, " ", cpu.where(),
                           "; counts are 0 or more"));
  if (count > a.elements)
    throw RuntimeError(cat("cannot call ", user_name(call), " on ", count, " elements from ", a.text, " ", cpu.where(),
                           " because ", a.buffer->name, " has only ", a.elements,
                           " elements from there; keep the count within the buffer"));
  return count * bytes(a.buffer->dtype);
}

std::byte* cpu_remote(const ir::BuiltinNode& call, BuiltinCpuCall& cpu, const CpuAddress& a, std::int64_t nbytes,
                      std::int64_t pe) {
  return cpu.rank().translate(a.data, nbytes, pe, cat(a.text, " in ", user_name(call)), cpu.where());
}

void check_aligned(const ir::BuiltinNode& call, BuiltinCpuCall& cpu, const CpuAddress& a, int n) {
  if (reinterpret_cast<std::uintptr_t>(a.data) % n != 0)
    throw RuntimeError(cat("cannot call ", user_name(call), " on ", a.text, " ", cpu.where(), " because its address is not ",
                           n, "-byte aligned and ", user_name(call), " moves ", n,
                           " bytes at once; align the element (its index) to ", n, " bytes"));
}

std::memory_order cpu_order(const std::string& sem) {
  if (sem == "acquire") return std::memory_order_acquire;
  if (sem == "release") return std::memory_order_release;
  if (sem == "acq_rel") return std::memory_order_acq_rel;
  return std::memory_order_relaxed;
}

namespace {
template <typename U>
void atomic_load(void* dst, const std::byte* src, std::memory_order o) {
  const U v = std::atomic_ref<U>(*reinterpret_cast<U*>(const_cast<std::byte*>(src))).load(o);
  std::memcpy(dst, &v, sizeof(U));
}
template <typename U>
void atomic_store(std::byte* dst, const void* src, std::memory_order o) {
  U v;
  std::memcpy(&v, src, sizeof(U));
  std::atomic_ref<U>(*reinterpret_cast<U*>(dst)).store(v, o);
}
}  // namespace

void cpu_load(void* dst, const std::byte* src, int n, const std::string& sem) {
  if (sem == "weak" || n == 16 || n == 1) {
    std::memcpy(dst, src, n);
    if (sem == "acquire") std::atomic_thread_fence(std::memory_order_acquire);
    return;
  }
  const std::memory_order o = sem == "acquire" ? std::memory_order_acquire : std::memory_order_relaxed;
  switch (n) {
    case 2: return atomic_load<std::uint16_t>(dst, src, o);
    case 4: return atomic_load<std::uint32_t>(dst, src, o);
    case 8: return atomic_load<std::uint64_t>(dst, src, o);
  }
  throw InternalError(cat("load of ", n, " bytes"));
}

void cpu_store(std::byte* dst, const void* src, int n, const std::string& sem) {
  if (sem == "weak" || n == 16 || n == 1) {
    if (sem == "release") std::atomic_thread_fence(std::memory_order_release);
    std::memcpy(dst, src, n);
    return;
  }
  const std::memory_order o = sem == "release" ? std::memory_order_release : std::memory_order_relaxed;
  switch (n) {
    case 2: return atomic_store<std::uint16_t>(dst, src, o);
    case 4: return atomic_store<std::uint32_t>(dst, src, o);
    case 8: return atomic_store<std::uint64_t>(dst, src, o);
  }
  throw InternalError(cat("store of ", n, " bytes"));
}

CpuValue cpu_read(DataType t, const void* p) {
  CpuValue v;
  if (is_float(t)) v.f = load_as_double(t, p);
  else v.i = load_as_int(t, p);
  return v;
}

std::string cpu_text(DataType t, const CpuValue& v) {
  if (is_float(t)) return cat(v.f);
  if (t == DataType::UInt64) return std::to_string(static_cast<std::uint64_t>(v.i));
  return std::to_string(v.i);
}

bool cpu_holds(const std::string& rel, DataType t, const CpuValue& v, const CpuValue& e) {
  auto compare = [&](auto a, auto b) {
    if (rel == "eq") return a == b;
    if (rel == "ne") return a != b;
    if (rel == "ge") return a >= b;
    if (rel == "le") return a <= b;
    if (rel == "gt") return a > b;
    if (rel == "lt") return a < b;
    throw InternalError(cat("unknown relation ", rel));
  };
  if (is_float(t)) return compare(v.f, e.f);
  if (t == DataType::UInt64) return compare(static_cast<std::uint64_t>(v.i), static_cast<std::uint64_t>(e.i));
  return compare(v.i, e.i);
}

namespace {
const char* relation_symbol(const std::string& rel) {
  if (rel == "eq") return "==";
  if (rel == "ne") return "!=";
  if (rel == "ge") return ">=";
  if (rel == "le") return "<=";
  if (rel == "gt") return ">";
  return "<";
}
}  // namespace

CpuValue cpu_wait(const ir::BuiltinNode& call, BuiltinCpuCall& cpu, const std::byte* p, DataType t, const std::string& rel,
                  const CpuValue& expected, const std::string& sem, const std::string& target) {
  const int n = bytes(t);
  auto observe = [&] {
    alignas(8) std::byte raw[8];
    cpu_load(raw, p, n, sem);
    return cpu_read(t, raw);
  };
  // The watchdog calls `satisfied` too (from its thread): record only values that satisfy the wait.
  std::atomic<std::int64_t> seen_i{0};
  std::atomic<double> seen_f{0};
  const std::function<bool()> satisfied = [&] {
    const CpuValue v = observe();
    if (!cpu_holds(rel, t, v, expected)) return false;
    seen_i.store(v.i), seen_f.store(v.f);
    return true;
  };
  const std::string name = user_name(call);
  // Block-uniform code waits once for the whole block.
  const std::string where = cpu.where() + (cpu.thread() < 0 ? " (every thread of the block)" : "");
  const std::function<std::string()> describe = [&] {
    const CpuValue now = observe();
    return cat(name, " on ", target, " (address ", static_cast<const void*>(p), ") ", where, ": expected a value ",
               relation_symbol(rel), " ", cpu_text(t, expected), ", observed ", cpu_text(t, now));
  };
  cpu.participant().wait(satisfied, describe);
  return CpuValue{seen_i.load(), seen_f.load()};
}

std::string cpu_target(const CpuAddress& a, std::int64_t pe, const BuiltinCpuCall& cpu) {
  if (pe == -1 || pe == cpu.rank().rank) return cat(a.text, " on rank ", cpu.rank().rank, " (this rank)");
  return cat(a.text, " on rank ", pe);
}

}  // namespace tilescale::ops
