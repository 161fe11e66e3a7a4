// Kernels for the warp-specialization tests, shared by the codegen and GPU tests.
#pragma once

#include "tilescale/tilescale.h"

namespace tilescale::ws_kernels {

namespace T = tilescale::lang;

// O = X + Σ_k A_k · A_kᵀ over eight 64 x 64 tiles A_k of A [512, 64]. X's tile is dead before the
// pipelined loop and allocated before the staged tile, so the shared-memory planner gives the
// staged tile X's memory: the producer warpgroup must not load into it before the consumers are
// done with X.
inline T::PrimFunc staged_tile_reuses_memory() {
  return T::prim_func("reuse", [&] {
    auto X = T::Tensor("X", {64, 64}, T::float16);
    auto A = T::Tensor("A", {512, 64}, T::float16);
    auto O = T::Tensor("O", {64, 64}, T::float32);
    T::Kernel(1, T::threads(128), [&](T::Expr) {
      auto Xs = T::alloc_shared({64, 64}, T::float16, "Xs");
      auto acc = T::alloc_fragment({64, 64}, T::float32, "acc");
      T::copy(X, Xs);
      T::copy(Xs, acc);
      auto As = T::alloc_shared({64, 64}, T::float16, "As");
      T::Pipelined(8, 2, [&](T::Expr k) {
        T::copy(A(k * 64, 0), As);
        T::gemm(As, As, acc, false, true);
      });
      T::copy(acc, O);
    });
  });
}

}  // namespace tilescale::ws_kernels
