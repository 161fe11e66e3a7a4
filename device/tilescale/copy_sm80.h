// tilescale device headers — copy_sm80.h
//
// Per-thread data movement of sm_80 and later, one instruction (or one vector access) per call:
//   * cp.async (global -> shared without passing through registers), with zero fill:
//       tl::cp_async<BYTES>(smem, gmem, pred)   BYTES 16: cp.async.cg (bypasses L1);
//                                               BYTES 4, 8: cp.async.ca (16 is the only .cg size).
//       When pred is false nothing is read (src-size 0) and the BYTES bytes of smem are zeroed, so
//       out-of-bounds rows of a tile become zeros; gmem must still be a valid-looking address
//       (e.g. the tensor's base), never dereferenced.
//     tl::cp_async_zfill<BYTES>(smem, gmem, pred, fallback) gives the instruction `fallback` (a
//     valid address) instead of gmem when !pred.
//     tl::cp_async_commit() closes the group of cp.async issued since the last commit;
//     tl::cp_async_wait<N>() waits until at most N committed groups are still in flight;
//     tl::cp_async_wait_all() waits for every cp.async issued so far. Follow the wait with a
//     block barrier before other threads read the data.
//   * vector loads and stores of 1, 2, 4, 8 or 16 bytes between memory and registers:
//       tl::ld_global<BYTES>(dst_regs, gptr)   tl::st_global<BYTES>(gptr, src_regs)
//       tl::ld_shared<BYTES>(dst_regs, sptr)   tl::st_shared<BYTES>(sptr, src_regs)
//     dst_regs / src_regs point at the first element of a thread's register array; both addresses
//     must be BYTES-aligned. They are plain typed accesses (unsigned char / unsigned short /
//     unsigned / uint2 / uint4), which the compiler turns into ld/st.{global,shared}.v2/.v4.
//       tl::copy_vector<BYTES>(dst, src, pred)   memory to memory, zeros when !pred
//       tl::load_vector<N, M, F>(regs, mem, pred)   N elements of type M into registers of type F
//       tl::store_vector<N, F, M>(mem, regs, pred)  registers of type F into N elements of type M
// All smem/gmem pointers are generic pointers into the named state space.
#pragma once

#include "tilescale/common.h"

namespace tl {

template <int BYTES>
TL_DEVICE void cp_async(void* smem, const void* gmem, bool pred = true) {
  static_assert(BYTES == 4 || BYTES == 8 || BYTES == 16, "tl::cp_async copies 4, 8 or 16 bytes");
  const unsigned dst = static_cast<unsigned>(__cvta_generic_to_shared(smem));
  const int src_size = pred ? BYTES : 0;
  if constexpr (BYTES == 16) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(gmem), "r"(src_size) : "memory");
  } else {
    asm volatile("cp.async.ca.shared.global [%0], [%1], %2, %3;\n" ::"r"(dst), "l"(gmem), "n"(BYTES), "r"(src_size)
                 : "memory");
  }
}

// cp_async where gmem may lie outside the tensor when !pred: `fallback` (a valid address, the
// tensor's base) is given to the instruction instead.
template <int BYTES>
TL_DEVICE void cp_async_zfill(void* smem, const void* gmem, bool pred, const void* fallback) {
  cp_async<BYTES>(smem, pred ? gmem : fallback, pred);
}

TL_DEVICE void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::: "memory"); }

template <int N>
TL_DEVICE void cp_async_wait() {
  static_assert(N >= 0, "tl::cp_async_wait<N> needs N >= 0");
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N) : "memory");
}

TL_DEVICE void cp_async_wait_all() { asm volatile("cp.async.wait_all;\n" ::: "memory"); }

namespace detail {
template <int BYTES> struct VecOf;
template <> struct VecOf<1> { typedef unsigned char type; };
template <> struct VecOf<2> { typedef unsigned short type; };
template <> struct VecOf<4> { typedef unsigned int type; };
template <> struct VecOf<8> { typedef uint2 type; };
template <> struct VecOf<16> { typedef uint4 type; };

template <int BYTES>
TL_DEVICE void vec_copy(void* dst, const void* src) {
  static_assert(BYTES == 1 || BYTES == 2 || BYTES == 4 || BYTES == 8 || BYTES == 16,
                "tl vector load/store moves 1, 2, 4, 8 or 16 bytes");
  typedef typename VecOf<BYTES>::type V;
  *reinterpret_cast<V*>(dst) = *reinterpret_cast<const V*>(src);
}
}  // namespace detail

// One vector of BYTES bytes from src to dst (both BYTES-aligned), zeros when !pred (src is then
// not read).
template <int BYTES>
TL_DEVICE void copy_vector(void* dst, const void* src, bool pred) {
  typedef typename detail::VecOf<BYTES>::type V;
  *reinterpret_cast<V*>(dst) = pred ? *reinterpret_cast<const V*>(src) : V{};
}

// N consecutive elements of memory (type M, one N * sizeof(M)-byte vector access) into registers
// regs[0..N) of type F, converted; zeros when !pred (mem is then not read).
template <int N, typename M, typename F>
TL_DEVICE void load_vector(F* regs, const M* mem, bool pred) {
  typedef typename detail::VecOf<N * sizeof(M)>::type V;
  const V v = pred ? *reinterpret_cast<const V*>(mem) : V{};
  for (int i = 0; i < N; ++i) regs[i] = cast<F>(reinterpret_cast<const M*>(&v)[i]);
}

// Registers regs[0..N) of type F, converted to M, into N consecutive elements of memory with one
// vector access; nothing when !pred.
template <int N, typename F, typename M>
TL_DEVICE void store_vector(M* mem, const F* regs, bool pred) {
  typedef typename detail::VecOf<N * sizeof(M)>::type V;
  V v;
  for (int i = 0; i < N; ++i) reinterpret_cast<M*>(&v)[i] = cast<M>(regs[i]);
  if (pred) *reinterpret_cast<V*>(mem) = v;
}

template <int BYTES>
TL_DEVICE void ld_global(void* dst_regs, const void* gptr) { detail::vec_copy<BYTES>(dst_regs, gptr); }
template <int BYTES>
TL_DEVICE void st_global(void* gptr, const void* src_regs) { detail::vec_copy<BYTES>(gptr, src_regs); }
template <int BYTES>
TL_DEVICE void ld_shared(void* dst_regs, const void* sptr) { detail::vec_copy<BYTES>(dst_regs, sptr); }
template <int BYTES>
TL_DEVICE void st_shared(void* sptr, const void* src_regs) { detail::vec_copy<BYTES>(sptr, src_regs); }

}  // namespace tl
