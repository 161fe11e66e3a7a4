// Programs with scalar parameters (T::ScalarParam), shared by the correctness tests (CPU backend)
// and the compile-only tests (the CUDA they generate compiles with NVRTC).
#pragma once

#include "test_util.h"

namespace tilescale::test::scalar_params {

inline constexpr std::int64_t kTile = 512;

// TileLang's masked scale, over the first valid_len elements of A[N]:
//   B[i] = A[i] > 0 ? A[i] * scale : A[i] + bias   for i < min(valid_len, N); B[i] untouched beyond.
// valid_len is in a loop extent (T::Parallel capped by the tile), scale and bias in arithmetic,
// valid_len in a condition (nothing to do when it is not positive). Parameters interleave:
// (A, valid_len, B, scale, bias).
inline T::PrimFunc masked_scale(std::int64_t N) {
  return T::prim_func("masked_scale", [&] {
    auto A = T::Tensor("A", {N}, T::float32);
    T::Expr valid_len = T::ScalarParam("valid_len", T::int32);
    auto B = T::Tensor("B", {N}, T::float32);
    T::Expr scale = T::ScalarParam("scale", T::float32);
    T::Expr bias = T::ScalarParam("bias", T::float32);
    T::Kernel(T::ceildiv(N, kTile), T::threads(128), [&](T::Expr bx) {
      T::If(valid_len > 0, [&] {
        T::Parallel(T::min(T::min(valid_len, N) - bx * kTile, kTile), [&](T::Expr i) {
          T::Expr x = A(bx * kTile + i);
          B(bx * kTile + i) = T::if_then_else(x > 0, x * scale, x + bias);
        });
      });
    });
  });
}

// Out[i] = first + i * step for i < n, an int64 count that also sets the grid; the rest untouched.
inline T::PrimFunc iota(std::int64_t N) {
  return T::prim_func("iota", [&] {
    T::Expr n = T::ScalarParam("n", T::int64);
    T::Expr first = T::ScalarParam("first", T::int32);
    T::Expr step = T::ScalarParam("step", T::int32);
    auto Out = T::Tensor("Out", {N}, T::int64);
    T::Kernel(T::ceildiv(n, 128), T::threads(128), [&](T::Expr bx) {
      T::Parallel(128, [&](T::Expr i) {
        T::Expr k = bx * 128 + i;
        T::If(k < n, [&] { Out(k) = first + k * step; });
      });
    });
  });
}

}  // namespace tilescale::test::scalar_params
