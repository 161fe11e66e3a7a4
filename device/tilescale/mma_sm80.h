// tilescale device headers — mma_sm80.h
//
// Thin wrappers over the warp-level matrix multiply-accumulate mma.sync.aligned (sm_80+), one per
// instruction; D = A * B + C with A row-major ("row") and B column-major ("col"). Warp-collective.
// The logic that picks them and feeds them from shared memory is in gemm_sm80.h.
//
//   tl::mma_m16n8k16_f16  (float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2], const float (&c)[4])
//   tl::mma_m16n8k16_f16_f16acc (half_t (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2])   d += a * b in float16
//   tl::mma_m16n8k16_bf16 (same)                                   f16 / bf16 inputs, f32 accumulate
//   tl::mma_m16n8k32_s8   (int (&d)[4],   const uint32_t (&a)[4], const uint32_t (&b)[2], const int (&c)[4])
//                                                                  s8 x s8 -> s32 (wraps on overflow)
//   tl::mma_m16n8k32_e4m3 (float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2], const float (&c)[4])
//   tl::mma_m16n8k32_e5m2 (same)                                   fp8 inputs, f32 accumulate; sm_89+
//   tl::mma_m16n8k8_tf32  (float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2], const float (&c)[4])
//                                                                  float32 inputs read as tf32 (the
//                                                                  low 13 mantissa bits ignored)
//
// Fragments (PTX ISA "Matrix Fragments for mma.m16n8k16 / m16n8k32"); lane l, g = l / 4, t = l % 4.
// Each 32-bit register holds 2 16-bit or 4 8-bit elements, the lowest index in the lowest bits, or
// one tf32 (E = 1 below, windows of 4 for k8).
//   A (16 x K):  a[0] row g,     a[1] row g + 8,   a[2] row g,       a[3] row g + 8
//                cols: a[0], a[1] hold K/2-window 0, a[2], a[3] window 1; within a window the lane
//                holds cols t * E .. t * E + E - 1, with E = 2 elements (16-bit) or 4 (8-bit) and
//                window width K/2 (8 for k16, 16 for k32).
//   B (K x 8):   col (n) g; b[0] rows (k) t * E .. t * E + E - 1 of window 0, b[1] of window 1.
//   C, D (16 x 8): c[0], c[1] row g, cols 2t, 2t + 1;  c[2], c[3] row g + 8, cols 2t, 2t + 1.
// d and c may be the same array (accumulate in place).
#pragma once

#include "tilescale/common.h"

namespace tl {

TL_DEVICE void mma_m16n8k16_f16(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2], const float (&c)[4]) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
      "{%10, %11, %12, %13};\n"
      : "=f"(d[0]), "=f"(d[1]), "=f"(d[2]), "=f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]), "f"(c[0]), "f"(c[1]), "f"(c[2]), "f"(c[3]));
}

// float16 accumulators: d holds the same four elements as the float32 form (row g: columns 2t and
// 2t + 1; row g + 8: the same), two halves to a register; d is also the addend.
TL_DEVICE void mma_m16n8k16_f16_f16acc(half_t (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) {
  uint32_t* acc = reinterpret_cast<uint32_t*>(d);
  asm volatile("mma.sync.aligned.m16n8k16.row.col.f16.f16.f16.f16 {%0, %1}, {%2, %3, %4, %5}, {%6, %7}, {%0, %1};\n"
               : "+r"(acc[0]), "+r"(acc[1])
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

TL_DEVICE void mma_m16n8k8_tf32(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2], const float (&c)[4]) {
  asm volatile(
      "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
      "{%10, %11, %12, %13};\n"
      : "=f"(d[0]), "=f"(d[1]), "=f"(d[2]), "=f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]), "f"(c[0]), "f"(c[1]), "f"(c[2]), "f"(c[3]));
}

TL_DEVICE void mma_m16n8k16_bf16(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2], const float (&c)[4]) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
      "{%10, %11, %12, %13};\n"
      : "=f"(d[0]), "=f"(d[1]), "=f"(d[2]), "=f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]), "f"(c[0]), "f"(c[1]), "f"(c[2]), "f"(c[3]));
}

TL_DEVICE void mma_m16n8k32_s8(int (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2], const int (&c)[4]) {
  asm volatile(
      "mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
      "{%10, %11, %12, %13};\n"
      : "=r"(d[0]), "=r"(d[1]), "=r"(d[2]), "=r"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]), "r"(c[0]), "r"(c[1]), "r"(c[2]), "r"(c[3]));
}

// fp8 mma.sync exists from sm_89 on; on older targets these trap (the compiler checks the target
// before it emits a call, and tl::gemm_ss refuses fp8 there at compile time).
TL_DEVICE void mma_m16n8k32_e4m3(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2], const float (&c)[4]) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 890
  asm volatile(
      "mma.sync.aligned.m16n8k32.row.col.f32.e4m3.e4m3.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
      "{%10, %11, %12, %13};\n"
      : "=f"(d[0]), "=f"(d[1]), "=f"(d[2]), "=f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]), "f"(c[0]), "f"(c[1]), "f"(c[2]), "f"(c[3]));
#else
  __trap();
#endif
}

TL_DEVICE void mma_m16n8k32_e5m2(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2], const float (&c)[4]) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 890
  asm volatile(
      "mma.sync.aligned.m16n8k32.row.col.f32.e5m2.e5m2.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
      "{%10, %11, %12, %13};\n"
      : "=f"(d[0]), "=f"(d[1]), "=f"(d[2]), "=f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]), "f"(c[0]), "f"(c[1]), "f"(c[2]), "f"(c[3]));
#else
  __trap();
#endif
}

}  // namespace tl
