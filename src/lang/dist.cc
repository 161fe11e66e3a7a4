// The distributed operators of the front end: each builds a builtin call (src/ops/builtin.h, whose
// family files give the argument layouts) and appends it as a statement, or returns it as a value.
#include "ir/IR.h"
#include "lang/builder.h"
#include "tilescale/errors.h"
#include "tilescale/lang.h"

namespace tilescale::lang {

using tilescale::detail::cat;

namespace {

const char* scope_name(MemScope s) {
  switch (s) {
    case MemScope::CTA: return "cta";
    case MemScope::GPU: return "gpu";
    case MemScope::SYS: return "sys";
  }
  return "?";
}

const char* sem_name(MemSem s) {
  switch (s) {
    case MemSem::Weak: return "weak";
    case MemSem::Volatile: return "volatile";
    case MemSem::Relaxed: return "relaxed";
    case MemSem::Acquire: return "acquire";
    case MemSem::Release: return "release";
    case MemSem::AcqRel: return "acq_rel";
  }
  return "?";
}

const char* sig_op_name(SignalOp op) { return op == SignalOp::Set ? "set" : "add"; }

const char* cmp_name(Cmp c) {
  switch (c) {
    case Cmp::EQ: return "eq";
    case Cmp::NE: return "ne";
    case Cmp::GT: return "gt";
    case Cmp::GE: return "ge";
    case Cmp::LT: return "lt";
    case Cmp::LE: return "le";
  }
  return "?";
}

// A memory operand: the element the reference names.
ir::Expr address(const BufferRef& r) {
  std::vector<ir::Expr> idx;
  for (const auto& i : r.indices()) idx.push_back(i.node());
  return ir::make_load(r.buffer(), std::move(idx));
}

// The first element of a whole (local) buffer, and its element count.
ir::Expr first_element(const Buffer& b) {
  return ir::make_load(b.node(), std::vector<ir::Expr>(b.rank(), ir::make_int(0)));
}
std::int64_t elements(const Buffer& b, const char* what) {
  std::int64_t n = 1;
  for (int d = 0; d < b.rank(); ++d) {
    auto c = ir::as_const_int(b.node()->shape[d]);
    if (!c)
      throw CompileError(cat("cannot use ", b.name(), " as the values of T::", what, " because its shape is not constant; ",
                             "use a local buffer (T::alloc_local) of constant shape"));
    n *= *c;
  }
  return n;
}

ir::Expr value(const Expr& e) { return e.node(); }

ir::Stmt evaluate(const char* op, std::vector<ir::Expr> args, ir::Attrs attrs = {}) {
  return ir::make_evaluate(ir::make_builtin(DataType::Int32, op, std::move(args), std::move(attrs)));
}

void call(const char* op, std::vector<ir::Expr> args, ir::Attrs attrs = {}) {
  detail::require_kernel(op);
  detail::emit_statement(op, evaluate(op, std::move(args), std::move(attrs)));
}

// A builtin with a result and effects: bound to a fresh variable at the call, so it runs here, once.
Expr bound(const char* op, DataType t, std::vector<ir::Expr> args, ir::Attrs attrs, const std::string& name) {
  detail::require_kernel(op);
  Scalar v = alloc_var(t, name);
  v = Expr(ir::make_builtin(t, op, std::move(args), std::move(attrs)));
  return v;
}

ir::Attrs ld_attrs(MemScope scope, MemSem sem, bool na, bool nc) {
  return {{"scope", std::string(scope_name(scope))}, {"sem", std::string(sem_name(sem))},
          {"na", std::int64_t(na)}, {"nc", std::int64_t(nc)}};
}

void wait(const char* op, const BufferRef& flag, const Expr& expected, const Expr& peer, MemScope scope, MemSem sem) {
  call(op, {address(flag), detail::value_as(expected, flag.buffer()->dtype), value(peer)},
       {{"scope", std::string(scope_name(scope))}, {"sem", std::string(sem_name(sem))}});
}

void copy(const char* op, const BufferRef& src, const BufferRef& dst, const Expr& n, const Expr& pe, ir::Attrs attrs = {}) {
  call(op, {address(src), address(dst), value(n), value(pe)}, std::move(attrs));
}

void mem(const char* op, const BufferRef& dst, const BufferRef& src, const Expr& nbytes, const Expr& pe) {
  call(op, {address(dst), address(src), value(nbytes), value(pe)});
}

void mem_signal(const char* op, const BufferRef& dst, const BufferRef& src, const Expr& nbytes, const BufferRef& sig,
                const Expr& signal, SignalOp sop, const Expr& pe) {
  call(op, {address(dst), address(src), value(nbytes), address(sig), detail::value_as(signal, DataType::UInt64), value(pe)},
       {{"sig_op", std::string(sig_op_name(sop))}});
}

ir::Expr mask(const Expr& m) { return detail::value_as(m, DataType::UInt32); }

}  // namespace

Expr get_rank() {
  detail::require_kernel("get_rank");
  return Expr(ir::make_builtin(DataType::Int32, "get_rank", {}));
}
Expr get_num_ranks() {
  detail::require_kernel("get_num_ranks");
  return Expr(ir::make_builtin(DataType::Int32, "get_num_ranks", {}));
}

Expr ld(const BufferRef& src, MemScope scope, MemSem sem, bool na, bool nc, const Expr& src_pe) {
  detail::require_kernel("ld");
  return Expr(ir::make_builtin(src.buffer()->dtype, "ld", {address(src), value(src_pe)}, ld_attrs(scope, sem, na, nc)));
}
void ld(const BufferRef& src, const BufferRef& v, MemScope scope, MemSem sem, bool na, bool nc, const Expr& src_pe) {
  v = ld(src, scope, sem, na, nc, src_pe);
}
void ld(const BufferRef& src, const Scalar& v, MemScope scope, MemSem sem, bool na, bool nc, const Expr& src_pe) {
  v = ld(src, scope, sem, na, nc, src_pe);
}
void ld(const BufferRef& src, const Buffer& values, MemScope scope, MemSem sem, bool na, bool nc, const Expr& src_pe) {
  ir::Attrs attrs = ld_attrs(scope, sem, na, nc);
  attrs["lanes"] = elements(values, "ld");
  call("ld", {address(src), first_element(values), value(src_pe)}, std::move(attrs));
}

void st(const BufferRef& dst, const Expr& v, MemScope scope, MemSem sem, bool na, const Expr& dst_pe) {
  call("st", {address(dst), detail::value_as(v, dst.buffer()->dtype), value(dst_pe)},
       {{"scope", std::string(scope_name(scope))}, {"sem", std::string(sem_name(sem))}, {"na", std::int64_t(na)}});
}
void st(const BufferRef& dst, const Buffer& values, MemScope scope, MemSem sem, bool na, const Expr& dst_pe) {
  call("st", {address(dst), first_element(values), value(dst_pe)},
       {{"scope", std::string(scope_name(scope))}, {"sem", std::string(sem_name(sem))}, {"na", std::int64_t(na)},
        {"lanes", elements(values, "st")}});
}

void wait_eq(const BufferRef& f, const Expr& e, const Expr& p, MemScope s, MemSem m) { wait("wait_eq", f, e, p, s, m); }
void wait_ne(const BufferRef& f, const Expr& e, const Expr& p, MemScope s, MemSem m) { wait("wait_ne", f, e, p, s, m); }
void wait_ge(const BufferRef& f, const Expr& e, const Expr& p, MemScope s, MemSem m) { wait("wait_ge", f, e, p, s, m); }
void wait_le(const BufferRef& f, const Expr& e, const Expr& p, MemScope s, MemSem m) { wait("wait_le", f, e, p, s, m); }
void wait_gt(const BufferRef& f, const Expr& e, const Expr& p, MemScope s, MemSem m) { wait("wait_gt", f, e, p, s, m); }
void wait_lt(const BufferRef& f, const Expr& e, const Expr& p, MemScope s, MemSem m) { wait("wait_lt", f, e, p, s, m); }

Expr atom_add(const BufferRef& addr, const Expr& v, MemScope scope, MemSem sem, const Expr& pe) {
  const DataType t = addr.buffer()->dtype;
  return bound("atom_add", t, {address(addr), detail::value_as(v, t), value(pe)},
               {{"scope", std::string(scope_name(scope))}, {"sem", std::string(sem_name(sem))}}, "old");
}
void fence_cta() { call("fence_cta", {}); }
void fence_gpu() { call("fence_gpu", {}); }
void fence_sys() { call("fence_sys", {}); }
void barrier_blocks(const BufferRef& bar) { call("barrier_blocks", {address(bar)}); }
void sync_blocks(const BufferRef& bar) { call("sync_blocks", {address(bar)}); }
void sync_grid(const BufferRef& counter) { call("sync_grid", {address(counter)}); }

Expr warp_any(const Expr& v, const Expr& m) {
  detail::require_kernel("warp_any");
  return Expr(ir::make_builtin(DataType::Bool, "warp_any", {detail::condition(v), mask(m)}));
}
Expr warp_all(const Expr& v, const Expr& m) {
  detail::require_kernel("warp_all");
  return Expr(ir::make_builtin(DataType::Bool, "warp_all", {detail::condition(v), mask(m)}));
}
Expr shuffle_elect(const Expr& extent) {
  detail::require_kernel("shuffle_elect");
  return Expr(ir::make_builtin(DataType::Bool, "shuffle_elect", {value(extent)}));
}
void sync_warp(const Expr& m) { call("sync_warp", {mask(m)}); }

void put_warp(const BufferRef& src, const BufferRef& dst, const Expr& n, const Expr& pe, int unroll, bool vectorize) {
  copy("put_warp", src, dst, n, pe, {{"unroll", std::int64_t(unroll)}, {"vectorize", std::int64_t(vectorize)}});
}
void get_warp(const BufferRef& src, const BufferRef& dst, const Expr& n, const Expr& pe, int unroll, bool vectorize) {
  copy("get_warp", src, dst, n, pe, {{"unroll", std::int64_t(unroll)}, {"vectorize", std::int64_t(vectorize)}});
}
void put_block(const BufferRef& src, const BufferRef& dst, const Expr& n, const Expr& pe) { copy("put_block", src, dst, n, pe); }
void get_block(const BufferRef& src, const BufferRef& dst, const Expr& n, const Expr& pe) { copy("get_block", src, dst, n, pe); }

void putmem(const BufferRef& d, const BufferRef& s, const Expr& n, const Expr& pe) { mem("putmem", d, s, n, pe); }
void putmem_nbi(const BufferRef& d, const BufferRef& s, const Expr& n, const Expr& pe) { mem("putmem_nbi", d, s, n, pe); }
void putmem_warp(const BufferRef& d, const BufferRef& s, const Expr& n, const Expr& pe) { mem("putmem_warp", d, s, n, pe); }
void putmem_nbi_warp(const BufferRef& d, const BufferRef& s, const Expr& n, const Expr& pe) {
  mem("putmem_nbi_warp", d, s, n, pe);
}
void putmem_block(const BufferRef& d, const BufferRef& s, const Expr& n, const Expr& pe) { mem("putmem_block", d, s, n, pe); }
void putmem_nbi_block(const BufferRef& d, const BufferRef& s, const Expr& n, const Expr& pe) {
  mem("putmem_nbi_block", d, s, n, pe);
}
void getmem(const BufferRef& d, const BufferRef& s, const Expr& n, const Expr& pe) { mem("getmem", d, s, n, pe); }
void getmem_nbi(const BufferRef& d, const BufferRef& s, const Expr& n, const Expr& pe) { mem("getmem_nbi", d, s, n, pe); }
void getmem_warp(const BufferRef& d, const BufferRef& s, const Expr& n, const Expr& pe) { mem("getmem_warp", d, s, n, pe); }
void getmem_nbi_warp(const BufferRef& d, const BufferRef& s, const Expr& n, const Expr& pe) {
  mem("getmem_nbi_warp", d, s, n, pe);
}
void getmem_block(const BufferRef& d, const BufferRef& s, const Expr& n, const Expr& pe) { mem("getmem_block", d, s, n, pe); }
void getmem_nbi_block(const BufferRef& d, const BufferRef& s, const Expr& n, const Expr& pe) {
  mem("getmem_nbi_block", d, s, n, pe);
}
void int_p(const BufferRef& dst, const Expr& v, const Expr& pe) {
  call("int_p", {address(dst), detail::value_as(v, DataType::Int32), value(pe)});
}

void putmem_signal(const BufferRef& d, const BufferRef& s, const Expr& n, const BufferRef& sig, const Expr& v, SignalOp op,
                   const Expr& pe) {
  mem_signal("putmem_signal", d, s, n, sig, v, op, pe);
}
void putmem_signal_nbi(const BufferRef& d, const BufferRef& s, const Expr& n, const BufferRef& sig, const Expr& v,
                       SignalOp op, const Expr& pe) {
  mem_signal("putmem_signal_nbi", d, s, n, sig, v, op, pe);
}
void putmem_signal_warp(const BufferRef& d, const BufferRef& s, const Expr& n, const BufferRef& sig, const Expr& v,
                        SignalOp op, const Expr& pe) {
  mem_signal("putmem_signal_warp", d, s, n, sig, v, op, pe);
}
void putmem_signal_nbi_warp(const BufferRef& d, const BufferRef& s, const Expr& n, const BufferRef& sig, const Expr& v,
                            SignalOp op, const Expr& pe) {
  mem_signal("putmem_signal_nbi_warp", d, s, n, sig, v, op, pe);
}
void putmem_signal_block(const BufferRef& d, const BufferRef& s, const Expr& n, const BufferRef& sig, const Expr& v,
                         SignalOp op, const Expr& pe) {
  mem_signal("putmem_signal_block", d, s, n, sig, v, op, pe);
}
void putmem_signal_nbi_block(const BufferRef& d, const BufferRef& s, const Expr& n, const BufferRef& sig, const Expr& v,
                             SignalOp op, const Expr& pe) {
  mem_signal("putmem_signal_nbi_block", d, s, n, sig, v, op, pe);
}
void signal_op(const BufferRef& sig, const Expr& v, SignalOp op, const Expr& pe) {
  call("signal_op", {address(sig), detail::value_as(v, DataType::UInt64), value(pe)}, {{"sig_op", std::string(sig_op_name(op))}});
}
Expr signal_wait_until(const BufferRef& sig, Cmp cmp, const Expr& v) {
  return bound("signal_wait_until", DataType::UInt64, {address(sig), detail::value_as(v, DataType::UInt64)},
               {{"cmp", std::string(cmp_name(cmp))}}, "signal");
}
void quiet() { call("quiet", {}); }
void fence() { call("fence", {}); }
void barrier_all() { call("barrier_all", {}); }
void barrier_all_warp() { call("barrier_all_warp", {}); }
void barrier_all_block() { call("barrier_all_block", {}); }
void sync_all() { call("sync_all", {}); }
void sync_all_warp() { call("sync_all_warp", {}); }
void sync_all_block() { call("sync_all_block", {}); }

}  // namespace tilescale::lang
