// tilescale device headers — wgmma_sm90.h
//
// Warpgroup matrix multiply (wgmma, sm_90a): one instruction in which the 4 warps of a warpgroup
// (128 consecutive threads, the first warp's index a multiple of 4) compute D (64 x N, f32, in
// registers) += A (64 x K) * B (K x N), reading B -- and A, in the "ss" form -- straight from
// shared memory through 64-bit matrix descriptors. It is asynchronous: issue, commit, wait.
//
//   tl::wgmma_desc_encode(smem_addr, lbo, sbo, swizzle[, base_offset])   the descriptor bits
//   tl::wgmma_desc(smem_ptr, lbo, sbo, swizzle[, base_offset])            same, from a pointer
//   tl::wgmma_desc_kmajor<SWIZZLE_BYTES>(smem_ptr)     canonical K-major swizzled tile (below)
//   tl::wgmma_fence()                  before the first wgmma, and after registers it reads changed
//   tl::wgmma_commit()                 close the group of wgmma issued since the last commit
//   tl::wgmma_wait<N>()                at most N committed groups still in flight
//   tl::wgmma_fence_regs<COUNT>(d)     keep the compiler from touching d[0..COUNT) across the wait
//                                      (float or int accumulators; also 16-bit A registers: COUNT
//                                      32-bit pairs)
//   tl::wgmma_ss<N, AT, TRANS_A = false, TRANS_B = false>(d, desc_a, desc_b, accumulate = true)
//   tl::wgmma_rs<N, AT, TRANS_B = false>(d, a, desc_b, accumulate = true)
//
// Instructions. AT = half_t or bfloat16_t: m64nNk16 (K = 16), A and B may each be K-major
// (TRANS = false) or M/N-major (TRANS = true; ss only for A). AT = fp8_e4m3_t or fp8_e5m2_t:
// m64nNk32 (K = 32); AT = float: m64nNk8 tf32 (K = 8); AT = signed char: m64nNk32 s8 with int
// accumulators (K = 32, exact, wrapping like the mma.sync form); these three ss only, both operands
// K-major. N is one of 8, 16, 32, 64, 96, 128, 192, 256 (PTX has every multiple of 8 up to 256; a
// caller with another N splits it into these). d is float[N / 2] per thread (int[N / 2] for signed
// char); accumulate = false computes D = A * B (the scale-d predicate).
// The descriptors and `accumulate` must be the same in all 128 threads; every thread of the
// warpgroup must execute the call (.sync.aligned).
//
// Accumulator layout (the code generator depends on it exactly). Thread t of the warpgroup
// (t = threadIdx.x % 128), warp w = t / 32, lane l = t % 32. For i < N / 2:
//     d[i] holds D[row][col],   row = 16 * w + l / 4 + 8 * ((i / 2) % 2),
//                               col = 8 * (i / 4) + 2 * (l % 4) + i % 2.
// That is: warp w owns rows 16w .. 16w + 15, and within them each 8-column slice j = i / 4 is an
// mma.m16n8 C fragment (mma_sm80.h): d[4j], d[4j + 1] in row l / 4, d[4j + 2], d[4j + 3] eight rows
// below, at columns 8j + 2(l % 4) + {0, 1}. The same for every N and for the k32 fp8 forms.
//
// A in registers (wgmma_rs, 16-bit types): a[0..3] are 4 32-bit registers, each two elements, the
// lower column in the low half. Element e < 8 of thread t (register e / 2, half e % 2) is
//     A[16 * w + l / 4 + 8 * ((e / 2) % 2)][8 * (e / 4) + 2 * (l % 4) + e % 2],
// the accumulator layout of a 64 x 16 tile: the f32 accumulator of one wgmma, converted to
// 16 bits and packed in pairs, is the A operand of the next (P * V after Q * K^T); a 64 x K
// accumulator gives the a[] of k step s from its d[8s .. 8s + 7].
//
// Matrix descriptor (PTX ISA "Matrix Descriptor Format"), a 64-bit value:
//     bits  0-13  start address, (smem_addr & 0x3FFFF) >> 4
//     bits 16-29  leading-dimension byte offset (LBO) >> 4
//     bits 32-45  stride-dimension byte offset (SBO) >> 4
//     bits 49-51  base offset (0 when the tile starts on its swizzle pattern's boundary)
//     bits 62-63  swizzle: 0 none ("interleave"), 1 = 128B, 2 = 64B, 3 = 32B
// Addresses and offsets are in 16-byte units, so tiles are at least 16-byte aligned.
//
// Canonical layouts in shared memory ("row" = one of the 64 rows of A, or one of the N columns of B
// when K-major; S = swizzle width in bytes, E = sizeof(AT)):
//   * K-major, swizzled (S = 128, 64 or 32): each row holds S bytes (S / E elements) of K; row r
//     sits at r * S bytes and its 16-byte chunks are permuted by tl::swizzle<rows, S / E, E> (swizzle.h),
//     which is exactly what TMA writes with CU_TENSOR_MAP_SWIZZLE_{128,64,32}B and a box row of S
//     bytes. SBO = 8 * S (the distance between groups of 8 rows); LBO is unused (set to 16). The
//     tile must start on an 8 * S-byte boundary (1024 for 128B). One k step reads K * E = 32 bytes
//     of every row: step s starts at tile + s * 32 bytes while s * 32 < S (advancing the start
//     address inside the row is how the k steps walk a swizzled row; the hardware applies the XOR
//     on address bits, which is why the tile itself must be aligned). A K extent wider than S
//     bytes is stored as consecutive [rows][S bytes] panels (TMA: one box per panel); step s then
//     starts at panel (s * 32) / S, byte (s * 32) % S.
//     wgmma_desc_kmajor<S>(p) builds this descriptor for the tile (or panel + k offset) at p.
//   * K-major, not swizzled: 8 x 16-byte "core matrices" (8 rows of 16 contiguous bytes, 128 bytes
//     in all); LBO = byte distance between core matrices adjacent along K, SBO = along M / N.
//   * M/N-major (TRANS = true, 16-bit types), swizzled: each row is one k index holding S bytes of
//     consecutive M (or N) elements, chunks permuted by tl::swizzle<K, S / E, E>; SBO = 8 * S (the
//     distance between groups of 8 k rows), LBO = the distance between consecutive S-byte panels
//     along M / N (e.g. a [K][N] B tile with N * E > S is stored as panels [N*E / S][K][S / E], and
//     LBO = K * S). This reading of LBO/SBO for M/N-major operands is checked on the GPU by
//     tests/device/check_sm90.cu ("wgmma ss f16 MN-major B").
//
// Ordering. wgmma reads its register operands (d, a) asynchronously: call wgmma_fence() before
// the first wgmma of a sequence and whenever those registers were written by other instructions
// since the last one; after wgmma_wait<0>() (or <N> for the older groups), call
// wgmma_fence_regs<N / 2>(d) before the accumulators are read or written again, so the compiler
// keeps those accesses after the wait. Shared memory written with ordinary stores that wgmma reads
// needs tl::fence_proxy_async() (mbarrier.h) and a barrier first; data brought by TMA is ready once
// its mbarrier wait returns. The a[] registers of wgmma_rs must not change until its group is waited.
// A function call anywhere in the kernel (printf included) makes ptxas serialize every wgmma
// (info C7510): correct, but slow; these wrappers are all inlined.
//
// Targets: sm_90a only (compile with --gpu-architecture=sm_90a / -gencode arch=compute_90a,
// code=sm_90a). Elsewhere the instruction wrappers call an undefined function: harmless unless
// used, and then ptxas stops with "Unresolved extern function 'tl_error_needs_sm_90a_wgmma'"; the
// compiler checks the target before it emits a call. The descriptor helpers work everywhere.
#pragma once

#include "tilescale/common.h"

extern "C" __device__ void tl_error_needs_sm_90a_wgmma();

#if defined(__CUDA_ARCH__) && !defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define TL_WGMMA_SM90A 0
#else
#define TL_WGMMA_SM90A 1
#endif

namespace tl {

// ---- descriptors ---------------------------------------------------------------------------------

enum WgmmaSwizzle : uint32_t { kWgmmaSwizzleNone = 0, kWgmmaSwizzle128B = 1, kWgmmaSwizzle64B = 2, kWgmmaSwizzle32B = 3 };

TL_HOST_DEVICE constexpr uint64_t wgmma_desc_encode(uint32_t smem_addr, uint32_t lbo_bytes, uint32_t sbo_bytes,
                                                    uint32_t swizzle, uint32_t base_offset = 0) {
  return static_cast<uint64_t>((smem_addr & 0x3FFFFu) >> 4) |
         (static_cast<uint64_t>((lbo_bytes >> 4) & 0x3FFFu) << 16) |
         (static_cast<uint64_t>((sbo_bytes >> 4) & 0x3FFFu) << 32) | (static_cast<uint64_t>(base_offset & 7u) << 49) |
         (static_cast<uint64_t>(swizzle & 3u) << 62);
}

TL_DEVICE uint64_t wgmma_desc(const void* smem, uint32_t lbo_bytes, uint32_t sbo_bytes, uint32_t swizzle,
                              uint32_t base_offset = 0) {
  return wgmma_desc_encode(static_cast<uint32_t>(__cvta_generic_to_shared(smem)), lbo_bytes, sbo_bytes, swizzle,
                           base_offset);
}

template <int SWIZZLE_BYTES>
TL_DEVICE uint64_t wgmma_desc_kmajor(const void* smem) {
  static_assert(SWIZZLE_BYTES == 128 || SWIZZLE_BYTES == 64 || SWIZZLE_BYTES == 32,
                "tl::wgmma_desc_kmajor: SWIZZLE_BYTES is 128, 64 or 32");
  constexpr uint32_t mode = SWIZZLE_BYTES == 128 ? kWgmmaSwizzle128B : SWIZZLE_BYTES == 64 ? kWgmmaSwizzle64B : kWgmmaSwizzle32B;
  return wgmma_desc(smem, 16, 8 * SWIZZLE_BYTES, mode);
}

// ---- ordering ------------------------------------------------------------------------------------

TL_DEVICE void wgmma_fence() {
#if TL_WGMMA_SM90A
  asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
#else
  tl_error_needs_sm_90a_wgmma();
#endif
}

TL_DEVICE void wgmma_commit() {
#if TL_WGMMA_SM90A
  asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
#else
  tl_error_needs_sm_90a_wgmma();
#endif
}

template <int N>
TL_DEVICE void wgmma_wait() {
  static_assert(N >= 0 && N <= 7, "tl::wgmma_wait<N>: N must be in [0, 7]");
#if TL_WGMMA_SM90A
  asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(N) : "memory");
#else
  tl_error_needs_sm_90a_wgmma();
#endif
}

template <int COUNT>
TL_DEVICE void wgmma_fence_regs(float* d) {
#pragma unroll
  for (int i = 0; i < COUNT; ++i) asm volatile("" : "+f"(d[i])::"memory");
}
template <int COUNT>
TL_DEVICE void wgmma_fence_regs(int* d) {
#pragma unroll
  for (int i = 0; i < COUNT; ++i) asm volatile("" : "+r"(d[i])::"memory");
}

// The same for wgmma_rs's A registers: COUNT 32-bit registers of 16-bit pairs.
template <int COUNT, class AT>
TL_DEVICE void wgmma_fence_regs(AT* a) {
  static_assert(sizeof(AT) == 2, "tl::wgmma_fence_regs: float accumulators or 16-bit A registers");
  uint32_t* r = reinterpret_cast<uint32_t*>(a);
#pragma unroll
  for (int i = 0; i < COUNT; ++i) asm volatile("" : "+r"(r[i])::"memory");
}

// ---- the instructions ----------------------------------------------------------------------------

namespace detail {

template <int N, class AT>
TL_DEVICE void check_wgmma() {
  static_assert(N == 8 || N == 16 || N == 32 || N == 64 || N == 96 || N == 128 || N == 192 || N == 256,
                "tl::wgmma: N must be one of 8, 16, 32, 64, 96, 128, 192, 256");
  static_assert(is_same_v<AT, half_t> || is_same_v<AT, bfloat16_t> || is_fp8_v<AT> || is_same_v<AT, float> ||
                    is_same_v<AT, signed char>,
                "tl::wgmma: operand type must be half_t, bfloat16_t, fp8_e4m3_t, fp8_e5m2_t, float (tf32) or signed char");
}

}  // namespace detail

// Inline-asm operand lists: "%0, ..., %<R-1>" and the R accumulator operands "+f"(d[0..R)).
#define TL_WG_L0_9 "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9"
#define TL_WG_TEN(t) "%" #t "0, %" #t "1, %" #t "2, %" #t "3, %" #t "4, %" #t "5, %" #t "6, %" #t "7, %" #t "8, %" #t "9"
#define TL_WG_LIST_4 "%0, %1, %2, %3"
#define TL_WG_LIST_8 "%0, %1, %2, %3, %4, %5, %6, %7"
#define TL_WG_LIST_16 TL_WG_L0_9 ", %10, %11, %12, %13, %14, %15"
#define TL_WG_LIST_32 TL_WG_L0_9 ", " TL_WG_TEN(1) ", " TL_WG_TEN(2) ", %30, %31"
#define TL_WG_LIST_48 TL_WG_L0_9 ", " TL_WG_TEN(1) ", " TL_WG_TEN(2) ", " TL_WG_TEN(3) ", %40, %41, %42, %43, %44, %45, %46, %47"
#define TL_WG_LIST_64                                                                                         \
  TL_WG_L0_9 ", " TL_WG_TEN(1) ", " TL_WG_TEN(2) ", " TL_WG_TEN(3) ", " TL_WG_TEN(4) ", " TL_WG_TEN(5) ", %60, %61, " \
             "%62, %63"
#define TL_WG_LIST_96                                                                                              \
  TL_WG_L0_9 ", " TL_WG_TEN(1) ", " TL_WG_TEN(2) ", " TL_WG_TEN(3) ", " TL_WG_TEN(4) ", " TL_WG_TEN(5) ", " TL_WG_TEN(6) \
             ", " TL_WG_TEN(7) ", " TL_WG_TEN(8) ", %90, %91, %92, %93, %94, %95"
#define TL_WG_LIST_128                                                                                             \
  TL_WG_L0_9 ", " TL_WG_TEN(1) ", " TL_WG_TEN(2) ", " TL_WG_TEN(3) ", " TL_WG_TEN(4) ", " TL_WG_TEN(5) ", " TL_WG_TEN(6) \
             ", " TL_WG_TEN(7) ", " TL_WG_TEN(8) ", " TL_WG_TEN(9) ", " TL_WG_TEN(10) ", " TL_WG_TEN(11)            \
             ", %120, %121, %122, %123, %124, %125, %126, %127"
// R accumulator operands d[o .. o + R) with constraint C ("+f" for float, "+r" for int).
#define TL_WG_OUT_4(C, d, o) C(d[(o)]), C(d[(o) + 1]), C(d[(o) + 2]), C(d[(o) + 3])
#define TL_WG_OUT_8(C, d, o) TL_WG_OUT_4(C, d, o), TL_WG_OUT_4(C, d, (o) + 4)
#define TL_WG_OUT_16(C, d, o) TL_WG_OUT_8(C, d, o), TL_WG_OUT_8(C, d, (o) + 8)
#define TL_WG_OUT_32(C, d, o) TL_WG_OUT_16(C, d, o), TL_WG_OUT_16(C, d, (o) + 16)
#define TL_WG_OUT_48(C, d, o) TL_WG_OUT_32(C, d, o), TL_WG_OUT_16(C, d, (o) + 32)
#define TL_WG_OUT_64(C, d, o) TL_WG_OUT_32(C, d, o), TL_WG_OUT_32(C, d, (o) + 32)
#define TL_WG_OUT_96(C, d, o) TL_WG_OUT_64(C, d, o), TL_WG_OUT_32(C, d, (o) + 64)
#define TL_WG_OUT_128(C, d, o) TL_WG_OUT_64(C, d, o), TL_WG_OUT_64(C, d, (o) + 64)

// One instruction for shape m64n<N>, with R = N / 2 accumulators at %0..%<R-1> and the other
// operands numbered from R: I0..I6 are the literals R .. R + 6. TYPES is "k16.f32.f16.f16" etc.
// ss: desc_a %I0, desc_b %I1, scale-d %I2, trans-a %I3, trans-b %I4 (16-bit types only).
#define TL_WGMMA_SS_T(N, R, I0, I1, I2, I3, I4, I5, I6, TYPES)                                                       \
  asm volatile("{\n .reg .pred p;\n setp.ne.b32 p, %" #I2 ", 0;\n wgmma.mma_async.sync.aligned.m64n" #N TYPES    \
               " {" TL_WG_LIST_##R "}, %" #I0 ", %" #I1 ", p, 1, 1, %" #I3 ", %" #I4 ";\n}\n"                        \
               : TL_WG_OUT_##R("+f", d, 0)                                                                           \
               : "l"(desc_a), "l"(desc_b), "r"(scale_d), "n"(int(TRANS_A)), "n"(int(TRANS_B)))
#define TL_WGMMA_SS_NT(N, R, I0, I1, I2, I3, I4, I5, I6, TYPES)                                                      \
  asm volatile("{\n .reg .pred p;\n setp.ne.b32 p, %" #I2 ", 0;\n wgmma.mma_async.sync.aligned.m64n" #N TYPES    \
               " {" TL_WG_LIST_##R "}, %" #I0 ", %" #I1 ", p, 1, 1;\n}\n"                                            \
               : TL_WG_OUT_##R("+f", d, 0)                                                                           \
               : "l"(desc_a), "l"(desc_b), "r"(scale_d))
// Integer (s8) forms: int accumulators, no scale-a/scale-b immediates.
#define TL_WGMMA_SS_INT(N, R, I0, I1, I2, I3, I4, I5, I6, TYPES)                                                     \
  asm volatile("{\n .reg .pred p;\n setp.ne.b32 p, %" #I2 ", 0;\n wgmma.mma_async.sync.aligned.m64n" #N TYPES    \
               " {" TL_WG_LIST_##R "}, %" #I0 ", %" #I1 ", p;\n}\n"                                                  \
               : TL_WG_OUT_##R("+r", d, 0)                                                                           \
               : "l"(desc_a), "l"(desc_b), "r"(scale_d))
// rs: a[0..3] %I0..%I3, desc_b %I4, scale-d %I5, trans-b %I6.
#define TL_WGMMA_RS_T(N, R, I0, I1, I2, I3, I4, I5, I6, TYPES)                                                       \
  asm volatile("{\n .reg .pred p;\n setp.ne.b32 p, %" #I5 ", 0;\n wgmma.mma_async.sync.aligned.m64n" #N TYPES    \
               " {" TL_WG_LIST_##R "}, {%" #I0 ", %" #I1 ", %" #I2 ", %" #I3 "}, %" #I4 ", p, 1, 1, %" #I6 ";\n}\n" \
               : TL_WG_OUT_##R("+f", d, 0)                                                                           \
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc_b), "r"(scale_d), "n"(int(TRANS_B)))
// Picks the line for the template's N; the other lines are discarded statements.
#define TL_WGMMA_FOR_N(M, TYPES)                                               \
  if constexpr (N == 8) M(8, 4, 4, 5, 6, 7, 8, 9, 10, TYPES);                  \
  else if constexpr (N == 16) M(16, 8, 8, 9, 10, 11, 12, 13, 14, TYPES);       \
  else if constexpr (N == 32) M(32, 16, 16, 17, 18, 19, 20, 21, 22, TYPES);    \
  else if constexpr (N == 64) M(64, 32, 32, 33, 34, 35, 36, 37, 38, TYPES);    \
  else if constexpr (N == 96) M(96, 48, 48, 49, 50, 51, 52, 53, 54, TYPES);    \
  else if constexpr (N == 128) M(128, 64, 64, 65, 66, 67, 68, 69, 70, TYPES);  \
  else if constexpr (N == 192) M(192, 96, 96, 97, 98, 99, 100, 101, 102, TYPES); \
  else M(256, 128, 128, 129, 130, 131, 132, 133, 134, TYPES)

template <int N, class AT, bool TRANS_A = false, bool TRANS_B = false>
TL_DEVICE void wgmma_ss(float* d, uint64_t desc_a, uint64_t desc_b, bool accumulate = true) {
  detail::check_wgmma<N, AT>();
  static_assert(!is_same_v<AT, signed char>, "tl::wgmma_ss: signed char operands accumulate in int");
  static_assert(sizeof(AT) == 2 || (!TRANS_A && !TRANS_B), "tl::wgmma_ss: fp8 and tf32 operands must both be K-major (no TRANS)");
#if TL_WGMMA_SM90A
  const uint32_t scale_d = accumulate ? 1u : 0u;
  if constexpr (is_same_v<AT, half_t>) {
    TL_WGMMA_FOR_N(TL_WGMMA_SS_T, "k16.f32.f16.f16");
  } else if constexpr (is_same_v<AT, bfloat16_t>) {
    TL_WGMMA_FOR_N(TL_WGMMA_SS_T, "k16.f32.bf16.bf16");
  } else if constexpr (is_same_v<AT, fp8_e4m3_t>) {
    TL_WGMMA_FOR_N(TL_WGMMA_SS_NT, "k32.f32.e4m3.e4m3");
  } else if constexpr (is_same_v<AT, fp8_e5m2_t>) {
    TL_WGMMA_FOR_N(TL_WGMMA_SS_NT, "k32.f32.e5m2.e5m2");
  } else {
    TL_WGMMA_FOR_N(TL_WGMMA_SS_NT, "k8.f32.tf32.tf32");
  }
#else
  (void)d, (void)desc_a, (void)desc_b, (void)accumulate;
  tl_error_needs_sm_90a_wgmma();
#endif
}

// signed char operands, int accumulators (s8 x s8 -> s32).
template <int N, class AT, bool TRANS_A = false, bool TRANS_B = false>
TL_DEVICE void wgmma_ss(int* d, uint64_t desc_a, uint64_t desc_b, bool accumulate = true) {
  detail::check_wgmma<N, AT>();
  static_assert(is_same_v<AT, signed char> && !TRANS_A && !TRANS_B,
                "tl::wgmma_ss: int accumulators take signed char operands, both K-major (no TRANS)");
#if TL_WGMMA_SM90A
  const uint32_t scale_d = accumulate ? 1u : 0u;
  TL_WGMMA_FOR_N(TL_WGMMA_SS_INT, "k32.s32.s8.s8");
#else
  (void)d, (void)desc_a, (void)desc_b, (void)accumulate;
  tl_error_needs_sm_90a_wgmma();
#endif
}

template <int N, class AT, bool TRANS_B = false>
TL_DEVICE void wgmma_rs(float* d, const uint32_t (&a)[4], uint64_t desc_b, bool accumulate = true) {
  detail::check_wgmma<N, AT>();
  static_assert(is_same_v<AT, half_t> || is_same_v<AT, bfloat16_t>, "tl::wgmma_rs: A in registers must be half_t or bfloat16_t");
#if TL_WGMMA_SM90A
  const uint32_t scale_d = accumulate ? 1u : 0u;
  if constexpr (is_same_v<AT, half_t>) {
    TL_WGMMA_FOR_N(TL_WGMMA_RS_T, "k16.f32.f16.f16");
  } else {
    TL_WGMMA_FOR_N(TL_WGMMA_RS_T, "k16.f32.bf16.bf16");
  }
#else
  (void)d, (void)a, (void)desc_b, (void)accumulate;
  tl_error_needs_sm_90a_wgmma();
#endif
}

#undef TL_WGMMA_FOR_N
#undef TL_WGMMA_RS_T
#undef TL_WGMMA_SS_INT
#undef TL_WGMMA_SS_NT
#undef TL_WGMMA_SS_T
#undef TL_WG_OUT_128
#undef TL_WG_OUT_96
#undef TL_WG_OUT_64
#undef TL_WG_OUT_48
#undef TL_WG_OUT_32
#undef TL_WG_OUT_16
#undef TL_WG_OUT_8
#undef TL_WG_OUT_4
#undef TL_WG_LIST_128
#undef TL_WG_LIST_96
#undef TL_WG_LIST_64
#undef TL_WG_LIST_48
#undef TL_WG_LIST_32
#undef TL_WG_LIST_16
#undef TL_WG_LIST_8
#undef TL_WG_LIST_4
#undef TL_WG_TEN
#undef TL_WG_L0_9

}  // namespace tl

#undef TL_WGMMA_SM90A
