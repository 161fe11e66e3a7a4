// The fragment layouts the CUDA backend assigns, each with its owner map in closed form.
//
//  * mma_accumulator: the C tile of a block-level gemm built from mma.sync m16n8 instructions, the
//    warps arranged warps_m x warps_n (device/tilescale/gemm_sm80.h spells out the same layout).
//    Warp w = warp_m + warps_m * warp_n owns rows [warp_m*WM, +WM) and columns [warp_n*WN, +WN),
//    WM = M / warps_m, WN = N / warps_n; in it, lane l and register (mi*NI + ni)*4 + r hold
//      row = warp_m*WM + mi*16 + l/4 + 8*(r/2),  col = warp_n*WN + ni*8 + (l%4)*2 + r%2.
//    With WarpRows::M64Tiles (wgmma, several m64 tiles per warpgroup; gemm_sm90.h) the rows are
//    dealt per warpgroup instead: warp row w = 4g + v (warpgroup g, warp v in it) holds the WM / 16
//    groups of 16 rows [g*4*WM + t*64 + v*16, +16), t = 0 .. WM/16 - 1, tile t in place of mi. With
//    WM == 16 the two arrangements are the same layout.
//  * mma_accumulator_transposed: the same registers indexed the other way round, over the [N][M]
//    transpose: element (j, i) sits where mma_accumulator(M, N, ...) holds (i, j). The B operand of
//    a gemm that reads B [K][N] from registers (gemm_sr) is mma_accumulator_transposed(N, K, warps_n,
//    1): the accumulator layout of B^T, which is what mma.sync wants of B (gemm_sm80.h); read as
//    [N][K] (transpose_B) it is mma_accumulator(N, K, warps_n, 1) itself.
//  * mma_rows: one value per row of an mma_accumulator (what reduce along dim 1 produces), held by
//    every thread that holds part of that row: the 4 lanes of a quad, in each of the warps_n warps
//    that share the row. Register mi*2 + h holds row warp_m*WM + mi*16 + 8*h + l/4 (with M64Tiles,
//    the row of mi's 16-row group, as above).
//  * partition: the default for fragments no gemm constrains (REFERENCE.md): row-major flattening,
//    vectors of `vector_width`, dealt round-robin to the threads.
//  * replicated: every thread holds the whole (small) fragment; register = row-major flat index.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "layout/layout.h"

namespace tilescale::layout {

// How an accumulator's M rows are dealt to its warps_m warp rows of WM = M / warps_m rows:
// Contiguous (mma.sync, and wgmma with one m64 tile per warpgroup) or M64Tiles (see above).
enum class WarpRows { Contiguous, M64Tiles };

std::shared_ptr<const Fragment> mma_accumulator(std::int64_t M, std::int64_t N, int warps_m, int warps_n,
                                                WarpRows arrangement = WarpRows::Contiguous);
std::shared_ptr<const Fragment> mma_accumulator_transposed(std::int64_t M, std::int64_t N, int warps_m, int warps_n);
std::shared_ptr<const Fragment> mma_rows(std::int64_t M, int warps_m, int warps_n, WarpRows arrangement = WarpRows::Contiguous);
std::shared_ptr<const Fragment> partition(const std::vector<std::int64_t>& shape, std::int64_t threads,
                                          std::int64_t vector_width);
std::shared_ptr<const Fragment> replicated(const std::vector<std::int64_t>& shape, std::int64_t threads);

}  // namespace tilescale::layout
