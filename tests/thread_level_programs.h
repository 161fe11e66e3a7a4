// Programs whose statements never name the thread index but read or write per-thread storage
// set from it (ops/thread_level.h): run once per block with thread 0's values by the CPU backend
// before the thread-level analysis. Shared by the CPU tests (tests/correctness/test_thread_level.cc)
// and the GPU tests, which check CUDA against the CPU backend on them.
#pragma once

#include "tilescale/tilescale.h"

namespace tilescale::test::thread_level {

namespace T = tilescale::lang;

// acc[0] = tx; acc[0] = acc[0] * 2 + 1 (no tx there); Y[tx] = acc[0].
inline T::PrimFunc local_updated_without_naming_the_thread() {
  return T::prim_func("local_update", [] {
    auto Y = T::Tensor("Y", {256}, T::int32);
    T::Kernel(2, T::threads(128), [&](T::Expr bx) {
      T::Expr tx = T::get_thread_binding();
      auto acc = T::alloc_local({1}, T::int32, "acc");
      acc(0) = tx;
      acc(0) = acc(0) * 2 + 1;
      Y(bx * 128 + tx) = acc(0);
    });
  });
}

// A T::While whose condition reads a per-thread variable runs each thread's own trip count.
inline T::PrimFunc while_on_a_per_thread_variable() {
  return T::prim_func("while_per_thread", [] {
    auto Y = T::Tensor("Y", {128}, T::int32);
    T::Kernel(1, T::threads(128), [&](T::Expr) {
      T::Expr tx = T::get_thread_binding();
      auto n = T::alloc_var(T::int32, 0, "n");
      auto trips = T::alloc_var(T::int32, 0, "trips");
      n = tx % 5;
      T::While(n < 10, [&] {
        n += 1;
        trips += 1;
      });
      Y(tx) = trips;
    });
  });
}

// TileLang's split-K GEMV: each thread accumulates its slice of K in a local (C_accum[0] +=
// A_local[k] * B_local[k], no thread index in sight), the block reduces the partial sums through
// shared memory.
inline constexpr std::int64_t kGemvN = 64, kGemvK = 256, kBlockN = 8, kReduceThreads = 16, kTileK = 4;

inline T::PrimFunc split_k_gemv() {
  return T::prim_func("split_k_gemv", [] {
    auto A = T::Tensor("A", {kGemvK}, T::float32);
    auto B = T::Tensor("B", {kGemvN, kGemvK}, T::float32);
    auto C = T::Tensor("C", {kGemvN}, T::float32);
    T::Kernel(kGemvN / kBlockN, T::threads(kBlockN * kReduceThreads), [&](T::Expr bn) {
      T::Expr tx = T::get_thread_binding();
      T::Expr tn = tx / kReduceThreads, tk = tx % kReduceThreads;
      auto A_local = T::alloc_local({kTileK}, T::float32, "A_local");
      auto B_local = T::alloc_local({kTileK}, T::float32, "B_local");
      auto C_accum = T::alloc_local({1}, T::float32, "C_accum");
      auto partial = T::alloc_shared({kBlockN, kReduceThreads}, T::float32, "partial");
      T::clear(C_accum);
      T::serial(kGemvK / (kReduceThreads * kTileK), [&](T::Expr bk) {
        T::serial(kTileK, [&](T::Expr k) {
          A_local(k) = A(bk * (kReduceThreads * kTileK) + tk * kTileK + k);
          B_local(k) = B(bn * kBlockN + tn, bk * (kReduceThreads * kTileK) + tk * kTileK + k);
        });
        T::serial(kTileK, [&](T::Expr k) { C_accum(0) = C_accum(0) + A_local(k) * B_local(k); });
      });
      partial(tn, tk) = C_accum(0);
      T::If(tk == 0, [&] {
        auto sum = T::alloc_var(T::float32, 0.0, "sum");
        T::serial(kReduceThreads, [&](T::Expr r) { sum += partial(tn, r); });
        C(bn * kBlockN + tn) = sum;
      });
    });
  });
}

// TileLang's GEMV on a 2-D block (T::threads(block_n, block_k), by default 32 x 4): block_n outputs
// per block, block_k threads splitting K (T::get_thread_binding(0) and (1)); each thread sums its
// slice, the partial sums meet in shared memory. C[n] = sum_k A[k] B[n, k], N = 96, K = 256.
// Blocks that are not whole warps (4 x 4, 12 x 4) work as well.
inline constexpr std::int64_t kGemv2dN = 96, kGemv2dK = 256;
inline T::PrimFunc gemv_on_a_2d_block(int block_n = 32, int block_k = 4) {
  return T::prim_func("gemv_2d", [=] {
    auto A = T::Tensor("A", {kGemv2dK}, T::float32);
    auto B = T::Tensor("B", {kGemv2dN, kGemv2dK}, T::float32);
    auto C = T::Tensor("C", {kGemv2dN}, T::float32);
    T::Kernel(kGemv2dN / block_n, T::threads(block_n, block_k), [&](T::Expr bx) {
      const T::Expr tn = T::get_thread_binding(0), tk = T::get_thread_binding(1);
      auto acc = T::alloc_local({1}, T::float32, "acc");
      auto partial = T::alloc_shared({block_k, block_n}, T::float32, "partial");
      acc(0) = 0.0f;
      T::serial(0, kGemv2dK / block_k,
                [&](T::Expr k) { acc(0) = acc(0) + A(k * block_k + tk) * B(bx * block_n + tn, k * block_k + tk); });
      partial(tk, tn) = acc(0);
      T::If(tk == 0, [&] {
        T::Expr sum = partial(0, tn);
        for (int r = 1; r < block_k; ++r) sum = sum + partial(r, tn);
        C(bx * block_n + tn) = sum;
      });
    });
  });
}

// Tile ops and Parallel loops on a block of any size (16, 48, 7 threads: not whole warps), A [16, 64]:
// through shared memory into a fragment, scaled, row sums R (T::reduce_sum: a block of whole warps
// would reduce rows with lane shuffles), the running sum along rows into B (T::cumsum), the rows
// reversed into S (a Parallel loop reading elements other threads hold).
inline T::PrimFunc tile_ops_on_a_block_of(int threads) {
  return T::prim_func("tile_ops_block", [=] {
    auto A = T::Tensor("A", {16, 64}, T::float32);
    auto R = T::Tensor("R", {16}, T::float32);
    auto B = T::Tensor("B", {16, 64}, T::float32);
    auto S = T::Tensor("S", {16, 64}, T::float32);
    T::Kernel(1, T::threads(threads), [&](T::Expr) {
      auto sh = T::alloc_shared({16, 64}, T::float32, "sh");
      auto F = T::alloc_fragment({16, 64}, T::float32, "F");
      auto G = T::alloc_fragment({16, 64}, T::float32, "G");
      auto r = T::alloc_fragment({16}, T::float32, "r");
      T::copy(A, sh);
      T::copy(sh, F);
      T::Parallel(16, 64, [&](T::Expr i, T::Expr j) { F(i, j) = F(i, j) * 2 + 1; });
      T::reduce_sum(F, r, 1);
      T::copy(r, R);
      T::Parallel(16, 64, [&](T::Expr i, T::Expr j) { G(i, j) = F(15 - i, j); });
      T::copy(G, S);
      T::cumsum(F, F, 1);
      T::copy(F, B);
    });
  });
}

// Each thread of a T::threads(8, 4, 2) block writes its three indices: I[t] = (x, y, z).
inline T::PrimFunc thread_indices_of_a_3d_block() {
  return T::prim_func("thread_indices", [] {
    auto I = T::Tensor("I", {64, 3}, T::int32);
    T::Kernel(1, T::threads(8, 4, 2), [&](T::Expr) {
      const T::Expr t = T::get_thread_binding(0) + T::get_thread_binding(1) * 8 + T::get_thread_binding(2) * 32;
      for (int d = 0; d < 3; ++d) I(t, d) = T::get_thread_binding(d);
    });
  });
}

}  // namespace tilescale::test::thread_level
