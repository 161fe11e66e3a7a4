// tilescale device headers — gemm_sm90.h
//
// Block-level tile GEMM on Hopper (sm_90a): C += A * B with A and B tiles in shared memory and C in
// per-thread accumulators, each warpgroup issuing wgmma (wgmma_sm90.h) on its 64-row slice.
//
//   tl::gemm_ss_wgmma<M, N, K, WARPS_M, WARPS_N, TRANS_A, TRANS_B, AT, CT>(const AT* As, const AT* Bs, CT* acc)
//   tl::gemm_rs_wgmma<M, N, K, WARPS_M, WARPS_N, TRANS_B, AT, CT>(const AT* a_regs, const AT* Bs, CT* acc)
//   tl::gemm_ss_wgmma_async<...same...>(As, Bs, acc), then tl::gemm_ss_wgmma_drain<...same...>(acc)
//       the same inside a multistage main loop, one group left in flight across iterations
//   tl::gemm_ss_wgmma_issue<...>(As, Bs, acc), tl::gemm_rs_wgmma_issue<...>(a_regs, Bs, acc)
//       issue only; the caller waits (tl::wgmma_wait) and fences the registers (see Ordering)
//   tl::WarpgroupTurns<FIRST_BARRIER, WARPGROUPS>::start/acquire/release/finish()
//       warpgroups taking turns at issuing (see Turns); tl::warpgroup_turns_start<...>() etc. call them
//
// Element types: half_t or bfloat16_t in any of the four TRANS combinations, float accumulators;
// fp8_e4m3_t or fp8_e5m2_t (float accumulators), float (tf32, float accumulators) and signed char
// (int accumulators) in gemm_ss_wgmma and _async only, with both operands K-major, TRANS_A = false
// and TRANS_B = true ("TN"): wgmma transposes 16-bit operands only.
//
// Same operands and template arguments as tl::gemm_ss (gemm_sm80.h). WARPS_M is a multiple of 4
// (whole warpgroups) and divides M / 16; the warpgroup's columns, WN = N / WARPS_N, are one wgmma N
// (8 .. 256, see wgmma_sm90.h). Each warpgroup owns MT = M / (16 * WARPS_M) m64 tiles: warpgroup g
// the rows [g * 64 * MT, +64 * MT), tile t of it rows 64 t .. 64 t + 63 there, whose accumulator
// (WN / 2 floats per thread) starts at acc + t * WN / 2. With MT == 1 (WARPS_M == M / 16) that is
// tl::gemm_ss's accumulator layout; with MT > 1 warp v of a warpgroup holds rows 16 v .. 16 v + 15
// of every tile, where gemm_ss gives a warp contiguous rows (src/layout/gemm_fragments.h, M64Tiles).
// The code generator picks this function only for such arrangements (the gemm's plan, src/ops/gemm.cc).
//
// Shared layouts (tl::swizzle, swizzle.h: rows of S <= 128 bytes swizzled over S bytes, wider rows
// as 128-byte column panels) read through wgmma descriptors:
//   * K-major operand (A as [M][K], B as [N][K]): rows of K * E bytes. K * E of 32, 64 or 128 bytes
//     is one swizzle width S; a multiple of 128 is a sequence of 128-byte panels. SBO = 8 rows of S
//     bytes; k step s starts s * 32 bytes into the row, in panel s * 32 / 128 when there are panels.
//     A k step is 32 bytes for every type: 16 elements of half_t / bfloat16_t (k16 instructions),
//     32 of fp8_e4m3_t / fp8_e5m2_t / signed char (k32), 8 of float (tf32, k8), so the descriptors
//     are the same byte for byte.
//   * M/N-major operand (A as [K][M], B as [K][N], 16-bit types): rows of one k index, 128-byte
//     panels of 64 M (or N) elements. SBO = 8 k rows of 128 bytes, LBO = one panel (K rows of 128
//     bytes); k step s starts 16 rows further. A warpgroup's 64 rows are one panel; its WN columns
//     whole panels (WN * E a multiple of 128).
// The tiles must start on a 1024-byte boundary (the swizzle is applied on address bits); the
// shared-memory planner aligns 2-D tiles so.
//
// Ordering. The operands may have been written by ordinary stores or cp.async (the generic proxy);
// wgmma reads through the async proxy. Before gemm_ss_wgmma or gemm_rs_wgmma every thread makes its
// own writes visible to that proxy (tl::fence_proxy_async) and then the threads that run the gemm
// synchronise (__syncthreads, or a named barrier over the consumer warpgroups of a warp-specialized
// kernel): the caller does both, since only it knows which barrier. The warpgroups then issue their
// k steps as one group and wait for it: on return the accumulators are final and the tiles are no
// longer read. Tiles loaded by TMA need neither the fence nor the barrier, only the wait on their
// mbarrier. The _issue variants return once the group is issued: until the caller's
// tl::wgmma_wait covers it, the tiles are still read and the accumulators (and a_regs) still
// written (read); after the wait, tl::wgmma_fence_regs on them keeps the compiler's accesses after
// it (and their registers unchanged until then).
//
// Turns. When several warpgroups each run gemms on their own rows and compute on the results in
// registers (FlashAttention's softmax), issuing together makes them all wait together, and the
// tensor cores idle while they all compute. WarpgroupTurns passes a turn around the warpgroups: a
// warpgroup issues its gemms only in its turn (acquire() ... release()), so the gemms of one run
// while the others compute. The ring is one named barrier per warpgroup (FIRST_BARRIER + w),
// completed by the warpgroup whose turn it is (syncing) and the one before it (arriving): start()
// before the loop gives warpgroup 0 the first turn; finish() after it takes the last hand-over
// back, which leaves every barrier as it started. Every warpgroup must acquire and release the
// same number of times between start() and finish().
#pragma once

#include "tilescale/common.h"
#include "tilescale/gemm_sm80.h"
#include "tilescale/mbarrier.h"
#include "tilescale/wgmma_sm90.h"

namespace tl {

// The warpgroups of threads [0, 128 * WARPGROUPS) take turns at issuing (see Turns).
template <int FIRST_BARRIER, int WARPGROUPS>
struct WarpgroupTurns {
  static_assert(WARPGROUPS >= 2 && FIRST_BARRIER >= 1 && FIRST_BARRIER + WARPGROUPS <= 16,
                "tl::WarpgroupTurns: two or more warpgroups, one named barrier (1..15) each");
  TL_DEVICE static int self() { return threadIdx.x / 128; }
  // Barrier FIRST_BARRIER + w, named by an immediate (a register would make ptxas reserve all 16).
  template <int W = 0>
  TL_DEVICE static void sync(int w) {
    if constexpr (W < WARPGROUPS) {
      if (w == W) named_barrier_sync<FIRST_BARRIER + W, 256>();
      else sync<W + 1>(w);
    }
  }
  template <int W = 0>
  TL_DEVICE static void arrive(int w) {
    if constexpr (W < WARPGROUPS) {
      if (w == W) named_barrier_arrive<FIRST_BARRIER + W, 256>();
      else arrive<W + 1>(w);
    }
  }
  TL_DEVICE static void start() {
    if (self() == WARPGROUPS - 1) arrive(0);
  }
  TL_DEVICE static void acquire() { sync(self()); }
  TL_DEVICE static void release() { arrive((self() + 1) % WARPGROUPS); }
  TL_DEVICE static void finish() {
    if (self() == 0) sync(0);
  }
};

// WarpgroupTurns' steps as functions, as thread-level IR calls them (tl.warpgroup_turns_*).
template <int FIRST_BARRIER, int WARPGROUPS>
TL_DEVICE void warpgroup_turns_start() { WarpgroupTurns<FIRST_BARRIER, WARPGROUPS>::start(); }
template <int FIRST_BARRIER, int WARPGROUPS>
TL_DEVICE void warpgroup_turns_acquire() { WarpgroupTurns<FIRST_BARRIER, WARPGROUPS>::acquire(); }
template <int FIRST_BARRIER, int WARPGROUPS>
TL_DEVICE void warpgroup_turns_release() { WarpgroupTurns<FIRST_BARRIER, WARPGROUPS>::release(); }
template <int FIRST_BARRIER, int WARPGROUPS>
TL_DEVICE void warpgroup_turns_finish() { WarpgroupTurns<FIRST_BARRIER, WARPGROUPS>::finish(); }

namespace detail {

// The descriptor of a K-major tile with rows of ROW_BYTES bytes, at row `row`, for k step `step`.
template <int ROWS, int ROW_BYTES, class AT>
TL_DEVICE uint64_t wgmma_desc_k_major(const AT* tile, int row, int step) {
  constexpr int S = ROW_BYTES < 128 ? ROW_BYTES : 128;
  static_assert(S == 32 || S == 64 || S == 128, "tl::gemm_ss_wgmma: K-major rows must be 32, 64 or a multiple of 128 bytes");
  static_assert(ROW_BYTES <= 128 || ROW_BYTES % 128 == 0, "tl::gemm_ss_wgmma: K-major rows must be 32, 64 or a multiple of 128 bytes");
  constexpr uint32_t mode = S == 128 ? kWgmmaSwizzle128B : S == 64 ? kWgmmaSwizzle64B : kWgmmaSwizzle32B;
  const int byte = step * 32, panel = byte / S;
  const char* p = reinterpret_cast<const char*>(tile) + panel * ROWS * S + row * S + byte % S;
  return wgmma_desc(p, 16, 8 * S, mode);
}

// The descriptor of an M/N-major tile ([K rows][COLS], 128-byte panels), at column `col` (a panel
// boundary), for k step `step` (16 k rows).
template <int KROWS, class AT>
TL_DEVICE uint64_t wgmma_desc_mn_major(const AT* tile, int col, int step) {
  constexpr int panel_elems = 128 / sizeof(AT);
  const AT* p = tile + (col / panel_elems) * KROWS * panel_elems + step * 16 * panel_elems;
  return wgmma_desc(p, KROWS * 128, 1024, kWgmmaSwizzle128B);
}

// The descriptor of an operand tile with ROWS rows (M or N) and K columns, K-major or not, at row or
// column `at`, for k step `step`. Only the layout in use is instantiated: the other one's
// static_asserts would reject shapes this operand never has.
template <bool K_MAJOR, int ROWS, int K, class AT>
TL_DEVICE uint64_t operand_desc(const AT* tile, int at, int step) {
  if constexpr (K_MAJOR) return wgmma_desc_k_major<ROWS, K * sizeof(AT)>(tile, at, step);
  else return wgmma_desc_mn_major<K>(tile, at, step);
}

// Issues this warpgroup's k steps of C += A * B as one committed group (not waited for).
template <int M, int N, int K, int WARPS_M, int WARPS_N, bool TRANS_A, bool TRANS_B, class AT, class CT>
TL_DEVICE void wgmma_issue(const AT* As, const AT* Bs, CT* acc) {
  static_assert(is_same_v<AT, signed char> ? is_same_v<CT, int> : is_same_v<CT, float>,
                "tl::gemm_ss_wgmma: accumulators are float (int for signed char operands)");
  static_assert(sizeof(AT) == 2 || (!TRANS_A && TRANS_B),
                "tl::gemm_ss_wgmma: fp8, tf32 and int8 operands must both be K-major (A as [M][K], B as [N][K]: TRANS_A "
                "false, TRANS_B true)");
  // One wgmma reads 32 bytes of K from every K-major row: 16 elements of 16 bits, 32 of 8 bits, 8 of 32.
  constexpr int E = sizeof(AT), KS = 32 / E;
  // Shapes: the one rule that decides when a gemm runs on wgmma (ops/gemm.cc, wgmma_warps_m) gives
  // each warp a multiple of 16 rows in whole warpgroups (M % (16 * WARPS_M) == 0, WARPS_M % 4 ==
  // 0), N split over WARPS_N, K a multiple of the k step KS, an M-major A in whole 128-byte panels
  // and an N-major B in whole 128-byte panels per warpgroup; it is not restated here.
  constexpr int WN = N / WARPS_N;
  constexpr int MT = M / (16 * WARPS_M);  // m64 tiles per warpgroup
  const int warp = (threadIdx.x / 32) % (WARPS_M * WARPS_N);
  const int m0 = (warp % WARPS_M) / 4 * 64 * MT, n0 = (warp / WARPS_M) * WN;
  wgmma_fence();
#pragma unroll
  for (int s = 0; s < K / KS; ++s) {
    const uint64_t db = operand_desc<TRANS_B, N, K>(Bs, n0, s);
#pragma unroll
    for (int t = 0; t < MT; ++t) {
      const uint64_t da = operand_desc<!TRANS_A, M, K>(As, m0 + t * 64, s);
      wgmma_ss<WN, AT, TRANS_A, !TRANS_B>(acc + t * (WN / 2), da, db);
    }
  }
  wgmma_commit();
}

}  // namespace detail

// Waits for every group this warpgroup issued; the accumulators are then final.
template <int M, int N, int K, int WARPS_M, int WARPS_N, bool TRANS_A, bool TRANS_B, class AT, class CT>
TL_DEVICE void gemm_ss_wgmma_drain(CT* acc) {
  wgmma_wait<0>();
  wgmma_fence_regs<M / (16 * WARPS_M) * (N / WARPS_N / 2)>(acc);
}

// Issues the whole gemm as one group (the caller has fenced and synchronised, see Ordering).
template <int M, int N, int K, int WARPS_M, int WARPS_N, bool TRANS_A, bool TRANS_B, class AT, class CT>
TL_DEVICE void gemm_ss_wgmma_issue(const AT* As, const AT* Bs, CT* acc) {
  detail::wgmma_issue<M, N, K, WARPS_M, WARPS_N, TRANS_A, TRANS_B>(As, Bs, acc);
}

// The whole gemm: issue, wait.
template <int M, int N, int K, int WARPS_M, int WARPS_N, bool TRANS_A, bool TRANS_B, class AT, class CT>
TL_DEVICE void gemm_ss_wgmma(const AT* As, const AT* Bs, CT* acc) {
  detail::wgmma_issue<M, N, K, WARPS_M, WARPS_N, TRANS_A, TRANS_B>(As, Bs, acc);
  gemm_ss_wgmma_drain<M, N, K, WARPS_M, WARPS_N, TRANS_A, TRANS_B, AT>(acc);
}

// A from registers (gemm_rs's operand layout: the accumulator of an M x K tile with WARPS_N = 1,
// converted to AT, which is exactly the wgmma A fragment of each k step), B from shared memory
// (fenced and synchronised by the caller, see Ordering). The wgmma read a_regs' registers
// themselves, two elements per 32-bit register: they must stay unchanged until the group is
// waited for.
template <int M, int N, int K, int WARPS_M, int WARPS_N, bool TRANS_B, class AT, class CT>
TL_DEVICE void gemm_rs_wgmma_issue(const AT* a_regs, const AT* Bs, CT* acc) {
  static_assert(is_same_v<CT, float> && sizeof(AT) == 2, "tl::gemm_rs_wgmma: half_t or bfloat16_t operands, float accumulators");
  // Shapes (ops/gemm.cc, wgmma_warps_m, not restated here): each warp owns 16 whole rows
  // (WARPS_N == 1, WARPS_M == M / 16, a multiple of 4), K a multiple of 16, an N-major B in whole
  // 128-byte panels.
  // k step s reads elements 8s .. 8s+7, i.e. registers 4s .. 4s+3 (the first element of each pair
  // in the low half, as tl::detail::pack2 would put it).
  const auto* a = reinterpret_cast<const uint32_t(*)[4]>(a_regs);
  wgmma_fence();
#pragma unroll
  for (int s = 0; s < K / 16; ++s) {
    const uint64_t db = detail::operand_desc<TRANS_B, N, K>(Bs, 0, s);
    wgmma_rs<N, AT, !TRANS_B>(acc, a[s], db);
  }
  wgmma_commit();
}

// The whole gemm: issue, wait.
template <int M, int N, int K, int WARPS_M, int WARPS_N, bool TRANS_B, class AT, class CT>
TL_DEVICE void gemm_rs_wgmma(const AT* a_regs, const AT* Bs, CT* acc) {
  gemm_rs_wgmma_issue<M, N, K, WARPS_M, WARPS_N, TRANS_B>(a_regs, Bs, acc);
  wgmma_wait<0>();
  wgmma_fence_regs<N / 2>(acc);
}

// One iteration of a multistage main loop (the code generator's Pipelined loop, WgmmaAsync): the
// caller has fenced this stage's writes for the async proxy and synchronised. Issues this stage's
// group and waits only for the previous one, which leaves this group running while the loop waits
// for and loads later stages; its stage must stay unwritten until the next iteration's wait.
// gemm_ss_wgmma_drain after the loop.
template <int M, int N, int K, int WARPS_M, int WARPS_N, bool TRANS_A, bool TRANS_B, class AT, class CT>
TL_DEVICE void gemm_ss_wgmma_async(const AT* As, const AT* Bs, CT* acc) {
  detail::wgmma_issue<M, N, K, WARPS_M, WARPS_N, TRANS_A, TRANS_B>(As, Bs, acc);
  wgmma_wait<1>();
}

}  // namespace tl
