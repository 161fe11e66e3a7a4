// The distributed operators of the tile language (include/tilescale/lang_dist.h), one binding per
// C++ function; python/tilescale/_lang_dist.py gives them TileScale's Python signatures.
#include <nanobind/nanobind.h>

#include "bindings.h"
#include "tilescale/lang.h"

namespace tilescale::python {

namespace T = tilescale::lang;

void bind_lang_dist(nb::module_& m) {
  nb::enum_<T::MemScope>(m, "MemScope")
      .value("CTA", T::MemScope::CTA).value("GPU", T::MemScope::GPU).value("SYS", T::MemScope::SYS);
  nb::enum_<T::MemSem>(m, "MemSem")
      .value("Weak", T::MemSem::Weak).value("Volatile", T::MemSem::Volatile).value("Relaxed", T::MemSem::Relaxed)
      .value("Acquire", T::MemSem::Acquire).value("Release", T::MemSem::Release).value("AcqRel", T::MemSem::AcqRel);
  nb::enum_<T::SignalOp>(m, "SignalOp").value("Set", T::SignalOp::Set).value("Add", T::SignalOp::Add);
  nb::enum_<T::Cmp>(m, "Cmp")
      .value("EQ", T::Cmp::EQ).value("NE", T::Cmp::NE).value("GT", T::Cmp::GT)
      .value("GE", T::Cmp::GE).value("LT", T::Cmp::LT).value("LE", T::Cmp::LE);

  m.def("get_rank", &T::get_rank);
  m.def("get_num_ranks", &T::get_num_ranks);

  // Loads and stores with semantics
  m.def("ld", [](const T::BufferRef& src, T::MemScope scope, T::MemSem sem, bool na, bool nc, ExprArg pe) {
    return T::ld(src, scope, sem, na, nc, pe.expr);
  });
  m.def("ld_into", [](const T::BufferRef& src, const T::BufferRef& value, T::MemScope scope, T::MemSem sem, bool na,
                      bool nc, ExprArg pe) { T::ld(src, value, scope, sem, na, nc, pe.expr); });
  m.def("ld_into", [](const T::BufferRef& src, const T::Scalar& value, T::MemScope scope, T::MemSem sem, bool na,
                      bool nc, ExprArg pe) { T::ld(src, value, scope, sem, na, nc, pe.expr); });
  m.def("ld_into", [](const T::BufferRef& src, const T::Buffer& values, T::MemScope scope, T::MemSem sem, bool na,
                      bool nc, ExprArg pe) { T::ld(src, values, scope, sem, na, nc, pe.expr); });
  m.def("st", [](const T::BufferRef& dst, ExprArg value, T::MemScope scope, T::MemSem sem, bool na, ExprArg pe) {
    T::st(dst, value.expr, scope, sem, na, pe.expr);
  });
  m.def("st_tile", [](const T::BufferRef& dst, const T::Buffer& values, T::MemScope scope, T::MemSem sem, bool na,
                      ExprArg pe) { T::st(dst, values, scope, sem, na, pe.expr); });

  // Waits
#define TS_WAIT(name)                                                                                  \
  m.def(#name, [](const T::BufferRef& flag, ExprArg expected, ExprArg peer, T::MemScope scope, T::MemSem sem) { \
    T::name(flag, expected.expr, peer.expr, scope, sem);                                                 \
  });
  TS_WAIT(wait_eq) TS_WAIT(wait_ne) TS_WAIT(wait_ge) TS_WAIT(wait_le) TS_WAIT(wait_gt) TS_WAIT(wait_lt)
#undef TS_WAIT

  // Atomics, fences, barriers, warps
  m.def("atom_add", [](const T::BufferRef& addr, ExprArg v, T::MemScope scope, T::MemSem sem, ExprArg pe) {
    return T::atom_add(addr, v.expr, scope, sem, pe.expr);
  });
  m.def("fence_cta", &T::fence_cta);
  m.def("fence_gpu", &T::fence_gpu);
  m.def("fence_sys", &T::fence_sys);
  m.def("barrier_blocks", &T::barrier_blocks);
  m.def("sync_blocks", &T::sync_blocks);
  m.def("sync_grid", &T::sync_grid);
  m.def("warp_any", [](ExprArg v, ExprArg mask) { return T::warp_any(v.expr, mask.expr); });
  m.def("warp_all", [](ExprArg v, ExprArg mask) { return T::warp_all(v.expr, mask.expr); });
  m.def("shuffle_elect", [](ExprArg extent) { return T::shuffle_elect(extent.expr); });
  m.def("sync_warp", [](ExprArg mask) { T::sync_warp(mask.expr); });

  // TileScale's copies (elements, source first)
  m.def("put_warp", [](const T::BufferRef& src, const T::BufferRef& dst, ExprArg n, ExprArg pe, int unroll, bool vec) {
    T::put_warp(src, dst, n.expr, pe.expr, unroll, vec);
  });
  m.def("get_warp", [](const T::BufferRef& src, const T::BufferRef& dst, ExprArg n, ExprArg pe, int unroll, bool vec) {
    T::get_warp(src, dst, n.expr, pe.expr, unroll, vec);
  });
  m.def("put_block", [](const T::BufferRef& src, const T::BufferRef& dst, ExprArg n, ExprArg pe) {
    T::put_block(src, dst, n.expr, pe.expr);
  });
  m.def("get_block", [](const T::BufferRef& src, const T::BufferRef& dst, ExprArg n, ExprArg pe) {
    T::get_block(src, dst, n.expr, pe.expr);
  });

  // NVSHMEM (bytes, destination first)
#define TS_MEM(name)                                                                                   \
  m.def(#name, [](const T::BufferRef& dst, const T::BufferRef& src, ExprArg nbytes, ExprArg pe) {     \
    T::name(dst, src, nbytes.expr, pe.expr);                                                           \
  });
  TS_MEM(putmem) TS_MEM(putmem_nbi) TS_MEM(putmem_warp) TS_MEM(putmem_nbi_warp) TS_MEM(putmem_block)
  TS_MEM(putmem_nbi_block) TS_MEM(getmem) TS_MEM(getmem_nbi) TS_MEM(getmem_warp) TS_MEM(getmem_nbi_warp)
  TS_MEM(getmem_block) TS_MEM(getmem_nbi_block)
#undef TS_MEM
  m.def("int_p", [](const T::BufferRef& dst, ExprArg value, ExprArg pe) { T::int_p(dst, value.expr, pe.expr); });
#define TS_MEM_SIGNAL(name)                                                                            \
  m.def(#name, [](const T::BufferRef& dst, const T::BufferRef& src, ExprArg nbytes, const T::BufferRef& sig, \
                  ExprArg signal, T::SignalOp op, ExprArg pe) {                                        \
    T::name(dst, src, nbytes.expr, sig, signal.expr, op, pe.expr);                                     \
  });
  TS_MEM_SIGNAL(putmem_signal) TS_MEM_SIGNAL(putmem_signal_nbi) TS_MEM_SIGNAL(putmem_signal_warp)
  TS_MEM_SIGNAL(putmem_signal_nbi_warp) TS_MEM_SIGNAL(putmem_signal_block) TS_MEM_SIGNAL(putmem_signal_nbi_block)
#undef TS_MEM_SIGNAL
  m.def("signal_op", [](const T::BufferRef& sig, ExprArg signal, T::SignalOp op, ExprArg pe) {
    T::signal_op(sig, signal.expr, op, pe.expr);
  });
  m.def("signal_wait_until", [](const T::BufferRef& sig, T::Cmp cmp, ExprArg value) {
    return T::signal_wait_until(sig, cmp, value.expr);
  });
  m.def("quiet", &T::quiet);
  m.def("fence", &T::fence);
  m.def("barrier_all", &T::barrier_all);
  m.def("barrier_all_warp", &T::barrier_all_warp);
  m.def("barrier_all_block", &T::barrier_all_block);
  m.def("sync_all", &T::sync_all);
  m.def("sync_all_warp", &T::sync_all_warp);
  m.def("sync_all_block", &T::sync_all_block);
}

}  // namespace tilescale::python
