// tilescale device headers — gemm_sm80.h
//
// Block-level tile GEMM for sm_80 and later: C += A * B with A and B tiles in shared memory (gemm_ss),
// A in registers (gemm_rs) or B in registers (gemm_sr), C in per-thread accumulator registers.
// Built from ldmatrix (ldsm.h) and mma.sync (mma_sm80.h); this header only decides which lane
// loads which row and which instruction runs.
//
//   tl::gemm_ss<M, N, K, WARPS_M, WARPS_N, TRANS_A, TRANS_B, AT, CT>(const AT* As, const AT* Bs, CT* acc)
//   tl::gemm_rs<M, N, K, WARPS_M, WARPS_N, TRANS_B, AT, CT>(const AT* a_regs, const AT* Bs, CT* acc)
//   tl::gemm_sr<M, N, K, WARPS_M, WARPS_N, TRANS_A, AT, CT>(const AT* As, const AT* b_regs, CT* acc)
//   tl::gemm_ss_prefetched_first / _head / _tail<...same as gemm_ss...>(As, Bs, [acc,] fragments)
//       gemm_ss inside a multistage main loop, split at the stage boundary, next fragments in flight
//       in a register array the caller holds across the loop (GemmSsFragments, below)
//
// Operands in shared memory. As holds the M x K tile A as a row-major [M][K] array, or as [K][M]
// (A transposed) when TRANS_A; Bs holds the K x N tile B as [K][N], or [N][K] when TRANS_B. Each
// array is swizzled with tl::swizzle<rows, cols, sizeof(AT)> (swizzle.h), rows and cols its extents,
// and 16-byte aligned. "TN" (TRANS_A = false, TRANS_B = true) is the layout where both operands
// are K-contiguous.
//
// Accumulator layout (the code generator depends on it exactly). The block's warps split C in a
// WARPS_M x WARPS_N grid, warp-major along M:
//     warp = (threadIdx.x / 32) % (WARPS_M * WARPS_N), warp_m = warp % WARPS_M, warp_n = warp / WARPS_M,
//     lane = threadIdx.x % 32, WM = M / WARPS_M, WN = N / WARPS_N, MI = WM / 16, NI = WN / 8.
// Each warp owns a WM x WN sub-tile, made of MI x NI mma tiles of 16 x 8. Thread register
//     acc[(mi * NI + ni) * 4 + r]   holds   C[row][col],
//     row = warp_m * WM + mi * 16 + lane / 4 + 8 * (r / 2),
//     col = warp_n * WN + ni * 8 + (lane % 4) * 2 + r % 2,
// for mi < MI, ni < NI, r < 4: MI * NI * 4 registers per thread. Threads beyond
// WARPS_M * WARPS_N warps wrap around and compute a copy of warp (threadIdx.x / 32) % (WARPS_M * WARPS_N).
//
// Element types. AT = half_t or bfloat16_t with CT = float (mma m16n8k16, k steps of 16), all four
// TRANS combinations. AT = signed char with CT = int (m16n8k32 s8, exact), and AT = fp8_e4m3_t /
// fp8_e5m2_t with CT = float (m16n8k32, sm_89+), k steps of 32. AT = float with CT = float (m16n8k8
// tf32, k steps of 8): a k step is 32 bytes of K for every type, so the same ldmatrix addressing
// serves, one tf32 per 32-bit lane register. Half_t operands may also accumulate in CT = half_t
// (m16n8k16 f16). 8-bit and float operands take all four TRANS combinations too, but ldmatrix
// transposes 16-bit elements only: an 8-bit or float A stored [K][M] (TRANS_A) or B stored [K][N]
// (!TRANS_B) is gathered by each lane from shared memory, one load per element (detail::gather_k):
// slower than the K-contiguous ("TN") form (measured on an H200, bench/RESULTS.md: one gathered
// operand takes this header's int8 gemm from 654 to 324 TFLOP/s at 4096^3, both to 198; tf32 from
// 217 to 154 and 110; on Hopper the TN form runs on wgmma instead, gemm_sm90.h).
//
// Shape constraints (static_asserts): M % (16 * WARPS_M) == 0, N % (8 * WARPS_N) == 0, K a multiple
// of the k step (16, 32 for 8-bit types, 8 for float). B is loaded two 8-column mma tiles per ldmatrix.x4;
// when a warp has an odd number of them (NI odd) the last one uses ldmatrix.x2.
//
// gemm_rs: A comes from registers, laid out like the accumulator of an M x K tile computed with
// the same WARPS_M and WARPS_N = 1 (K plays N, ki plays ni):
//     a_regs[(mi * (K / 8) + ki) * 4 + r] holds A[row][col], row as above,
//     col = ki * 8 + (lane % 4) * 2 + r % 2,
// already converted to AT (16-bit types only). Every warp then needs all of K and its own rows, so
// gemm_rs requires WARPS_N == 1 (the flash-attention P * V shape: P is the accumulator of Q * K^T).
// Two consecutive a_regs elements pack into one 32-bit mma operand register.
//
// gemm_sr: B comes from registers, laid out like the accumulator of the N x K tile B^T computed with
// WARPS_M = (gemm_sr's) WARPS_N and WARPS_N = 1 (N plays M, K plays N): with warp = (threadIdx.x /
// 32) % WARPS_N, WN = N / WARPS_N and KI = K / 8,
//     b_regs[(nj * KI + ki) * 4 + r] holds B[k][n],
//     n = warp * WN + nj * 16 + lane / 4 + 8 * (r / 2),
//     k = ki * 8 + (lane % 4) * 2 + r % 2,
// for nj < WN / 16, ki < KI, r < 4, already converted to AT (16-bit types only). That is the mma
// B operand as it is: for the 8 columns from n0 = warp * WN + ni * 8 and the k step from k0,
// m16n8k16 wants B[k][n0 + lane / 4] with k = k0 + (lane % 4) * 2 + {0, 1} in register b[0] and
// k + 8 in b[1]; they are b_regs elements r = 2 * (ni % 2) + {0, 1} of tiles (nj = ni / 2, ki = k0 / 8)
// and (nj, k0 / 8 + 1), two consecutive elements packing into one 32-bit register. So the
// accumulator of an earlier gemm whose rows are B's columns (an N x K tile) feeds gemm_sr with no
// shuffle; the accumulator of a K x N tile would need one (its lanes hold rows where mma wants
// columns). Every warp needs all of K for its own columns, so gemm_sr requires WARPS_M == 1, and
// N % (16 * WARPS_N) == 0 (B^T's accumulator tiles are 16 rows high).
//
// Why this shape: per k step a warp loads MI A fragments (ldmatrix.x4 each) and NI / 2 pairs of B
// fragments, then issues MI * NI mma: each fragment is reused NI (resp. MI) times from registers,
// and with swizzled tiles every ldmatrix phase hits 32 different banks.
#pragma once

#include "tilescale/common.h"
#include "tilescale/ldsm.h"
#include "tilescale/mma_sm80.h"
#include "tilescale/swizzle.h"

namespace tl {

namespace detail {

// The mma instruction for each input type, its k extent and accumulator type.
template <class AT> struct MmaOp {
  static_assert(sizeof(AT) == 0,
                "tl::gemm: unsupported operand type; use half_t, bfloat16_t, float (tf32), signed char, fp8_e4m3_t or fp8_e5m2_t");
};
template <> struct MmaOp<half_t> {
  enum : int { K = 16 };
  typedef float Acc;  // or half_t (a float16 accumulator, rounded after every mma)
  static TL_DEVICE void run(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) { mma_m16n8k16_f16(d, a, b, d); }
  static TL_DEVICE void run(half_t (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) { mma_m16n8k16_f16_f16acc(d, a, b); }
};
template <> struct MmaOp<bfloat16_t> {
  enum : int { K = 16 };
  typedef float Acc;
  static TL_DEVICE void run(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) { mma_m16n8k16_bf16(d, a, b, d); }
};
template <> struct MmaOp<signed char> {
  enum : int { K = 32 };
  typedef int Acc;
  static TL_DEVICE void run(int (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) { mma_m16n8k32_s8(d, a, b, d); }
};
template <> struct MmaOp<fp8_e4m3_t> {
  enum : int { K = 32 };
  typedef float Acc;
  static TL_DEVICE void run(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) { mma_m16n8k32_e4m3(d, a, b, d); }
};
// float32 operands run on the tensor cores as tf32 (k8: a k step is still 32 bytes of K).
template <> struct MmaOp<float> {
  enum : int { K = 8 };
  typedef float Acc;
  static TL_DEVICE void run(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) { mma_m16n8k8_tf32(d, a, b, d); }
};
template <> struct MmaOp<fp8_e5m2_t> {
  enum : int { K = 32 };
  typedef float Acc;
  static TL_DEVICE void run(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) { mma_m16n8k32_e5m2(d, a, b, d); }
};

template <class AT, class CT>
TL_DEVICE void mma(CT* acc4, const uint32_t (&a)[4], const uint32_t (&b)[2]) {
  MmaOp<AT>::run(*reinterpret_cast<CT(*)[4]>(acc4), a, b);
}

// A fragment (16 rows from m0, one k step from k0) of the M x K operand A.
// Plain: lanes 0-15 address rows m0 + 0..15 at k0, lanes 16-31 the same rows at k0 + KS/2, giving
// matrices (rows 0-7, window 0), (rows 8-15, window 0), (rows 0-7, window 1), (rows 8-15, window 1)
// = a[0..3]. Transposed (As is [K][M], 16-bit only): the same four 8x8 blocks, read from
// columns of As with .trans; lane l addresses As row k0 + (l / 16) * 8 + l % 8, column
// m0 + ((l / 8) % 2) * 8.
template <int M, int K, bool TRANS_A, class AT>
TL_DEVICE void load_a(uint32_t (&a)[4], const AT* As, int m0, int k0, int lane) {
  constexpr int KS = MmaOp<AT>::K;
  if constexpr (!TRANS_A) {
    ldsm_x4(a, As + swizzle<M, K, sizeof(AT)>(m0 + lane % 16, k0 + (lane / 16) * (KS / 2)));
  } else {
    ldsm_x4_trans(a, As + swizzle<K, M, sizeof(AT)>(k0 + (lane / 16) * 8 + lane % 8, m0 + ((lane / 8) % 2) * 8));
  }
}

// Two B fragments (8 columns each, from n0 and n0 + 8; one k step from k0) of the K x N operand B,
// b[0..1] for n0 and b[2..3] for n0 + 8. Transposed (Bs is [N][K]): B columns are K-contiguous rows
// of Bs, plain ldmatrix; lane l addresses row n0 + (l / 16) * 8 + l % 8 at k0 + ((l / 8) % 2) * KS/2.
// Not transposed (Bs is [K][N], 16-bit only): .trans on rows k0 + ((l / 8) % 2) * 8 + l % 8,
// column n0 + (l / 16) * 8.
template <int N, int K, bool TRANS_B, class AT>
TL_DEVICE void load_b2(uint32_t (&b)[4], const AT* Bs, int n0, int k0, int lane) {
  constexpr int KS = MmaOp<AT>::K;
  if constexpr (TRANS_B) {
    ldsm_x4(b, Bs + swizzle<N, K, sizeof(AT)>(n0 + (lane / 16) * 8 + lane % 8, k0 + ((lane / 8) % 2) * (KS / 2)));
  } else {
    ldsm_x4_trans(b, Bs + swizzle<K, N, sizeof(AT)>(k0 + ((lane / 8) % 2) * 8 + lane % 8, n0 + (lane / 16) * 8));
  }
}

// One B fragment (8 columns from n0): the first half of load_b2, with ldmatrix.x2 (lanes 16-31
// repeat the addresses of lanes 0-15; x2 ignores them).
template <int N, int K, bool TRANS_B, class AT>
TL_DEVICE void load_b1(uint32_t (&b)[2], const AT* Bs, int n0, int k0, int lane) {
  constexpr int KS = MmaOp<AT>::K;
  if constexpr (TRANS_B) {
    ldsm_x2(b, Bs + swizzle<N, K, sizeof(AT)>(n0 + lane % 8, k0 + ((lane / 8) % 2) * (KS / 2)));
  } else {
    ldsm_x2_trans(b, Bs + swizzle<K, N, sizeof(AT)>(k0 + ((lane / 8) % 2) * 8 + lane % 8, n0));
  }
}

// All NI B fragments of a warp for one k step.
template <int N, int K, int NI, bool TRANS_B, class AT>
TL_DEVICE void load_b(uint32_t (&b)[NI][2], const AT* Bs, int n_base, int k0, int lane) {
#pragma unroll
  for (int ni = 0; ni + 1 < NI; ni += 2) {
    uint32_t pair[4];
    load_b2<N, K, TRANS_B>(pair, Bs, n_base + ni * 8, k0, lane);
    b[ni][0] = pair[0];
    b[ni][1] = pair[1];
    b[ni + 1][0] = pair[2];
    b[ni + 1][1] = pair[3];
  }
  if constexpr (NI % 2 == 1) load_b1<N, K, TRANS_B>(b[NI - 1], Bs, n_base + (NI - 1) * 8, k0, lane);
}

// One mma operand register of a [K][X] tile of 8-bit or 32-bit elements stored X-contiguous (an A
// stored [K][M], a B stored [K][N]): the 4 / sizeof(AT) elements of column x at rows k, k + 1, ...,
// the lowest k in the lowest bits -- what ldmatrix gives a lane from the K-contiguous tile.
template <int K, int X, class AT>
TL_DEVICE uint32_t gather_k(unsigned tile, int k, int x) {
  static_assert(sizeof(AT) == 1 || sizeof(AT) == 4, "tl::detail::gather_k: 8-bit or 32-bit elements");
  if constexpr (sizeof(AT) == 4) {
    return lds_b32(tile + swizzle<K, X, 4>(k, x) * 4u);
  } else {
    uint32_t word = 0;
#pragma unroll
    for (int e = 0; e < 4; ++e) word |= lds_u8(tile + unsigned(swizzle<K, X, 1>(k + e, x))) << (8 * e);
    return word;
  }
}

TL_DEVICE uint32_t bits16(half_t v) { return __half_as_ushort(v); }
TL_DEVICE uint32_t bits16(bfloat16_t v) { return __bfloat16_as_ushort(v); }
template <class AT>
TL_DEVICE uint32_t pack2(AT lo, AT hi) {
  return bits16(lo) | (bits16(hi) << 16);
}

template <int M, int N, int K, int WARPS_M, int WARPS_N, class AT, class CT>
TL_DEVICE void check_gemm_shape() {
  static_assert(is_same_v<CT, typename MmaOp<AT>::Acc> || (is_same_v<AT, half_t> && is_same_v<CT, half_t>),
                "tl::gemm: accumulator type must be float for half_t/bfloat16_t/fp8 operands (or half_t for half_t) and int "
                "for signed char");
  static_assert(WARPS_M > 0 && WARPS_N > 0, "tl::gemm: WARPS_M and WARPS_N must be positive");
  static_assert(M % (16 * WARPS_M) == 0, "tl::gemm: M must be a multiple of 16 * WARPS_M (each warp takes 16-row mma tiles)");
  static_assert(N % (8 * WARPS_N) == 0, "tl::gemm: N must be a multiple of 8 * WARPS_N (each warp takes 8-column mma tiles)");
  static_assert(K % MmaOp<AT>::K == 0, "tl::gemm: K must be a multiple of the mma k step (16 for 16-bit types, 32 for 8-bit, 8 for float)");
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 890
  static_assert(!is_fp8_v<AT>, "tl::gemm: fp8 operands need sm_89 or later");
#endif
}

}  // namespace detail

// The A and B fragments one warp of gemm_ss needs for one k step, and where this lane's ldmatrix
// rows lie in the shared tiles. load() fills all fragments of a k step, load_a()/load_b() a part,
// mma() issues the warp's MI x NI mma.sync on them.
//
// Addressing. Every swizzle of swizzle.h repeats every 8 rows, so moving 16 rows down a tile moves
// every element the same distance (ROW16 = swizzle(16, 0) elements, a constant). Of the two loops
// that pick a fragment, one moves along the tile's rows in steps of 16 (for A the m tiles, for A^T
// and B the k steps, for B^T the pairs of n tiles) and becomes an immediate offset; only the other
// one changes swizzled columns, and its few byte offsets (a_off, b_off: e.g. 2 + 4 registers for a
// 64 x 64 warp tile with k = 32) are computed once per thread. With the tile's 32-bit shared address
// (the stage base, the same for the whole block) every ldmatrix is then [offset register + base +
// immediate]: no per-k-step address arithmetic in the main loop.
//
// An 8-bit or float operand stored MN-major (GATHER_A, GATHER_B) has no ldmatrix rows: each lane
// loads its elements one by one (detail::gather_k) at addresses computed where they are loaded,
// and keeps no offsets.
template <int M, int N, int K, int WARPS_M, int WARPS_N, bool TRANS_A, bool TRANS_B, class AT>
struct GemmSsFragments {
  static constexpr int WM = M / WARPS_M, WN = N / WARPS_N, MI = WM / 16, NI = WN / 8;
  static constexpr int KS = detail::MmaOp<AT>::K, KSTEPS = K / KS;
  static constexpr int NP = (NI + 1) / 2;  // B loads: ldmatrix.x4 per pair of n tiles, .x2 for an odd last one
  enum : bool { GATHER_A = TRANS_A && sizeof(AT) != 2, GATHER_B = !TRANS_B && sizeof(AT) != 2 };  // enums: no .global copies
  static constexpr int A_OFFS = GATHER_A ? 0 : TRANS_A ? MI : KSTEPS, B_OFFS = GATHER_B ? 0 : TRANS_B ? KSTEPS : NP;
  static constexpr unsigned A_ROW16 =
      unsigned(TRANS_A ? swizzle<K, M, sizeof(AT)>(16, 0) : swizzle<M, K, sizeof(AT)>(16, 0)) * sizeof(AT);
  static constexpr unsigned B_ROW16 =
      unsigned(TRANS_B ? swizzle<N, K, sizeof(AT)>(16, 0) : swizzle<K, N, sizeof(AT)>(16, 0)) * sizeof(AT);

  uint32_t a[MI][4];
  uint32_t b[NI][2];
  // A: k step ks (m tile 0);  A^T: m tile mi (k step 0). A gathered operand has none (its one word
  // is never touched: the compiler drops it).
  unsigned a_off[A_OFFS ? A_OFFS : 1];
  unsigned b_off[B_OFFS ? B_OFFS : 1];  // B: n-tile pair p (k step 0);  B^T: k step ks (pair 0)

  // The first row of this warp's sub-tile of C, and its first column.
  static TL_DEVICE int m_base() { return ((threadIdx.x / 32) % (WARPS_M * WARPS_N)) % WARPS_M * WM; }
  static TL_DEVICE int n_base() { return ((threadIdx.x / 32) % (WARPS_M * WARPS_N)) / WARPS_M * WN; }

  // The fragments as the register array a caller keeps them in across a loop (the generated code's
  // `uint32` array of this many words: gemm_ss_prefetched_*), in the member order above. Moving
  // between the array and the struct costs nothing once inlined: both are registers.
  enum : int { WORDS = MI * 4 + NI * 2 + A_OFFS + B_OFFS };
  TL_DEVICE explicit GemmSsFragments(const uint32_t (&words)[WORDS]) {
    int w = 0;
#pragma unroll
    for (int mi = 0; mi < MI; ++mi)
#pragma unroll
      for (int j = 0; j < 4; ++j) a[mi][j] = words[w++];
#pragma unroll
    for (int ni = 0; ni < NI; ++ni)
#pragma unroll
      for (int j = 0; j < 2; ++j) b[ni][j] = words[w++];
#pragma unroll
    for (int i = 0; i < A_OFFS; ++i) a_off[i] = words[w++];
#pragma unroll
    for (int i = 0; i < B_OFFS; ++i) b_off[i] = words[w++];
  }
  TL_DEVICE void store(uint32_t (&words)[WORDS]) const {
    int w = 0;
#pragma unroll
    for (int mi = 0; mi < MI; ++mi)
#pragma unroll
      for (int j = 0; j < 4; ++j) words[w++] = a[mi][j];
#pragma unroll
    for (int ni = 0; ni < NI; ++ni)
#pragma unroll
      for (int j = 0; j < 2; ++j) words[w++] = b[ni][j];
#pragma unroll
    for (int i = 0; i < A_OFFS; ++i) words[w++] = a_off[i];
#pragma unroll
    for (int i = 0; i < B_OFFS; ++i) words[w++] = b_off[i];
  }

  // The lane addresses are those of detail::load_a / load_b2 (above) at m tile 0 / pair 0 / k step 0
  // along the dimension that moves by whole 16-row steps.
  //
  // pinned: the fragments live across a main loop (gemm_ss_prefetched_first's, which the caller
  // keeps in its array until the loop ends). The offsets then pass through an identity shuffle: ptxas cannot recompute
  // a shuffle's result, so it keeps the offsets in registers for the whole loop, where it would
  // otherwise recompute them from threadIdx in every iteration once registers run short (seen as
  // ~30 extra instructions per 64 mma with __launch_bounds__(128, 2)). Warp-collective, like the
  // gemm itself. Unpinned (one gemm_ss call) the computation can fold into the caller's loop as
  // ptxas likes.
  TL_DEVICE explicit GemmSsFragments(bool pinned = true) {
    const int lane = threadIdx.x % 32, m0 = m_base(), n0 = n_base();
#pragma unroll
    for (int i = 0; i < A_OFFS; ++i) {
      if constexpr (!TRANS_A)
        a_off[i] = swizzle<M, K, sizeof(AT)>(m0 + lane % 16, i * KS + (lane / 16) * (KS / 2)) * sizeof(AT);
      else
        a_off[i] = swizzle<K, M, sizeof(AT)>((lane / 16) * 8 + lane % 8, m0 + i * 16 + ((lane / 8) % 2) * 8) * sizeof(AT);
    }
#pragma unroll
    for (int i = 0; i < B_OFFS; ++i) {
      if constexpr (TRANS_B)
        b_off[i] = swizzle<N, K, sizeof(AT)>(n0 + (lane / 16) * 8 + lane % 8, i * KS + ((lane / 8) % 2) * (KS / 2)) * sizeof(AT);
      else
        b_off[i] = swizzle<K, N, sizeof(AT)>(((lane / 8) % 2) * 8 + lane % 8, n0 + i * 16 + (lane / 16) * 8) * sizeof(AT);
    }
    if (pinned) {
#pragma unroll
      for (int i = 0; i < A_OFFS; ++i) a_off[i] = __shfl_sync(0xffffffffu, a_off[i], lane);
#pragma unroll
      for (int i = 0; i < B_OFFS; ++i) b_off[i] = __shfl_sync(0xffffffffu, b_off[i], lane);
    }
  }

  // A fragment of m tile mi, k step ks, from the tile at shared address As.
  // Gathered (As is [K][M]): register j holds rows m + (j % 2) * 8 at k + (j / 2) * KS/2, with
  // m = this lane's row (lane / 4) of the m tile and k its first column ((lane % 4) * 4 / sizeof(AT)).
  TL_DEVICE void load_a(uint32_t (&dst)[4], unsigned As, int mi, int ks) const {
    if constexpr (GATHER_A) {
      const int lane = threadIdx.x % 32, m = m_base() + mi * 16 + lane / 4, k = ks * KS + (lane % 4) * int(4 / sizeof(AT));
#pragma unroll
      for (int j = 0; j < 4; ++j) dst[j] = detail::gather_k<K, M, AT>(As, k + (j / 2) * (KS / 2), m + (j % 2) * 8);
    } else if constexpr (!TRANS_A) {
      ldsm_x4(dst, As + a_off[ks] + mi * A_ROW16);
    } else {
      ldsm_x4_trans(dst, As + a_off[mi] + ks * A_ROW16);
    }
  }

  // B fragments (all NI n tiles) of k step ks from the tile at shared address Bs. Gathered (Bs is
  // [K][N]): register j of n tile ni holds column n = ni * 8 + lane / 4 at rows k + j * KS/2, k as in
  // load_a.
  TL_DEVICE void load_b(uint32_t (&dst)[NI][2], unsigned Bs, int ks) const {
    if constexpr (GATHER_B) {
      const int lane = threadIdx.x % 32, n = n_base() + lane / 4, k = ks * KS + (lane % 4) * int(4 / sizeof(AT));
#pragma unroll
      for (int ni = 0; ni < NI; ++ni)
#pragma unroll
        for (int j = 0; j < 2; ++j) dst[ni][j] = detail::gather_k<K, N, AT>(Bs, k + j * (KS / 2), n + ni * 8);
    } else {
#pragma unroll
      for (int p = 0; p < NP; ++p) {
        const unsigned addr = TRANS_B ? Bs + b_off[ks] + p * B_ROW16 : Bs + b_off[p] + ks * B_ROW16;
        if (2 * p + 1 < NI) {
          uint32_t pair[4];
          if constexpr (TRANS_B) ldsm_x4(pair, addr);
          else ldsm_x4_trans(pair, addr);
          dst[2 * p][0] = pair[0], dst[2 * p][1] = pair[1];
          dst[2 * p + 1][0] = pair[2], dst[2 * p + 1][1] = pair[3];
        } else {  // lanes 0-15 hold the x2 rows at the pair's addresses; x2 ignores lanes 16-31
          if constexpr (TRANS_B) ldsm_x2(dst[2 * p], addr);
          else ldsm_x2_trans(dst[2 * p], addr);
        }
      }
    }
  }

  TL_DEVICE void load(unsigned As, unsigned Bs, int ks) {
#pragma unroll
    for (int mi = 0; mi < MI; ++mi) load_a(a[mi], As, mi, ks);
    load_b(b, Bs, ks);
  }
  // k0: the first k of the step (a multiple of the mma k step), as a column of A / row of B.
  TL_DEVICE void load(const AT* As, const AT* Bs, int k0) { load(detail::smem_addr(As), detail::smem_addr(Bs), k0 / KS); }

  template <class CT>
  TL_DEVICE void mma(CT* acc) const {
#pragma unroll
    for (int mi = 0; mi < MI; ++mi)
#pragma unroll
      for (int ni = 0; ni < NI; ++ni) detail::mma<AT>(acc + (mi * NI + ni) * 4, a[mi], b[ni]);
  }

  // The mma's of the k step held in a and b, while the fragments of k step ks_next (of the tiles at
  // As_next, Bs_next) replace them: all B fragments first (they are read by every m tile until the
  // end), each A fragment as soon as its m tile's mma's have issued. Only B needs a second set of
  // registers.
  template <class CT>
  TL_DEVICE void mma_then_load(CT* acc, unsigned As_next, unsigned Bs_next, int ks_next) {
    uint32_t b_next[NI][2];
    load_b(b_next, Bs_next, ks_next);
#pragma unroll
    for (int mi = 0; mi < MI; ++mi) {
#pragma unroll
      for (int ni = 0; ni < NI; ++ni) detail::mma<AT>(acc + (mi * NI + ni) * 4, a[mi], b[ni]);
      load_a(a[mi], As_next, mi, ks_next);
    }
#pragma unroll
    for (int ni = 0; ni < NI; ++ni) b[ni][0] = b_next[ni][0], b[ni][1] = b_next[ni][1];
  }
};

template <int M, int N, int K, int WARPS_M, int WARPS_N, bool TRANS_A, bool TRANS_B, class AT, class CT>
TL_DEVICE void gemm_ss(const AT* As, const AT* Bs, CT* acc) {
  detail::check_gemm_shape<M, N, K, WARPS_M, WARPS_N, AT, CT>();
  typedef GemmSsFragments<M, N, K, WARPS_M, WARPS_N, TRANS_A, TRANS_B, AT> Frag;
  const unsigned a = detail::smem_addr(As), b = detail::smem_addr(Bs);
  Frag f(false);
  f.load(a, b, 0);
#pragma unroll
  for (int ks = 0; ks + 1 < Frag::KSTEPS; ++ks) f.mma_then_load(acc, a, b, ks + 1);
  f.mma(acc);
}

// gemm_ss as the consumer of a multistage cp.async main loop, with the operand fragments of the
// next k step in flight while the mma's of the current one issue -- across stages too. The caller
// holds the fragments in a register array `fragments` (GemmSsFragments::WORDS uint32 words) across
// the loop and splits each iteration at the stage boundary:
//   gemm_ss_prefetched_first(As, Bs, fragments)  before the loop: k step 0 of the first stage
//   gemm_ss_prefetched_head(As, Bs, acc, fragments)   the mma's of every k step but the last, each
//                                                loading the next k step's fragments; on entry
//                                                `fragments` holds k step 0 of As/Bs, on return the
//                                                last k step
//   <cp.async wait for the next stage; __syncthreads>
//   gemm_ss_prefetched_tail(As_next, Bs_next, acc, fragments)   the last k step's mma's while k step
//                                                0 of the next stage loads into `fragments`
// So the barrier between stages comes after every read of As/Bs (the last k step's fragments are in
// registers by then), and the last mma's of this stage overlap the first ldmatrix of the next one
// instead of the barrier leaving nothing to issue. CT is the accumulator's type, as in gemm_ss.
template <int M, int N, int K, int WARPS_M, int WARPS_N, bool TRANS_A, bool TRANS_B, class AT, class CT>
TL_DEVICE void gemm_ss_prefetched_first(const AT* As, const AT* Bs,
                                        uint32_t (&fragments)[GemmSsFragments<M, N, K, WARPS_M, WARPS_N, TRANS_A, TRANS_B, AT>::WORDS]) {
  detail::check_gemm_shape<M, N, K, WARPS_M, WARPS_N, AT, CT>();
  GemmSsFragments<M, N, K, WARPS_M, WARPS_N, TRANS_A, TRANS_B, AT> frag;  // pinned: they live across the loop
  frag.load(As, Bs, 0);
  frag.store(fragments);
}

template <int M, int N, int K, int WARPS_M, int WARPS_N, bool TRANS_A, bool TRANS_B, class AT, class CT>
TL_DEVICE void gemm_ss_prefetched_head(const AT* As, const AT* Bs, CT* acc,
                                       uint32_t (&fragments)[GemmSsFragments<M, N, K, WARPS_M, WARPS_N, TRANS_A, TRANS_B, AT>::WORDS]) {
  typedef GemmSsFragments<M, N, K, WARPS_M, WARPS_N, TRANS_A, TRANS_B, AT> Frag;
  Frag frag(fragments);
  const unsigned a = detail::smem_addr(As), b = detail::smem_addr(Bs);
#pragma unroll
  for (int ks = 0; ks + 1 < Frag::KSTEPS; ++ks) frag.mma_then_load(acc, a, b, ks + 1);
  frag.store(fragments);
}

template <int M, int N, int K, int WARPS_M, int WARPS_N, bool TRANS_A, bool TRANS_B, class AT, class CT>
TL_DEVICE void gemm_ss_prefetched_tail(const AT* As_next, const AT* Bs_next, CT* acc,
                                       uint32_t (&fragments)[GemmSsFragments<M, N, K, WARPS_M, WARPS_N, TRANS_A, TRANS_B, AT>::WORDS]) {
  GemmSsFragments<M, N, K, WARPS_M, WARPS_N, TRANS_A, TRANS_B, AT> frag(fragments);
  frag.mma_then_load(acc, detail::smem_addr(As_next), detail::smem_addr(Bs_next), 0);
  frag.store(fragments);
}

template <int M, int N, int K, int WARPS_M, int WARPS_N, bool TRANS_B, class AT, class CT>
TL_DEVICE void gemm_rs(const AT* a_regs, const AT* Bs, CT* acc) {
  detail::check_gemm_shape<M, N, K, WARPS_M, WARPS_N, AT, CT>();
  static_assert(WARPS_N == 1, "tl::gemm_rs: A in registers needs WARPS_N == 1 (each warp needs whole rows of A)");
  static_assert(sizeof(AT) == 2, "tl::gemm_rs: A in registers must be half_t or bfloat16_t");
  constexpr int WM = M / WARPS_M, MI = WM / 16, NI = N / 8, KI = K / 8;
  const int lane = threadIdx.x % 32;
#pragma unroll
  for (int k0 = 0; k0 < K; k0 += 16) {
    uint32_t b[NI][2];
    detail::load_b<N, K, NI, TRANS_B>(b, Bs, 0, k0, lane);
#pragma unroll
    for (int mi = 0; mi < MI; ++mi) {
      // a[0] (row g, window 0) = k tile 2*kk, r 0-1; a[1] (row g+8) = r 2-3; a[2], a[3]: k tile 2*kk+1.
      const AT* lo = a_regs + (mi * KI + k0 / 8) * 4;
      const AT* hi = lo + 4;
      const uint32_t a[4] = {detail::pack2(lo[0], lo[1]), detail::pack2(lo[2], lo[3]), detail::pack2(hi[0], hi[1]),
                             detail::pack2(hi[2], hi[3])};
#pragma unroll
      for (int ni = 0; ni < NI; ++ni) detail::mma<AT>(acc + (mi * NI + ni) * 4, a, b[ni]);
    }
  }
}

template <int M, int N, int K, int WARPS_M, int WARPS_N, bool TRANS_A, class AT, class CT>
TL_DEVICE void gemm_sr(const AT* As, const AT* b_regs, CT* acc) {
  detail::check_gemm_shape<M, N, K, WARPS_M, WARPS_N, AT, CT>();
  static_assert(WARPS_M == 1, "tl::gemm_sr: B in registers needs WARPS_M == 1 (each warp needs whole columns of B)");
  static_assert(sizeof(AT) == 2, "tl::gemm_sr: B in registers must be half_t or bfloat16_t");
  static_assert(N % (16 * WARPS_N) == 0,
                "tl::gemm_sr: N must be a multiple of 16 * WARPS_N (B's registers are an accumulator of 16-row tiles of B^T)");
  constexpr int WN = N / WARPS_N, MI = M / 16, NI = WN / 8, KI = K / 8;
  const int lane = threadIdx.x % 32;
#pragma unroll
  for (int k0 = 0; k0 < K; k0 += 16) {
    uint32_t a[MI][4];
#pragma unroll
    for (int mi = 0; mi < MI; ++mi) detail::load_a<M, K, TRANS_A>(a[mi], As, mi * 16, k0, lane);
#pragma unroll
    for (int ni = 0; ni < NI; ++ni) {
      // b[0] = k tile k0/8 of B^T's 16-row tile ni/2, its rows 0-7 (r 0-1) or 8-15 (r 2-3); b[1]: k tile k0/8 + 1.
      const AT* lo = b_regs + ((ni / 2) * KI + k0 / 8) * 4 + (ni % 2) * 2;
      const AT* hi = lo + 4;
      const uint32_t b[2] = {detail::pack2(lo[0], lo[1]), detail::pack2(hi[0], hi[1])};
#pragma unroll
      for (int mi = 0; mi < MI; ++mi) detail::mma<AT>(acc + (mi * NI + ni) * 4, a[mi], b);
    }
  }
}

}  // namespace tl
