// Kernels whose T::gemm reads B from registers (gemm_sr on CUDA), shared by the correctness,
// codegen and GPU tests, with their plain C++ references.
#pragma once

#include <cstdint>
#include <vector>

#include "tilescale/tilescale.h"

namespace tilescale::sr_kernels {

namespace T = tilescale::lang;

// C[M, N] = op(A) · op(B), A stored [M, K] ([K, M] when ta), B [K, N] ([N, K] when tb). Each K step
// brings B's BK x BN tile into the fragment B_local: through shared memory and a T::copy between
// the two, or straight from global memory. Tiles of BM x BN x BK; tails are zero-filled. The K
// loop is T::Pipelined with `stages` stages, or T::serial when stages is 0.
inline T::PrimFunc gemm_b_in_registers(std::int64_t M, std::int64_t N, std::int64_t K, bool ta, bool tb, DataType dt,
                                       bool through_shared, int stages = 0, int threads = 128, int BM = 32, int BN = 64,
                                       int BK = 32) {
  return T::prim_func("gemm_b_in_registers", [&] {
    auto A = T::Tensor("A", ta ? T::Shape{K, M} : T::Shape{M, K}, dt);
    auto B = T::Tensor("B", tb ? T::Shape{N, K} : T::Shape{K, N}, dt);
    auto C = T::Tensor("C", {M, N}, DataType::Float32);
    T::Kernel(T::ceildiv(N, BN), T::ceildiv(M, BM), T::threads(threads), [&](T::Expr bx, T::Expr by) {
      auto As = T::alloc_shared(ta ? T::Shape{BK, BM} : T::Shape{BM, BK}, dt, "A_shared");
      auto Bs = T::alloc_shared(tb ? T::Shape{BN, BK} : T::Shape{BK, BN}, dt, "B_shared");
      auto Bf = T::alloc_fragment(tb ? T::Shape{BN, BK} : T::Shape{BK, BN}, dt, "B_local");
      auto Cf = T::alloc_fragment({BM, BN}, DataType::Float32, "C_local");
      T::clear(Cf);
      auto k_step = [&](T::Expr k) {
        if (ta) T::copy(A(k * BK, by * BM), As);
        else T::copy(A(by * BM, k * BK), As);
        auto b_tile = tb ? B(bx * BN, k * BK) : B(k * BK, bx * BN);
        if (through_shared) {
          T::copy(b_tile, Bs);
          T::copy(Bs, Bf);
        } else {
          T::copy(b_tile, Bf);
        }
        T::gemm(As, Bf, Cf, ta, tb);
      };
      if (stages > 0) T::Pipelined(T::ceildiv(K, BK), stages, k_step);
      else T::serial(T::ceildiv(K, BK), k_step);
      T::copy(Cf, C(by * BM, bx * BN));
    });
  });
}

inline Tensor reference_gemm(const Tensor& A, const Tensor& B, std::int64_t M, std::int64_t N, std::int64_t K, bool ta,
                             bool tb) {
  Tensor C = Tensor::empty({M, N}, DataType::Float32);
  for (std::int64_t i = 0; i < M; ++i)
    for (std::int64_t j = 0; j < N; ++j) {
      double s = 0;
      for (std::int64_t k = 0; k < K; ++k) s += (ta ? A.get({k, i}) : A.get({i, k})) * (tb ? B.get({j, k}) : B.get({k, j}));
      C.set({i, j}, s);
    }
  return C;
}

// B in registers as the accumulator of an earlier gemm, on the other side from attention's P·V:
// S[N, KK] = X[N, J] · Y[J, KK] in float32, rounded to dt in registers, then C = A · S^T
// (transpose_B: S is read as [N][K], exactly the layout mma.sync wants of B). A is [M, KK]; one
// block per BM rows of A.
inline T::PrimFunc gemm_b_from_accumulator(std::int64_t M, std::int64_t N, std::int64_t KK, std::int64_t J, DataType dt,
                                           int threads = 128, int BM = 32) {
  return T::prim_func("gemm_b_from_accumulator", [&] {
    auto A = T::Tensor("A", {M, KK}, dt);
    auto X = T::Tensor("X", {N, J}, dt);
    auto Y = T::Tensor("Y", {J, KK}, dt);
    auto C = T::Tensor("C", {M, N}, DataType::Float32);
    T::Kernel(T::ceildiv(M, BM), T::threads(threads), [&](T::Expr bx) {
      auto Xs = T::alloc_shared({N, J}, dt, "X_shared");
      auto Ys = T::alloc_shared({J, KK}, dt, "Y_shared");
      auto As = T::alloc_shared({BM, KK}, dt, "A_shared");
      auto S = T::alloc_fragment({N, KK}, DataType::Float32, "S");
      auto Sh = T::alloc_fragment({N, KK}, dt, "S_cast");
      auto Cf = T::alloc_fragment({BM, N}, DataType::Float32, "C_local");
      T::copy(X, Xs);
      T::copy(Y, Ys);
      T::copy(A(bx * BM, 0), As);
      T::gemm(Xs, Ys, S, T::GemmOptions{.clear_accum = true});
      T::copy(S, Sh);
      T::gemm(As, Sh, Cf, T::GemmOptions{.transpose_B = true, .clear_accum = true});
      T::copy(Cf, C(bx * BM, 0));
    });
  });
}

inline Tensor reference_gemm_b_from_accumulator(const Tensor& A, const Tensor& X, const Tensor& Y, std::int64_t M,
                                                std::int64_t N, std::int64_t KK, std::int64_t J, DataType dt) {
  std::vector<double> S(N * KK);
  for (std::int64_t n = 0; n < N; ++n)
    for (std::int64_t k = 0; k < KK; ++k) {
      double s = 0;
      for (std::int64_t j = 0; j < J; ++j) s += X.get({n, j}) * Y.get({j, k});
      // Rounded as the kernel rounds: to float32 (the accumulator), then to dt (the T::copy).
      Tensor f32 = Tensor::empty({1}, DataType::Float32), low = Tensor::empty({1}, dt);
      f32.set({0}, s);
      low.set({0}, f32.get({0}));
      S[n * KK + k] = low.get({0});
    }
  Tensor C = Tensor::empty({M, N}, DataType::Float32);
  for (std::int64_t i = 0; i < M; ++i)
    for (std::int64_t n = 0; n < N; ++n) {
      double s = 0;
      for (std::int64_t k = 0; k < KK; ++k) s += A.get({i, k}) * S[n * KK + k];
      C.set({i, n}, s);
    }
  return C;
}

// C[M, N] = op(A) · B with A read from registers (gemm_rs on CUDA): A stored [M, K] ([K, M] when
// ta, T::gemm's transpose_A), each K step's tile copied straight from global memory into the
// fragment A_local ([BK, BM] when ta), B through shared memory. Tiles of BM x BN x BK; tails are
// zero-filled.
inline T::PrimFunc gemm_a_in_registers(std::int64_t M, std::int64_t N, std::int64_t K, bool ta, DataType dt, int threads = 128,
                                       int BM = 64, int BN = 64, int BK = 32) {
  return T::prim_func("gemm_a_in_registers", [&] {
    auto A = T::Tensor("A", ta ? T::Shape{K, M} : T::Shape{M, K}, dt);
    auto B = T::Tensor("B", {K, N}, dt);
    auto C = T::Tensor("C", {M, N}, DataType::Float32);
    T::Kernel(T::ceildiv(N, BN), T::ceildiv(M, BM), T::threads(threads), [&](T::Expr bx, T::Expr by) {
      auto Af = T::alloc_fragment(ta ? T::Shape{BK, BM} : T::Shape{BM, BK}, dt, "A_local");
      auto Bs = T::alloc_shared({BK, BN}, dt, "B_shared");
      auto Cf = T::alloc_fragment({BM, BN}, DataType::Float32, "C_local");
      T::clear(Cf);
      T::serial(0, T::ceildiv(K, BK), [&](T::Expr k) {
        if (ta) T::copy(A(k * BK, by * BM), Af);
        else T::copy(A(by * BM, k * BK), Af);
        T::copy(B(k * BK, bx * BN), Bs);
        T::gemm(Af, Bs, Cf, T::GemmOptions{.transpose_A = ta});
      });
      T::copy(Cf, C(by * BM, bx * BN));
    });
  });
}

}  // namespace tilescale::sr_kernels
