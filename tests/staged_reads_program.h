// A program whose T::Parallel loops read fragments at elements other threads hold: reversed,
// gathered by indices read from a tensor, replicated row sums read backwards, a transpose. CUDA
// stages those fragments through shared memory (passes/plan_parallel_loops.h,
// passes/lower_to_threads.h); the CPU backend runs it as written and is the reference. Shared by
// the pass, codegen and GPU tests.
#pragma once

#include "tilescale/tilescale.h"

namespace tilescale::test {

// X [256], I [256] int32 (any values: indices are taken modulo 256), M [32, 32], A [64, 32] and
// B [32, 64] float16 in; Y [256], Z [256], W [32], Mt [32, 32], R [64] out: Y[i] = X[255 - i],
// Z[i] = X[I[i] mod 256], W[i] = 2 * sum_j M[31 - i, j] (the row sums: every thread holds all),
// Mt[i, j] = M[j, i], R[i] = max_j (A B)[63 - i, j] (the row maxima of an mma accumulator: each
// held by the four threads of a quad).
inline lang::PrimFunc staged_reads_program() {
  namespace T = tilescale::lang;
  return T::prim_func("staged_reads", [] {
    auto X = T::Tensor("X", {256}, T::float32);
    auto I = T::Tensor("I", {256}, T::int32);
    auto M = T::Tensor("M", {32, 32}, T::float32);
    auto Y = T::Tensor("Y", {256}, T::float32);
    auto Z = T::Tensor("Z", {256}, T::float32);
    auto W = T::Tensor("W", {32}, T::float32);
    auto Mt = T::Tensor("Mt", {32, 32}, T::float32);
    auto A = T::Tensor("A", {64, 32}, T::float16);
    auto B = T::Tensor("B", {32, 64}, T::float16);
    auto R = T::Tensor("R", {64}, T::float32);
    T::Kernel(1, T::threads(128), [&](T::Expr) {
      auto x = T::alloc_fragment({256}, T::float32, "x");
      auto y = T::alloc_fragment({256}, T::float32, "y");
      auto idx = T::alloc_fragment({256}, T::int32, "idx");
      auto z = T::alloc_fragment({256}, T::float32, "z");
      auto m = T::alloc_fragment({32, 32}, T::float32, "m");
      auto sums = T::alloc_fragment({32}, T::float32, "sums");
      auto w = T::alloc_fragment({32}, T::float32, "w");
      auto t = T::alloc_fragment({32, 32}, T::float32, "t");
      T::copy(X, x);
      T::Parallel(256, [&](T::Expr i) { y(i) = x(255 - i); });
      T::copy(y, Y);
      T::copy(I, idx);
      T::Parallel(256, [&](T::Expr i) { z(i) = x((idx(i) % 256 + 256) % 256); });
      T::copy(z, Z);
      T::copy(M, m);
      T::reduce_sum(m, sums, 1);
      T::Parallel(32, [&](T::Expr i) { w(i) = sums(31 - i) * 2.0f; });
      T::copy(w, W);
      T::Parallel(32, 32, [&](T::Expr i, T::Expr j) { t(i, j) = m(j, i); });
      T::copy(t, Mt);
      auto A_shared = T::alloc_shared({64, 32}, T::float16, "A_shared");
      auto B_shared = T::alloc_shared({32, 64}, T::float16, "B_shared");
      auto C = T::alloc_fragment({64, 64}, T::float32, "C");
      auto row_max = T::alloc_fragment({64}, T::float32, "row_max");
      auto r = T::alloc_fragment({64}, T::float32, "r");
      T::copy(A, A_shared);
      T::copy(B, B_shared);
      T::gemm(A_shared, B_shared, C, T::GemmOptions{.clear_accum = true});
      T::reduce_max(C, row_max, 1);
      T::Parallel(64, [&](T::Expr i) { r(i) = row_max(63 - i); });
      T::copy(r, R);
    });
  });
}

}  // namespace tilescale::test
