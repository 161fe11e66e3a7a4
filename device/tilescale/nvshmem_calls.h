// tilescale device headers — nvshmem_calls.h: NVSHMEM's device calls, as a kernel that calls
// NVSHMEM sees them (the `nvshmem` transport's form of the NVSHMEM-level builtins:
// cuda::Target::nvshmem_calls).
//
// A kernel includes only this header, never NVSHMEM's: NVRTC takes 3 s to read NVSHMEM's headers,
// and some 40 ms to compile a small kernel without them. Each call the builtins lower to is an
// `extern "C" __device__` function ts_nvshmem_<builtin>, declared here and defined once, in the
// wrapper translation unit that the JIT compiles from this same header with
// TL_NVSHMEM_DEFINE_WRAPPERS defined and NVSHMEM's headers on the include path (src/jit/nvshmem.h);
// nvJitLink's link-time optimisation then inlines the wrappers into the kernel. One list below
// (TL_NVSHMEM_FORWARDED) names the NVSHMEM function each wrapper calls; its arguments are
// NVSHMEM's, in NVSHMEM's order (destination first, sizes in bytes, a rank pe):
//
//   ts_nvshmem_putmem{,_nbi}{,_warp,_block}(dst, src, bytes, pe)   nvshmem[x]_putmem...
//   ts_nvshmem_getmem{,_nbi}{,_warp,_block}(dst, src, bytes, pe)   nvshmem[x]_getmem...
//   ts_nvshmem_int_p(dst, value, pe)                               nvshmem_int_p
//   ts_nvshmem_putmem_signal{,_nbi}{,_warp,_block}(dst, src, bytes, sig, signal, op, pe)
//   ts_nvshmem_signal_op(sig, signal, op, pe)                      nvshmemx_signal_op
//   ts_nvshmem_signal_wait_until(sig, cmp, value) -> value seen    nvshmem_signal_wait_until
//   ts_nvshmem_quiet(), ts_nvshmem_fence()                         nvshmem_quiet, nvshmem_fence
//   ts_nvshmem_barrier_all{,_warp,_block}(), ts_nvshmem_sync_all{,_warp,_block}()
//
// Put with signal is the one exception: its wrappers do not call NVSHMEM's putmem_signal but the
// put of the same scope, then (one thread of the warp or block, after the group's sync)
// nvshmem_fence and nvshmemx_signal_op. NVSHMEM's fence orders the delivery of puts and atomics to
// a rank, so the signal lands after the data, which is what put-with-signal promises. The reason:
// NVSHMEM's put-with-signal goes through a device-library function whose signature names uint64_t
// (nvshmemi_transfer_put_signal[_dispatch]), and libnvshmem_device is built where uint64_t is
// `unsigned long` while under NVRTC it is `unsigned long long`, so the mangled names differ and
// the call does not link (NVSHMEM 3.4.5 and 3.8.0 alike; the per-arch bitcode has the same
// names, and nvJitLink does not take plain LLVM bitcode anyway). The other calls' library
// functions do not name uint64_t, or are instantiated for both types.
//
// The constants (tl::nvshmem::SIGNAL_SET..., CMP_EQ...) have NVSHMEM's values; the wrapper
// translation unit checks each against NVSHMEM's own (static_assert), so an NVSHMEM that changed one
// fails to compile the wrappers rather than misbehave.
#pragma once

namespace tl {
namespace nvshmem {

enum SignalOp { SIGNAL_SET = 9, SIGNAL_ADD = 10 };
enum Cmp { CMP_EQ = 0, CMP_NE = 1, CMP_GT = 2, CMP_LE = 3, CMP_LT = 4, CMP_GE = 5 };

}  // namespace nvshmem
}  // namespace tl

// X(wrapper suffix, NVSHMEM function, return type, parameters, arguments): the wrappers that only
// forward to NVSHMEM.
#define TL_NVSHMEM_RMA(X, op, callee, xcallee)                                                              \
  X(op, callee, void, (void* dst, const void* src, unsigned long long bytes, int pe), (dst, src, bytes, pe)) \
  X(op##_nbi, callee##_nbi, void, (void* dst, const void* src, unsigned long long bytes, int pe),            \
    (dst, src, bytes, pe))                                                                                   \
  X(op##_warp, xcallee##_warp, void, (void* dst, const void* src, unsigned long long bytes, int pe),         \
    (dst, src, bytes, pe))                                                                                   \
  X(op##_nbi_warp, xcallee##_nbi_warp, void, (void* dst, const void* src, unsigned long long bytes, int pe), \
    (dst, src, bytes, pe))                                                                                   \
  X(op##_block, xcallee##_block, void, (void* dst, const void* src, unsigned long long bytes, int pe),       \
    (dst, src, bytes, pe))                                                                                   \
  X(op##_nbi_block, xcallee##_nbi_block, void,                                                              \
    (void* dst, const void* src, unsigned long long bytes, int pe), (dst, src, bytes, pe))
#define TL_NVSHMEM_FORWARDED(X)                                                                             \
  TL_NVSHMEM_RMA(X, putmem, nvshmem_putmem, nvshmemx_putmem)                                                \
  TL_NVSHMEM_RMA(X, getmem, nvshmem_getmem, nvshmemx_getmem)                                                \
  X(int_p, nvshmem_int_p, void, (int* dst, int value, int pe), (dst, value, pe))                            \
  X(signal_op, nvshmemx_signal_op, void, (unsigned long long* sig, unsigned long long signal, int op, int pe), \
    ((uint64_t*)sig, signal, op, pe))                                                                       \
  X(signal_wait_until, nvshmem_signal_wait_until, unsigned long long,                                       \
    (unsigned long long* sig, int cmp, unsigned long long value), ((uint64_t*)sig, cmp, value))             \
  X(quiet, nvshmem_quiet, void, (), ())                                                                     \
  X(fence, nvshmem_fence, void, (), ())                                                                     \
  X(barrier_all, nvshmem_barrier_all, void, (), ())                                                         \
  X(barrier_all_warp, nvshmemx_barrier_all_warp, void, (), ())                                              \
  X(barrier_all_block, nvshmemx_barrier_all_block, void, (), ())                                            \
  X(sync_all, nvshmem_sync_all, void, (), ())                                                               \
  X(sync_all_warp, nvshmemx_sync_all_warp, void, (), ())                                                    \
  X(sync_all_block, nvshmemx_sync_all_block, void, (), ())

// The put-with-signal wrappers (composed, above): suffix, the put of the same scope, who signals.
#define TL_NVSHMEM_PUT_SIGNAL(X)                                  \
  X(putmem_signal, putmem, thread)                                \
  X(putmem_signal_nbi, putmem_nbi, thread)                        \
  X(putmem_signal_warp, putmem_warp, warp)                        \
  X(putmem_signal_nbi_warp, putmem_nbi_warp, warp)                \
  X(putmem_signal_block, putmem_block, block)                     \
  X(putmem_signal_nbi_block, putmem_nbi_block, block)

#define TL_NVSHMEM_DECLARE(op, callee, ret, params, args) extern "C" __device__ ret ts_nvshmem_##op params;
#define TL_NVSHMEM_DECLARE_PUT_SIGNAL(op, put, group)                                                     \
  extern "C" __device__ void ts_nvshmem_##op(void* dst, const void* src, unsigned long long bytes,       \
                                             unsigned long long* sig, unsigned long long signal, int sig_op, \
                                             int pe);
TL_NVSHMEM_FORWARDED(TL_NVSHMEM_DECLARE)
TL_NVSHMEM_PUT_SIGNAL(TL_NVSHMEM_DECLARE_PUT_SIGNAL)

#ifdef TL_NVSHMEM_DEFINE_WRAPPERS
// The wrapper translation unit: NVSHMEM's headers (3.4's name std::is_integral and the like, which
// NVRTC has only as cuda::std), the constants checked, then one definition per declaration above.
// (nvcc compiles a kernel and its wrappers as one unit: jit/nvshmem.h. There uint64_t is `unsigned
// long`, hence the casts.)
#ifdef __CUDACC_RTC__
#include <cuda/std/type_traits>
namespace std {
using namespace cuda::std;
}
#endif
#include <nvshmem.h>
#include <nvshmemx.h>

static_assert(tl::nvshmem::SIGNAL_SET == NVSHMEM_SIGNAL_SET && tl::nvshmem::SIGNAL_ADD == NVSHMEM_SIGNAL_ADD,
              "tl::nvshmem's signal operations have NVSHMEM's values");
static_assert(tl::nvshmem::CMP_EQ == NVSHMEM_CMP_EQ && tl::nvshmem::CMP_NE == NVSHMEM_CMP_NE &&
                  tl::nvshmem::CMP_GT == NVSHMEM_CMP_GT && tl::nvshmem::CMP_LE == NVSHMEM_CMP_LE &&
                  tl::nvshmem::CMP_LT == NVSHMEM_CMP_LT && tl::nvshmem::CMP_GE == NVSHMEM_CMP_GE,
              "tl::nvshmem's comparisons have NVSHMEM's values");

namespace tl {
namespace nvshmem {
// Whether this thread signals for its group, after the group's puts (thread: itself).
__device__ __forceinline__ bool signals_for_thread() { return true; }
__device__ __forceinline__ bool signals_for_warp() {
  __syncwarp();
  return (threadIdx.x & 31) == 0;
}
__device__ __forceinline__ bool signals_for_block() {
  __syncthreads();
  return threadIdx.x == 0 && threadIdx.y == 0 && threadIdx.z == 0;
}
}  // namespace nvshmem
}  // namespace tl

#define TL_NVSHMEM_DEFINE(op, callee, ret, params, args) \
  extern "C" __device__ ret ts_nvshmem_##op params { return callee args; }
#define TL_NVSHMEM_DEFINE_PUT_SIGNAL(op, put, group)                                                      \
  extern "C" __device__ void ts_nvshmem_##op(void* dst, const void* src, unsigned long long bytes,       \
                                             unsigned long long* sig, unsigned long long signal, int sig_op, \
                                             int pe) {                                                   \
    ts_nvshmem_##put(dst, src, bytes, pe);                                                               \
    if (tl::nvshmem::signals_for_##group()) {                                                            \
      nvshmem_fence();                                                                                   \
      nvshmemx_signal_op((uint64_t*)sig, signal, sig_op, pe);                                            \
    }                                                                                                    \
  }
TL_NVSHMEM_FORWARDED(TL_NVSHMEM_DEFINE)
TL_NVSHMEM_PUT_SIGNAL(TL_NVSHMEM_DEFINE_PUT_SIGNAL)
#endif
