// tilescale device headers — mbarrier.h
//
// The synchronization of Hopper's asynchronous machinery, one instruction per call:
//   * mbarriers: shared-memory barrier objects (8 bytes, 8-byte aligned) that count arrivals and,
//     on sm_90, transaction bytes (what TMA loads report when their data has landed, see tma.h);
//   * the fences that order those objects and shared memory between the generic proxy (ordinary
//     loads and stores) and the async proxy (TMA, wgmma);
//   * elect.sync (one lane of a warp) and setmaxnreg (moving registers between warpgroups).
//
//   tl::mbarrier_init(bar, count)               one thread; count = arrivals that complete a phase
//   tl::fence_mbarrier_init()                   after the inits, before the barrier that publishes them
//   tl::mbarrier_arrive(bar)                    one arrival
//   tl::mbarrier_arrive_expect_tx(bar, bytes)   one arrival + expect `bytes` more transaction bytes
//   tl::mbarrier_expect_tx(bar, bytes)          expect `bytes` more, without arriving
//   tl::mbarrier_try_wait_parity(bar, parity)   true once the phase of parity `parity` has completed
//   tl::mbarrier_wait(bar, parity)              loop on try_wait, with bounded spin then backoff;
//                                               traps after a timeout (see Hang reports)
//   tl::mbarrier_wait_lean(bar, parity)         the same without the timeout, for hot loops
//   tl::fence_proxy_async()                     generic-proxy shared writes -> visible to TMA/wgmma
//   tl::elect_one()                             true in exactly one lane of the (converged) warp
//   tl::setmaxnreg_inc<REGS>(), tl::setmaxnreg_dec<REGS>()   (sm_90a) per-thread register budget
//   tl::named_barrier_sync<ID, THREADS>()       __syncthreads for THREADS threads on barrier ID
//   tl::named_barrier_arrive<ID, THREADS>()     arrive at it without waiting
// `bar` is a generic pointer to a uint64_t in shared memory.
//
// How a phase works. An mbarrier starts in phase 0 with `count` pending arrivals and 0 pending
// transaction bytes. arrive() takes one arrival off; expect_tx(b) adds b pending bytes; a TMA load
// that names the barrier takes its bytes off when they land (complete_tx). When both reach zero the
// phase completes: the barrier moves to the next phase and re-arms with `count` arrivals. Waiters
// name the phase by its parity: the k-th completion (k = 0, 1, ...) finishes the phase of parity
// k % 2, so a pipeline stage that is filled for the j-th time waits on parity j % 2
// (TileLang's `(k / stages) % 2`). try_wait on a parity whose phase already completed returns true
// at once -- which is also why a waiter must never fall two phases behind.
//
// Typical TMA load (one elected producer thread, any number of consumers):
//     if (threadIdx.x == 0) { tl::mbarrier_init(&bar, 1); tl::fence_mbarrier_init(); }
//     __syncthreads();
//     if (producer && tl::elect_one()) {
//       tl::mbarrier_arrive_expect_tx(&bar, TILE_BYTES);
//       tl::tma_load_2d(smem_tile, &desc, &bar, x, y);
//     }
//     tl::mbarrier_wait(&bar, 0);   // smem_tile is now readable by everyone
//
// Memory semantics: arrive has release and try_wait acquire semantics at CTA scope (the PTX
// defaults), so ordinary writes before an arrive are visible to threads after their wait returns.
// Writes made with ordinary stores that TMA (a store) or wgmma then read need fence_proxy_async()
// in each writing thread before the synchronization that hands the data over.
//
// mbarrier_wait spins on try_wait (which itself suspends the thread for a hardware-chosen time)
// for kMbarrierSpins tries, then sleeps between tries with __nanosleep, doubling from 32 ns up to
// 1 us.
//
// Hang reports. A wait still unfinished after TL_MBARRIER_TIMEOUT_NS nanoseconds of %globaltimer
// (default 10 s: far beyond any wait of a working pipeline) stops the kernel with a trap instead of
// hanging it. A waiter that times out first writes who waited on what into *tl_hang_report:
// host memory that the runtime maps into every module defining that variable
// (src/runtime/cuda/hang_report.h), which it reads once the trap has failed the launch, so the
// error names the kernel, block, thread, barrier (its byte offset in dynamic shared memory) and
// parity. Without a report buffer (tl_hang_report null) the kernel just traps. No function call
// and no printf: either would make ptxas serialize every wgmma of the kernel (info C7510).
//
// Targets. mbarrier init/arrive/wait exist from sm_80 on (mbarrier_try_wait_parity falls back to
// test_wait there); tx counts, fences, elect.sync need sm_90 and setmaxnreg sm_90a (the
// "a" target). On a target without the instruction a wrapper calls an undefined function: nothing
// happens while it is unused (every header compiles for every target), and a kernel that does use
// it fails to build with ptxas "Unresolved extern function 'tl_error_needs_sm_90_mbarrier'" (or
// '..._sm_90a_setmaxnreg'). The compiler checks the target before it emits a call, so users never
// see that message.
//
// elect_one() and setmaxnreg are collective: all 32 lanes of the warp (elect) or all 128 threads
// of the warpgroup (setmaxnreg) execute them together. elect_one falls back to "lowest active
// lane" before sm_90. setmaxnreg: REGS is a multiple of 8 in [24, 256]; it only takes effect when
// the kernel's register count is fixed at entry (__launch_bounds__(threads, 1) or -maxrregcount),
// and each warpgroup's role is one branch of an if/else (ptxas warns C7508 when it ignores it).
// Warp-specialized kernels give the producer warpgroup few registers (dec<24..40>) and the
// consumers many (inc<232..240>).
#pragma once

#include "tilescale/common.h"

extern "C" __device__ void tl_error_needs_sm_90_mbarrier();
extern "C" __device__ void tl_error_needs_sm_90a_setmaxnreg();

// TL_MBARRIER_SM90(stmt): stmt on sm_90 and later (and in the host pass, which never runs it),
// the undefined-function error above before sm_90.
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 900
#define TL_MBARRIER_SM90(...) tl_error_needs_sm_90_mbarrier()
#else
#define TL_MBARRIER_SM90(...) __VA_ARGS__
#endif

#ifndef TL_MBARRIER_TIMEOUT_NS
#define TL_MBARRIER_TIMEOUT_NS 10000000000ull
#endif

namespace tl {

constexpr int kMbarrierSpins = 16;

// What a timed-out wait reports (see Hang reports): one 16-byte store, so that two waiters timing
// out together cannot mix their fields.
//   where: blockIdx.x | blockIdx.y << 32 | blockIdx.z << 48
//   what:  threadIdx.x | parity << 10 | barrier byte offset in dynamic shared memory << 11 |
//          1 << 31 (reported) | milliseconds waited << 32
struct HangReport {
  uint64_t where, what;
};

}  // namespace tl

// The report buffer, set by the runtime when it loads the module (null: just trap). A definition
// with C linkage (the runtime looks it up by this name); written as a linkage block, not `extern`,
// so that nvcc's whole-program builds (tests/device/check_sm90.cu) define its host shadow too.
extern "C" {
__device__ tl::HangReport* tl_hang_report = nullptr;
}

namespace tl {

namespace detail {
TL_DEVICE uint32_t mbar_addr(const void* p) { return static_cast<uint32_t>(__cvta_generic_to_shared(p)); }

extern __shared__ __align__(16) unsigned char dynamic_smem[];  // every extern __shared__ array starts here

// Records this wait in tl_hang_report and stops the kernel. Kept small: it is inlined into every
// wait, and a longer cold path next to a pipeline's hot waits measurably slowed them.
TL_DEVICE void report_hang(const uint64_t* bar, uint32_t parity, uint64_t waited_ns) {
  if (HangReport* r = tl_hang_report) {
    const uint64_t where = blockIdx.x | uint64_t(blockIdx.y) << 32 | uint64_t(blockIdx.z) << 48;
    const uint64_t what = threadIdx.x | parity << 10 | (mbar_addr(bar) - mbar_addr(dynamic_smem)) << 11 | 1u << 31 |
                          (waited_ns / 1000000) << 32;
    asm volatile("st.global.v2.u64 [%0], {%1, %2};\n\tmembar.sys;\n" ::"l"(r), "l"(where), "l"(what) : "memory");
  }
  __trap();
}
}  // namespace detail

TL_DEVICE void mbarrier_init(uint64_t* bar, uint32_t arrive_count) {
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" ::"r"(detail::mbar_addr(bar)), "r"(arrive_count) : "memory");
}

// Makes the initialized barriers visible to the async proxy (TMA) and to the other threads once a
// barrier (__syncthreads, cluster barrier) follows.
TL_DEVICE void fence_mbarrier_init() {
  TL_MBARRIER_SM90(asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory"));
}

TL_DEVICE void fence_proxy_async() { TL_MBARRIER_SM90(asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory")); }

TL_DEVICE void mbarrier_arrive(uint64_t* bar) {
  asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];\n" ::"r"(detail::mbar_addr(bar)) : "memory");
}

TL_DEVICE void mbarrier_arrive_expect_tx(uint64_t* bar, uint32_t tx_bytes) {
  TL_MBARRIER_SM90(asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;\n" ::"r"(detail::mbar_addr(bar)),
                                "r"(tx_bytes)
                                : "memory"));
}

TL_DEVICE void mbarrier_expect_tx(uint64_t* bar, uint32_t tx_bytes) {
  TL_MBARRIER_SM90(asm volatile("mbarrier.expect_tx.relaxed.cta.shared::cta.b64 [%0], %1;\n" ::"r"(detail::mbar_addr(bar)),
                                "r"(tx_bytes)
                                : "memory"));
}

TL_DEVICE bool mbarrier_try_wait_parity(uint64_t* bar, uint32_t parity) {
  uint32_t done;
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 900
  asm volatile(
      "{\n .reg .pred p;\n mbarrier.test_wait.parity.shared::cta.b64 p, [%1], %2;\n selp.u32 %0, 1, 0, p;\n}\n"
      : "=r"(done)
      : "r"(detail::mbar_addr(bar)), "r"(parity)
      : "memory");
#else
  asm volatile(
      "{\n .reg .pred p;\n mbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\n selp.u32 %0, 1, 0, p;\n}\n"
      : "=r"(done)
      : "r"(detail::mbar_addr(bar)), "r"(parity)
      : "memory");
#endif
  return done != 0;
}

TL_DEVICE void mbarrier_wait(uint64_t* bar, uint32_t parity) {
  if (mbarrier_try_wait_parity(bar, parity)) return;
  int spins = 0;
  unsigned sleep_ns = 32;
  uint64_t since = 0;  // when the naps began
  while (!mbarrier_try_wait_parity(bar, parity)) {
    if (spins < kMbarrierSpins) {
      ++spins;
      continue;
    }
    const uint64_t now = globaltimer();
    if (since == 0) since = now;
    else if (now - since > TL_MBARRIER_TIMEOUT_NS) detail::report_hang(bar, parity, now - since);
    __nanosleep(sleep_ns);
    sleep_ns = sleep_ns < 1024 ? sleep_ns * 2 : sleep_ns;
  }
}

// mbarrier_wait without the timeout, for the waits at the top of a pipeline's hot loop: the
// timeout's cold code beside them slowed FlashAttention by 2% (its consumers' full[s] waits). A
// warp-specialized kernel bounds these waits from its producer instead, which waits with the
// timeout for the consumers' last releases before it exits.
TL_DEVICE void mbarrier_wait_lean(uint64_t* bar, uint32_t parity) {
  if (mbarrier_try_wait_parity(bar, parity)) return;
  int spins = 0;
  unsigned sleep_ns = 32;
  while (!mbarrier_try_wait_parity(bar, parity)) {
    if (spins < kMbarrierSpins) {
      ++spins;
    } else {
      __nanosleep(sleep_ns);
      sleep_ns = sleep_ns < 1024 ? sleep_ns * 2 : sleep_ns;
    }
  }
}

TL_DEVICE bool elect_one() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 900
  return static_cast<int>(threadIdx.x % 32) == __ffs(__activemask()) - 1;
#else
  uint32_t elected = 0;
  asm volatile("{\n .reg .pred p;\n elect.sync _|p, 0xffffffff;\n selp.u32 %0, 1, 0, p;\n}\n" : "=r"(elected));
  return elected != 0;
#endif
}

// Named barriers (any target): barrier ID (1..15; 0 is __syncthreads') completes when THREADS
// threads (a multiple of 32, counted per warp) have arrived. A warp-specialized kernel synchronises
// its consumer warpgroups with one, since its producer warpgroup never reaches their barriers;
// arrive lets one side signal without waiting (a producer that must not start before the consumers
// are done with memory it will overwrite syncs, the consumers arrive).
template <int ID, int THREADS>
TL_DEVICE void named_barrier_sync() {
  static_assert(ID >= 1 && ID <= 15 && THREADS % 32 == 0, "tl::named_barrier: ID in 1..15, THREADS a multiple of 32");
  asm volatile("bar.sync %0, %1;\n" ::"n"(ID), "n"(THREADS) : "memory");
}

template <int ID, int THREADS>
TL_DEVICE void named_barrier_arrive() {
  static_assert(ID >= 1 && ID <= 15 && THREADS % 32 == 0, "tl::named_barrier: ID in 1..15, THREADS a multiple of 32");
  asm volatile("bar.arrive %0, %1;\n" ::"n"(ID), "n"(THREADS) : "memory");
}

template <int REGS>
TL_DEVICE void setmaxnreg_inc() {
  static_assert(REGS >= 24 && REGS <= 256 && REGS % 8 == 0, "tl::setmaxnreg: REGS must be a multiple of 8 in [24, 256]");
#if defined(__CUDA_ARCH__) && !defined(__CUDA_ARCH_FEAT_SM90_ALL)
  tl_error_needs_sm_90a_setmaxnreg();
#else
  asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;\n" ::"n"(REGS));
#endif
}

template <int REGS>
TL_DEVICE void setmaxnreg_dec() {
  static_assert(REGS >= 24 && REGS <= 256 && REGS % 8 == 0, "tl::setmaxnreg: REGS must be a multiple of 8 in [24, 256]");
#if defined(__CUDA_ARCH__) && !defined(__CUDA_ARCH_FEAT_SM90_ALL)
  tl_error_needs_sm_90a_setmaxnreg();
#else
  asm volatile("setmaxnreg.dec.sync.aligned.u32 %0;\n" ::"n"(REGS));
#endif
}

}  // namespace tl

#undef TL_MBARRIER_SM90
