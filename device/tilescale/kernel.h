// Helpers the code generator's own output calls (as opposed to the tile-op building blocks in the
// other headers): integer division rounding toward -inf, block rasterization, math the CUDA
// library spells differently.
#pragma once

#include "tilescale/common.h"

namespace tl {

template <class T>
TL_DEVICE T floordiv(T a, T b) {
  const T q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

template <class T>
TL_DEVICE T floormod(T a, T b) {
  return a - floordiv(a, b) * b;
}

TL_DEVICE float sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }
TL_DEVICE double sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }

// Block rasterization for L2 reuse (T::use_swizzle): the linear block id walks the grid in panels
// `panel` blocks wide (along x; along y when column_major), each panel top to bottom, so blocks that
// run at the same time touch few distinct rows and columns of the operands. A bijection of the grid;
// the last panel may be narrower.
// The persistent form takes the linear block id and the grid's x and y extents.
TL_DEVICE int2 rasterize(int linear, int grid_x, int grid_y, int panel, bool column_major) {
  const int gx = column_major ? grid_y : grid_x, gy = column_major ? grid_x : grid_y;
  const int panel_index = linear / (panel * gy);
  const int within = linear - panel_index * panel * gy;
  const int width = min(panel, gx - panel_index * panel);
  const int x = panel_index * panel + within % width, y = within / width;
  return column_major ? make_int2(y, x) : make_int2(x, y);
}

TL_DEVICE int2 rasterize(int panel, bool column_major) {
  return rasterize(static_cast<int>(blockIdx.y * gridDim.x + blockIdx.x), gridDim.x, gridDim.y, panel, column_major);
}

}  // namespace tl
