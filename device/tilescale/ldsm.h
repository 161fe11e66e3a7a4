// tilescale device headers — ldsm.h
//
// Thin wrappers over ldmatrix (sm_75+) and stmatrix (sm_90+), one per instruction variant. They
// are warp-collective: all 32 lanes must call them together (.sync.aligned).
//
// ldmatrix.m8n8.xN.b16 loads N 8x8 matrices of 16-bit elements (8 rows of 16 bytes each) from
// shared memory. Lane l supplies the address of row l % 8 of matrix l / 8 (so lanes 0-7 matter for
// x1, 0-15 for x2, all 32 for x4); each row address is 16-byte aligned and its 16 bytes contiguous.
// Register i of lane l receives matrix i:
//     plain:  elements (row l / 4, cols 2 * (l % 4) and 2 * (l % 4) + 1)   low half = lower col
//     .trans: elements (rows 2 * (l % 4) and 2 * (l % 4) + 1, col l / 4)   low half = lower row
// This is exactly one mma.m16n8k16 operand fragment piece (see mma_sm80.h). For 8-bit data a
// "16-bit element" is a pair of bytes: plain ldmatrix then gives lane l the 4 bytes
// (row l / 4, bytes 4 * (l % 4) .. +3), which is the m16n8k32 8-bit fragment piece.
//
// stmatrix.m8n8.x4[.trans].b16 is the inverse: lane l supplies the address of row l % 8 of matrix
// l / 8, and register i of lane l is written to matrix i at the positions above.
//
//   tl::ldsm_x1(r, p)  tl::ldsm_x2(r, p)  tl::ldsm_x4(r, p)                  r: uint32_t[1|2|4]
//   tl::ldsm_x1_trans  tl::ldsm_x2_trans  tl::ldsm_x4_trans                  p: this lane's row
//   tl::ldsm_x2(r, a)  tl::ldsm_x4(r, a)  tl::ldsm_x2_trans  tl::ldsm_x4_trans
//                                         a: the row's 32-bit shared-window address (unsigned, as
//                                         __cvta_generic_to_shared gives it), for callers that keep
//                                         addresses as base + per-lane offset so that the compiler
//                                         folds constant parts into the instruction's immediate
//   tl::stsm_x4(p, r)  tl::stsm_x4_trans(p, r)                               (sm_90 and later)
//   tl::stsm_x4_from<M, F>(p, regs): stsm_x4 of 8 registers of type F converted to M
//   tl::lds_u8(a)  tl::lds_b32(a)        one lane's plain load of a byte / 32-bit word at shared
//                                        address a, for the fragments ldmatrix cannot load (8-bit
//                                        and 32-bit elements that must be transposed)
#pragma once

#include "tilescale/common.h"

namespace tl {

namespace detail {
TL_DEVICE unsigned smem_addr(const void* p) { return static_cast<unsigned>(__cvta_generic_to_shared(p)); }
}  // namespace detail

TL_DEVICE void ldsm_x1(uint32_t (&r)[1], const void* smem_row_ptr) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x1.shared.b16 {%0}, [%1];\n"
               : "=r"(r[0])
               : "r"(detail::smem_addr(smem_row_ptr)));
}
TL_DEVICE void ldsm_x2(uint32_t (&r)[2], unsigned smem_row_addr) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x2.shared.b16 {%0, %1}, [%2];\n"
               : "=r"(r[0]), "=r"(r[1])
               : "r"(smem_row_addr));
}
TL_DEVICE void ldsm_x2(uint32_t (&r)[2], const void* smem_row_ptr) { ldsm_x2(r, detail::smem_addr(smem_row_ptr)); }
TL_DEVICE void ldsm_x4(uint32_t (&r)[4], unsigned smem_row_addr) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(smem_row_addr));
}
TL_DEVICE void ldsm_x4(uint32_t (&r)[4], const void* smem_row_ptr) { ldsm_x4(r, detail::smem_addr(smem_row_ptr)); }
TL_DEVICE void ldsm_x1_trans(uint32_t (&r)[1], const void* smem_row_ptr) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x1.trans.shared.b16 {%0}, [%1];\n"
               : "=r"(r[0])
               : "r"(detail::smem_addr(smem_row_ptr)));
}
TL_DEVICE void ldsm_x2_trans(uint32_t (&r)[2], unsigned smem_row_addr) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x2.trans.shared.b16 {%0, %1}, [%2];\n"
               : "=r"(r[0]), "=r"(r[1])
               : "r"(smem_row_addr));
}
TL_DEVICE void ldsm_x2_trans(uint32_t (&r)[2], const void* smem_row_ptr) { ldsm_x2_trans(r, detail::smem_addr(smem_row_ptr)); }
TL_DEVICE void ldsm_x4_trans(uint32_t (&r)[4], unsigned smem_row_addr) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(smem_row_addr));
}
TL_DEVICE void ldsm_x4_trans(uint32_t (&r)[4], const void* smem_row_ptr) { ldsm_x4_trans(r, detail::smem_addr(smem_row_ptr)); }

TL_DEVICE uint32_t lds_u8(unsigned smem_addr) {
  uint32_t v;
  asm volatile("ld.shared.u8 %0, [%1];\n" : "=r"(v) : "r"(smem_addr));
  return v;
}
TL_DEVICE uint32_t lds_b32(unsigned smem_addr) {
  uint32_t v;
  asm volatile("ld.shared.b32 %0, [%1];\n" : "=r"(v) : "r"(smem_addr));
  return v;
}

// stmatrix exists from sm_90 on; on older targets these trap (the compiler checks the target
// before it emits a call, so they are never reached there).
TL_DEVICE void stsm_x4(void* smem_row_ptr, const uint32_t (&r)[4]) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("stmatrix.sync.aligned.m8n8.x4.shared.b16 [%0], {%1, %2, %3, %4};\n" ::"r"(detail::smem_addr(smem_row_ptr)),
               "r"(r[0]), "r"(r[1]), "r"(r[2]), "r"(r[3])
               : "memory");
#else
  __trap();
#endif
}
// stsm_x4 of 8 registers regs[0..8) of type F, converted to the 16-bit M and packed in pairs.
template <typename M, typename F>
TL_DEVICE void stsm_x4_from(M* smem_row_ptr, const F* regs) {
  uint32_t r[4];
  for (int i = 0; i < 8; ++i) reinterpret_cast<M*>(&r[i / 2])[i % 2] = cast<M>(regs[i]);
  stsm_x4(smem_row_ptr, r);
}
TL_DEVICE void stsm_x4_trans(void* smem_row_ptr, const uint32_t (&r)[4]) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("stmatrix.sync.aligned.m8n8.x4.trans.shared.b16 [%0], {%1, %2, %3, %4};\n" ::"r"(
                   detail::smem_addr(smem_row_ptr)),
               "r"(r[0]), "r"(r[1]), "r"(r[2]), "r"(r[3])
               : "memory");
#else
  __trap();
#endif
}

}  // namespace tl
