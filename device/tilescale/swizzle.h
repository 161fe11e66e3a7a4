// tilescale device headers — swizzle.h
//
// The XOR swizzle of shared-memory tiles: tl::swizzle<ROWS, COLS, ELEM_BYTES>(row, col) is the element
// offset of logical element (row, col) of a [ROWS][COLS] tile of ELEM_BYTES-byte elements.
// It is the same map as tilescale::layout::swizzled() in src/layout/layout.h, which the compiler
// uses to reason about the tile; the two must agree.
//
// Why: shared memory has 32 banks of 4 bytes, so one 128-byte line touches every bank once.
// ldmatrix has 8 threads each read one 16-byte chunk, and for a tile operand those are the same
// chunk column of 8 consecutive rows. With plain row-major rows of 128 bytes those 8 chunks start at
// the same offset modulo 128 bytes: the same 4 banks, an 8-way conflict. Row-wise 16-byte cp.async
// and vector stores have the mirror-image problem when several threads write one column of chunks.
//
// Rule. A row is row_bytes = COLS * ELEM_BYTES bytes = chunks 16-byte chunks; element col lies in
// chunk c = col / (16 / ELEM_BYTES) at position col % (16 / ELEM_BYTES) inside it. Chunk c of row r
// is stored at chunk position
//
//     c ^ (r % 8)              chunks == 8 (rows of 128 bytes)
//     c ^ ((r / 2) % 4)        chunks == 4 (64-byte rows: two rows share a 128-byte line)
//     c ^ ((r / 4) % 2)        chunks == 2 (32-byte rows: four rows share a 128-byte line)
//     c                        anything else (16-byte rows, rows that are not whole chunks, and
//                              chunk counts the compiler never swizzles: 3, 5, 6, 7, 9, ...)
//
// so that any 8 consecutive rows (aligned to 8) place a given chunk column in 8 different 16-byte
// bank groups. Rows wider than 128 bytes (a multiple of 8 chunks) are cut into 128-byte column
// panels stored one after the other, each a [ROWS][128 bytes] tile swizzled as above:
//
//     offset(r, col) = (col / P) * ROWS * P + offset of (r, col % P) in the panel,  P = 128 / ELEM_BYTES
//
// Elements inside a chunk stay in order (16-byte vector accesses and ldmatrix row addresses stay
// contiguous and aligned) and the map is a bijection on the tile. It is the 128/64/32-byte swizzle
// of CuTe and of the TMA, and the panels are what a TMA load with a 128-byte swizzle writes (one
// box per panel) and what wgmma's shared-memory descriptors read (panel distance = LBO for M/N-major
// operands, the start address for K-major ones).
//
// Example, 64 x 64 half_t tile (128-byte rows): element (3, 10) is in chunk 1, position 2; chunk
// 1 ^ 3 = 2, so the offset is 3 * 64 + 2 * 8 + 2 = 210. In a 64 x 128 half_t tile element (3, 74)
// is element (3, 10) of the second panel: 64 * 64 + 210.
//
// tl::swizzle is constexpr and __host__ __device__, so host code (tests) can use it too.
#pragma once

#include "tilescale/common.h"

namespace tl {

template <int ROWS, int COLS, int ELEM_BYTES>
TL_HOST_DEVICE constexpr int swizzle(int row, int col) {
  static_assert(ROWS > 0 && COLS > 0 && ELEM_BYTES > 0, "tl::swizzle: ROWS, COLS and ELEM_BYTES must be positive");
  constexpr int row_bytes = COLS * ELEM_BYTES;
  constexpr bool whole_chunks = 16 % ELEM_BYTES == 0 && row_bytes % 16 == 0;
  constexpr int chunks = row_bytes / 16;
  constexpr bool swizzled = whole_chunks && (chunks == 2 || chunks == 4 || (chunks > 0 && chunks % 8 == 0));
  if constexpr (!swizzled) {
    return row * COLS + col;
  } else {
    // Non-negative indices: unsigned arithmetic turns / and % into shifts and masks.
    constexpr unsigned per_chunk = 16 / ELEM_BYTES, panel = chunks >= 8 ? 8 * per_chunk : COLS;
    const unsigned r = static_cast<unsigned>(row), c = static_cast<unsigned>(col) % panel;
    const unsigned pattern = chunks >= 8 ? r % 8u : (r / (8u / chunks)) % static_cast<unsigned>(chunks);
    const unsigned chunk = (c / per_chunk) ^ pattern;
    const unsigned panel_base = (static_cast<unsigned>(col) / panel) * static_cast<unsigned>(ROWS) * panel;
    return static_cast<int>(panel_base + r * panel + chunk * per_chunk + c % per_chunk);
  }
}

}  // namespace tl
