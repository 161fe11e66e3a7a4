// tilescale device headers — dist.h: the distributed operators of generated kernels.
//
// A kernel that calls distributed builtins (src/ops/builtin.h) receives a Context as its last
// parameter (src/codegen/cuda/kernel_spec.h): its rank, the number of ranks, the budget and the
// control of its waits (Bounded waits, below) and the remote-base table, base[p] = where rank p's
// symmetric heap is mapped in this process. The address on rank p of a symmetric object at address
// a on this rank is base[p] + (a - base[rank]) (remote()).
//
// Loads and stores with memory semantics are inline PTX, one function per (semantics, scope,
// cache hint), each for 2-, 4-, 8- and 16-byte values:
//   ld_weak[_na], ld_nc[_na], ld_volatile, ld_relaxed_{cta,gpu,sys}[_na], ld_acquire_{cta,gpu,sys}[_na]
//   st_weak[_na], st_volatile, st_relaxed_{cta,gpu,sys}[_na], st_release_{cta,gpu,sys}[_na]
// A weak load has no scope: `ld.weak.gpu` does not assemble, so weak loads are plain `ld.global`.
// `_na` adds .L1::no_allocate, `_nc` the non-coherent read-only path (weak loads only).
//
// The rest: waits (spinning on an acquire or volatile load), atomic add with semantics and scope,
// fences, the cross-rank block barrier, the grid barrier, warp votes and elections, and warp- and
// block-wide copies (put_warp/get_warp/put_block/get_block all go through copy_warp/copy_block
// with remote() applied to the remote side).
//
// Bounded waits. Every spin here (wait_*, barrier_blocks, sync_grid; NVSHMEM's signal waits in
// dist_shmem.h through bounded_wait) is bounded: a spin that does not end at once reads
// %globaltimer, and every kWaitCheckNs (20 us) of spinning it looks at the rank's WaitControl
// (c.control, mapped host memory: the one read that crosses to the host) and at the clock:
//   * control->stop set by the host (another rank failed, src/runtime/cuda/wait_control.h):
//     the kernel traps;
//   * spinning for c.wait_budget_ns or longer (0: never; TILESCALE_WAIT_TIMEOUT_MS): the first
//     waiter of the rank to give up claims control's report (atomicCAS, system scope), writes who
//     waited on what into it (rank, block, thread, kind of wait, address, expected and observed
//     value, how long), makes it visible to the host (fence.sc.sys) and traps; a waiter that finds
//     the report being written spins on until that trap ends the kernel.
// The trap fails the launch and leaves the CUDA context unusable; the host's error for it quotes
// the report. With no budget and no control (null) a spin costs a timer read per iteration once it
// has missed once. No printf and no function call: either would make ptxas serialize the wgmma of
// a kernel that also waits (mbarrier.h, "Hang reports").
#pragma once

#include "tilescale/common.h"

namespace tl {
namespace dist {

constexpr int kMaxRanks = 64;

// What a wait that gave up was waiting in. A flag wait or signal wait records its relation too.
enum WaitKind : unsigned {
  FLAG_WAIT = 0,            // wait_eq, wait_ne, wait_ge, wait_le, wait_gt, wait_lt
  BARRIER_BLOCKS_WAIT = 1,  // barrier_blocks / sync_blocks: a slot of the array still above 0
  SYNC_GRID_WAIT = 2,       // sync_grid: bit 31 of the counter not flipped yet
  SIGNAL_WAIT = 3,          // signal_wait_until (dist_shmem.h)
};

// Mapped host memory shared by one rank's kernels and its host code (one per rank, allocated by
// the runtime: src/runtime/cuda/wait_control.h mirrors this layout, byte for byte): the host's
// request to stop waiting and the report of the first wait of the rank that ran out of budget.
struct WaitControl {
  volatile unsigned stop;       // set by the host: every spinning wait of the rank traps
  unsigned reported;            // 0: no report; 1: a waiter is writing it; 2: written (atomicCAS)
  unsigned kind;                // WaitKind
  unsigned relation;            // Relation the wait waited for (FLAG_WAIT, SIGNAL_WAIT)
  int rank;
  int block[3];
  int thread;
  unsigned value_signed;        // 1: expected and observed are signed integers
  unsigned long long address;   // the word waited on (generic address)
  unsigned long long expected;  // sign- or zero-extended to 64 bits
  unsigned long long observed;  // the last value loaded
  unsigned long long waited_ns;
};
static_assert(sizeof(WaitControl) == 72, "WaitControl's layout is fixed: src/runtime/cuda/wait_control.h reads it");

struct Context {
  int rank;
  int num_ranks;
  unsigned long long wait_budget_ns;  // a wait gives up after this long (globaltimer); 0: never
  WaitControl* control;               // null, or this rank's wait control (mapped host memory)
  unsigned long long base[kMaxRanks];
};

template <class T>
TL_DEVICE T* remote(const Context& c, T* p, int pe) {
  if (pe < 0 || pe == c.rank) return p;
  return reinterpret_cast<T*>(c.base[pe] + (reinterpret_cast<unsigned long long>(p) - c.base[c.rank]));
}

namespace detail {

template <int N>
TL_DEVICE void copy_bytes(void* dst, const void* src) {
  unsigned char* d = static_cast<unsigned char*>(dst);
  const unsigned char* s = static_cast<const unsigned char*>(src);
#pragma unroll
  for (int i = 0; i < N; ++i) d[i] = s[i];
}

}  // namespace detail

// ---- loads ------------------------------------------------------------------------------------
// NAME##_bytes<N>(dst, p) loads N bytes at global address p into dst (any alignment); NAME(p)
// returns the value of type T at p.
#define TL_DIST_LOAD(NAME, QUAL)                                                                      \
  template <int N>                                                                                    \
  TL_DEVICE void NAME##_bytes(void* dst, const void* p) {                                             \
    if constexpr (N == 2) {                                                                           \
      unsigned short v;                                                                               \
      asm volatile("ld" QUAL ".b16 %0, [%1];" : "=h"(v) : "l"(p) : "memory");                          \
      detail::copy_bytes<2>(dst, &v);                                                                 \
    } else if constexpr (N == 4) {                                                                    \
      unsigned v;                                                                                     \
      asm volatile("ld" QUAL ".b32 %0, [%1];" : "=r"(v) : "l"(p) : "memory");                          \
      detail::copy_bytes<4>(dst, &v);                                                                 \
    } else if constexpr (N == 8) {                                                                    \
      unsigned long long v;                                                                           \
      asm volatile("ld" QUAL ".b64 %0, [%1];" : "=l"(v) : "l"(p) : "memory");                          \
      detail::copy_bytes<8>(dst, &v);                                                                 \
    } else {                                                                                          \
      static_assert(N == 16, "loads move 2, 4, 8 or 16 bytes");                                       \
      unsigned v[4];                                                                                  \
      asm volatile("ld" QUAL ".v4.b32 {%0, %1, %2, %3}, [%4];"                                        \
                   : "=r"(v[0]), "=r"(v[1]), "=r"(v[2]), "=r"(v[3])                                   \
                   : "l"(p)                                                                           \
                   : "memory");                                                                       \
      detail::copy_bytes<16>(dst, v);                                                                 \
    }                                                                                                 \
  }                                                                                                   \
  template <class T>                                                                                  \
  TL_DEVICE T NAME(const T* p) {                                                                      \
    T v;                                                                                              \
    NAME##_bytes<sizeof(T)>(&v, p);                                                                   \
    return v;                                                                                         \
  }

TL_DIST_LOAD(ld_weak, ".global")
TL_DIST_LOAD(ld_weak_na, ".global.L1::no_allocate")
TL_DIST_LOAD(ld_nc, ".global.nc")
TL_DIST_LOAD(ld_nc_na, ".global.nc.L1::no_allocate")
TL_DIST_LOAD(ld_volatile, ".volatile.global")
TL_DIST_LOAD(ld_relaxed_cta, ".relaxed.cta.global")
TL_DIST_LOAD(ld_relaxed_gpu, ".relaxed.gpu.global")
TL_DIST_LOAD(ld_relaxed_sys, ".relaxed.sys.global")
TL_DIST_LOAD(ld_relaxed_cta_na, ".relaxed.cta.global.L1::no_allocate")
TL_DIST_LOAD(ld_relaxed_gpu_na, ".relaxed.gpu.global.L1::no_allocate")
TL_DIST_LOAD(ld_relaxed_sys_na, ".relaxed.sys.global.L1::no_allocate")
TL_DIST_LOAD(ld_acquire_cta, ".acquire.cta.global")
TL_DIST_LOAD(ld_acquire_gpu, ".acquire.gpu.global")
TL_DIST_LOAD(ld_acquire_sys, ".acquire.sys.global")
TL_DIST_LOAD(ld_acquire_cta_na, ".acquire.cta.global.L1::no_allocate")
TL_DIST_LOAD(ld_acquire_gpu_na, ".acquire.gpu.global.L1::no_allocate")
TL_DIST_LOAD(ld_acquire_sys_na, ".acquire.sys.global.L1::no_allocate")
#undef TL_DIST_LOAD

// ---- stores -----------------------------------------------------------------------------------
// NAME##_bytes<N>(p, src) stores the N bytes at src (any alignment) to global address p; NAME(p, v)
// stores v.
#define TL_DIST_STORE(NAME, QUAL)                                                                     \
  template <int N>                                                                                    \
  TL_DEVICE void NAME##_bytes(void* p, const void* src) {                                             \
    if constexpr (N == 2) {                                                                           \
      unsigned short v;                                                                               \
      detail::copy_bytes<2>(&v, src);                                                                 \
      asm volatile("st" QUAL ".b16 [%0], %1;" ::"l"(p), "h"(v) : "memory");                            \
    } else if constexpr (N == 4) {                                                                    \
      unsigned v;                                                                                     \
      detail::copy_bytes<4>(&v, src);                                                                 \
      asm volatile("st" QUAL ".b32 [%0], %1;" ::"l"(p), "r"(v) : "memory");                            \
    } else if constexpr (N == 8) {                                                                    \
      unsigned long long v;                                                                           \
      detail::copy_bytes<8>(&v, src);                                                                 \
      asm volatile("st" QUAL ".b64 [%0], %1;" ::"l"(p), "l"(v) : "memory");                            \
    } else {                                                                                          \
      static_assert(N == 16, "stores move 2, 4, 8 or 16 bytes");                                      \
      unsigned v[4];                                                                                  \
      detail::copy_bytes<16>(v, src);                                                                 \
      asm volatile("st" QUAL ".v4.b32 [%0], {%1, %2, %3, %4};" ::"l"(p), "r"(v[0]), "r"(v[1]), "r"(v[2]), \
                   "r"(v[3])                                                                          \
                   : "memory");                                                                       \
    }                                                                                                 \
  }                                                                                                   \
  template <class T>                                                                                  \
  TL_DEVICE void NAME(T* p, T v) {                                                                    \
    NAME##_bytes<sizeof(T)>(p, &v);                                                                   \
  }

TL_DIST_STORE(st_weak, ".global")
TL_DIST_STORE(st_weak_na, ".global.L1::no_allocate")
TL_DIST_STORE(st_volatile, ".volatile.global")
TL_DIST_STORE(st_relaxed_cta, ".relaxed.cta.global")
TL_DIST_STORE(st_relaxed_gpu, ".relaxed.gpu.global")
TL_DIST_STORE(st_relaxed_sys, ".relaxed.sys.global")
TL_DIST_STORE(st_relaxed_cta_na, ".relaxed.cta.global.L1::no_allocate")
TL_DIST_STORE(st_relaxed_gpu_na, ".relaxed.gpu.global.L1::no_allocate")
TL_DIST_STORE(st_relaxed_sys_na, ".relaxed.sys.global.L1::no_allocate")
TL_DIST_STORE(st_release_cta, ".release.cta.global")
TL_DIST_STORE(st_release_gpu, ".release.gpu.global")
TL_DIST_STORE(st_release_sys, ".release.sys.global")
TL_DIST_STORE(st_release_cta_na, ".release.cta.global.L1::no_allocate")
TL_DIST_STORE(st_release_gpu_na, ".release.gpu.global.L1::no_allocate")
TL_DIST_STORE(st_release_sys_na, ".release.sys.global.L1::no_allocate")
#undef TL_DIST_STORE

// ---- atomic add -------------------------------------------------------------------------------
// NAME(p, v): *p += v atomically at global address p, returning the old value.
#define TL_DIST_ATOM_ADD(NAME, QUAL)                                                                  \
  TL_DEVICE int NAME(int* p, int v) {                                                                 \
    int old;                                                                                          \
    asm volatile("atom" QUAL ".global.add.s32 %0, [%1], %2;" : "=r"(old) : "l"(p), "r"(v) : "memory"); \
    return old;                                                                                       \
  }                                                                                                   \
  TL_DEVICE unsigned NAME(unsigned* p, unsigned v) {                                                  \
    unsigned old;                                                                                     \
    asm volatile("atom" QUAL ".global.add.u32 %0, [%1], %2;" : "=r"(old) : "l"(p), "r"(v) : "memory"); \
    return old;                                                                                       \
  }                                                                                                   \
  TL_DEVICE unsigned long long NAME(unsigned long long* p, unsigned long long v) {                    \
    unsigned long long old;                                                                           \
    asm volatile("atom" QUAL ".global.add.u64 %0, [%1], %2;" : "=l"(old) : "l"(p), "l"(v) : "memory"); \
    return old;                                                                                       \
  }                                                                                                   \
  TL_DEVICE long long NAME(long long* p, long long v) {                                               \
    return static_cast<long long>(NAME(reinterpret_cast<unsigned long long*>(p), static_cast<unsigned long long>(v))); \
  }                                                                                                   \
  TL_DEVICE float NAME(float* p, float v) {                                                           \
    float old;                                                                                        \
    asm volatile("atom" QUAL ".global.add.f32 %0, [%1], %2;" : "=f"(old) : "l"(p), "f"(v) : "memory"); \
    return old;                                                                                       \
  }                                                                                                   \
  TL_DEVICE double NAME(double* p, double v) {                                                        \
    double old;                                                                                       \
    asm volatile("atom" QUAL ".global.add.f64 %0, [%1], %2;" : "=d"(old) : "l"(p), "d"(v) : "memory"); \
    return old;                                                                                       \
  }

TL_DIST_ATOM_ADD(atom_add_relaxed_cta, ".relaxed.cta")
TL_DIST_ATOM_ADD(atom_add_relaxed_gpu, ".relaxed.gpu")
TL_DIST_ATOM_ADD(atom_add_relaxed_sys, ".relaxed.sys")
TL_DIST_ATOM_ADD(atom_add_acquire_cta, ".acquire.cta")
TL_DIST_ATOM_ADD(atom_add_acquire_gpu, ".acquire.gpu")
TL_DIST_ATOM_ADD(atom_add_acquire_sys, ".acquire.sys")
TL_DIST_ATOM_ADD(atom_add_release_cta, ".release.cta")
TL_DIST_ATOM_ADD(atom_add_release_gpu, ".release.gpu")
TL_DIST_ATOM_ADD(atom_add_release_sys, ".release.sys")
TL_DIST_ATOM_ADD(atom_add_acq_rel_cta, ".acq_rel.cta")
TL_DIST_ATOM_ADD(atom_add_acq_rel_gpu, ".acq_rel.gpu")
TL_DIST_ATOM_ADD(atom_add_acq_rel_sys, ".acq_rel.sys")
#undef TL_DIST_ATOM_ADD

// ---- fences -----------------------------------------------------------------------------------
TL_DEVICE void fence_cta() { asm volatile("fence.acq_rel.cta;" ::: "memory"); }
TL_DEVICE void fence_gpu() { asm volatile("fence.acq_rel.gpu;" ::: "memory"); }
TL_DEVICE void fence_sys() { asm volatile("fence.acq_rel.sys;" ::: "memory"); }

// ---- waits ------------------------------------------------------------------------------------
enum Relation { EQ = 0, NE = 1, GE = 2, LE = 3, GT = 4, LT = 5 };

template <int R, class T>
TL_DEVICE bool holds(T v, T expected) {
  if constexpr (R == EQ) return v == expected;
  else if constexpr (R == NE) return v != expected;
  else if constexpr (R == GE) return v >= expected;
  else if constexpr (R == LE) return v <= expected;
  else if constexpr (R == GT) return v > expected;
  else return v < expected;
}

constexpr unsigned long long kWaitCheckNs = 20000;

namespace detail {
constexpr unsigned kReportWriting = 1, kReportWritten = 2;

// What a spinning wait waits for, as its report would name it.
struct WaitSite {
  WaitKind kind;
  int relation;
  const void* address;
  unsigned long long expected;
  bool value_signed;
};

template <class T>
TL_DEVICE unsigned long long widen(T v) {
  if constexpr (T(-1) < T(0)) return static_cast<unsigned long long>(static_cast<long long>(v));
  else return static_cast<unsigned long long>(v);
}

// The wait at `site` ran out of budget: report it unless another waiter is doing so, then trap.
TL_DEVICE void give_up(const Context& c, const WaitSite& site, unsigned long long observed, unsigned long long waited_ns) {
  if (WaitControl* w = c.control) {
    const unsigned claim = atomicCAS_system(&w->reported, 0u, kReportWriting);
    if (claim == kReportWriting) return;  // the writer's trap ends this kernel
    if (claim == 0) {
      w->kind = site.kind;
      w->relation = static_cast<unsigned>(site.relation);
      w->rank = c.rank;
      w->block[0] = blockIdx.x;
      w->block[1] = blockIdx.y;
      w->block[2] = blockIdx.z;
      w->thread = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
      w->value_signed = site.value_signed;
      w->address = reinterpret_cast<unsigned long long>(site.address);
      w->expected = site.expected;
      w->observed = observed;
      w->waited_ns = waited_ns;
      __threadfence_system();
      *static_cast<volatile unsigned*>(&w->reported) = kReportWritten;
      __threadfence_system();
    }
  }
  __trap();
}

// Spins until poll(observed) is true, bounded as the top of this file says.
template <class Poll>
TL_DEVICE void bounded_spin(const Context& c, const WaitSite& site, Poll poll) {
  unsigned long long observed;
  if (poll(observed)) return;
  const unsigned long long start = globaltimer();
  unsigned long long next_check = start + kWaitCheckNs;
  while (!poll(observed)) {
    const unsigned long long now = globaltimer();
    if (now < next_check) continue;
    next_check = now + kWaitCheckNs;
    if (c.control && c.control->stop) __trap();
    if (c.wait_budget_ns && now - start >= c.wait_budget_ns) give_up(c, site, observed, now - start);
  }
}
}  // namespace detail

// Spins until load(p) stands in relation R to `expected`, bounded (top of file), and returns the
// value that did; a report names the wait as `kind`. The one wait every spinning wait of the
// distributed headers goes through.
template <int R, class T, class Load>
TL_DEVICE T bounded_wait(WaitKind kind, const T* p, T expected, const Context& c, Load load) {
  const detail::WaitSite site{kind, R, p, detail::widen(expected), T(-1) < T(0)};
  T seen;
  detail::bounded_spin(c, site, [&](unsigned long long& observed) {
    seen = load(p);
    observed = detail::widen(seen);
    return holds<R>(seen, expected);
  });
  return seen;
}

template <int R, class T>
TL_DEVICE void wait_acquire_gpu(const T* p, T expected, const Context& c) {
  bounded_wait<R>(FLAG_WAIT, p, expected, c, [](const T* q) { return ld_acquire_gpu(q); });
}
template <int R, class T>
TL_DEVICE void wait_acquire_sys(const T* p, T expected, const Context& c) {
  bounded_wait<R>(FLAG_WAIT, p, expected, c, [](const T* q) { return ld_acquire_sys(q); });
}
template <int R, class T>
TL_DEVICE void wait_volatile(const T* p, T expected, const Context& c) {
  bounded_wait<R>(FLAG_WAIT, p, expected, c, [](const T* q) { return ld_volatile(q); });
}

// ---- barriers ---------------------------------------------------------------------------------
// Cross-rank barrier of one block per rank over a symmetric int[num_ranks] array, zero before its
// first use. Rank r adds 1 to its own bar[p] and -1 to rank p's bar[r], for every p; so bar[p] on
// rank r is (barriers r entered) - (barriers p entered), and r may leave once no bar[p] is above 0.
// The array is back at zero after every barrier. With `fence`, a fence.acq_rel.sys first makes
// the block's earlier writes visible to the peers that pass the barrier.
namespace detail {
// The counting of the barrier above, done by `members` threads together: thread `member` takes
// ranks member, member + members, ... The callers fence and synchronise their threads around it.
TL_DEVICE void count_rank_barrier(const Context& c, int* bar, int member, int members) {
  for (int p = member; p < c.num_ranks; p += members) {
    atomicAdd_system(bar + p, 1);
    atomicAdd_system(remote(c, bar + c.rank, p), -1);
  }
  for (int p = member; p < c.num_ranks; p += members)
    bounded_wait<LE>(BARRIER_BLOCKS_WAIT, bar + p, 0, c, [](const int* q) { return ld_acquire_sys(q); });
}
}  // namespace detail

TL_DEVICE void barrier_blocks(const Context& c, int* bar, bool fence) {
  __syncthreads();
  if (fence) fence_sys();
  detail::count_rank_barrier(c, bar, threadIdx.x, blockDim.x);
  __syncthreads();
}

// Barrier of every block of the grid over a global unsigned counter, zero before its first use
// (the algorithm of cooperative groups' grid sync: block 0 adds 2^31 - (blocks - 1), the others 1,
// so every barrier flips bit 31). Every block of the grid must be resident. A report gives bit 31's
// awaited value (0x80000000 or 0) as expected and the counter as observed.
TL_DEVICE void sync_grid(const Context& c, unsigned* counter) {
  __syncthreads();
  if (threadIdx.x == 0) {
    const unsigned blocks = gridDim.x * gridDim.y * gridDim.z;
    const bool first = blockIdx.x == 0 && blockIdx.y == 0 && blockIdx.z == 0;
    const unsigned inc = first ? 0x80000000u - (blocks - 1) : 1u;
    fence_gpu();
    const unsigned old = atomicAdd(counter, inc);
    const detail::WaitSite site{SYNC_GRID_WAIT, 0, counter, (old ^ 0x80000000u) & 0x80000000u, false};
    detail::bounded_spin(c, site, [&](unsigned long long& observed) {
      const unsigned v = ld_acquire_gpu(counter);
      observed = v;
      return ((v ^ old) & 0x80000000u) != 0;
    });
  }
  __syncthreads();
}

// ---- warps ------------------------------------------------------------------------------------
// True on one thread of each group of `extent` consecutive threads (extent a multiple of 32; 0:
// the whole block): the first lane of the group's first warp (elect.sync on sm_90, which picks the
// lowest active lane).
TL_DEVICE bool shuffle_elect(int extent) {
  const int group = extent == 0 ? static_cast<int>(blockDim.x) : extent;
  const bool first_warp = (static_cast<int>(threadIdx.x) % group) / 32 == 0;
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  unsigned elected = 0;
  asm volatile("{\n .reg .pred p;\n elect.sync _|p, 0xffffffff;\n selp.u32 %0, 1, 0, p;\n}" : "=r"(elected));
  return first_warp && elected != 0;
#else
  return first_warp && (threadIdx.x & 31) == 0;
#endif
}

// ---- copies -----------------------------------------------------------------------------------
// One warp copies n elements, lane-strided, Unroll loads in flight per lane; with Vectorize, 16-byte
// vectors when both ends are 16-byte aligned. No fence and no completion beyond the warp.
template <int Unroll, bool Vectorize, class T>
TL_DEVICE void copy_warp(T* dst, const T* src, long long n) {
  const int lane = threadIdx.x & 31;
  long long done = 0;
  if constexpr (Vectorize && 16 % sizeof(T) == 0) {
    if (((reinterpret_cast<unsigned long long>(dst) | reinterpret_cast<unsigned long long>(src)) & 15) == 0) {
      const long long vectors = n * static_cast<long long>(sizeof(T)) / 16;
      uint4* d = reinterpret_cast<uint4*>(dst);
      const uint4* s = reinterpret_cast<const uint4*>(src);
      for (long long base = 0; base < vectors; base += 32 * Unroll) {
        uint4 v[Unroll];
#pragma unroll
        for (int u = 0; u < Unroll; ++u)
          if (base + u * 32 + lane < vectors) v[u] = s[base + u * 32 + lane];
#pragma unroll
        for (int u = 0; u < Unroll; ++u)
          if (base + u * 32 + lane < vectors) d[base + u * 32 + lane] = v[u];
      }
      done = vectors * 16 / static_cast<long long>(sizeof(T));
    }
  }
  for (long long base = done; base < n; base += 32 * Unroll) {
    T v[Unroll];
#pragma unroll
    for (int u = 0; u < Unroll; ++u)
      if (base + u * 32 + lane < n) v[u] = src[base + u * 32 + lane];
#pragma unroll
    for (int u = 0; u < Unroll; ++u)
      if (base + u * 32 + lane < n) dst[base + u * 32 + lane] = v[u];
  }
  __syncwarp();
}

namespace detail {
template <class Chunk>
TL_DEVICE void copy_chunks(void* dst, const void* src, long long chunks) {
  Chunk* d = static_cast<Chunk*>(dst);
  const Chunk* s = static_cast<const Chunk*>(src);
  for (long long i = threadIdx.x; i < chunks; i += blockDim.x) d[i] = s[i];
}
}  // namespace detail

// The whole block copies n elements in the widest chunks (16, 8, 4, 2 or 1 bytes) that both ends'
// alignment allows, then synchronises the block, so that one thread may publish the copy.
template <class T>
TL_DEVICE void copy_block(T* dst, const T* src, long long n) {
  const unsigned long long bytes = static_cast<unsigned long long>(n) * sizeof(T);
  const unsigned long long align = reinterpret_cast<unsigned long long>(dst) | reinterpret_cast<unsigned long long>(src);
  const int chunk = align % 16 == 0 ? 16 : align % 8 == 0 ? 8 : align % 4 == 0 ? 4 : align % 2 == 0 ? 2 : 1;
  const long long chunks = static_cast<long long>(bytes / chunk);
  switch (chunk) {
    case 16: detail::copy_chunks<uint4>(dst, src, chunks); break;
    case 8: detail::copy_chunks<unsigned long long>(dst, src, chunks); break;
    case 4: detail::copy_chunks<unsigned>(dst, src, chunks); break;
    case 2: detail::copy_chunks<unsigned short>(dst, src, chunks); break;
    default: detail::copy_chunks<unsigned char>(dst, src, chunks); break;
  }
  const long long tail = static_cast<long long>(bytes) - chunks * chunk;
  for (long long i = threadIdx.x; i < tail; i += blockDim.x)
    reinterpret_cast<unsigned char*>(dst)[chunks * chunk + i] = reinterpret_cast<const unsigned char*>(src)[chunks * chunk + i];
  __syncthreads();
}

}  // namespace dist
}  // namespace tl
