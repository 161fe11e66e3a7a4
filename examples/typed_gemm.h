// A GEMM program over the operand types and storage orders beyond the gemm example's: shared by
// the tests (tests/codegen/test_gemm_types_codegen.cc, tests/gpu/test_tile_ops_gpu.cc) and the
// benchmark (`tilescale bench gemm_types`). Not a registered example: it has no knobs of its own.
#pragma once

#include <cstdint>
#include <vector>

#include "tilescale/tilescale.h"

namespace tilescale::examples {

// C = A B over 128x128 tiles (K tiles of 128 bytes for float32, 64 for 8-bit types), 3 stages, 128
// threads, with `in` operands stored as the transpose flags say -- A [M, K] or [K, M] (transpose_A),
// B [K, N] or [N, K] (transpose_B) -- and an `accumulator` C [M, N]. float32 operands run as tf32,
// int8 accumulates in int32; 8-bit and float32 operands stored MN-major are gathered element by
// element (device/tilescale/gemm_sm80.h).
inline lang::PrimFunc typed_gemm(DataType in, DataType accumulator, bool transpose_a, bool transpose_b, std::int64_t M = 256,
                                 std::int64_t N = 256, std::int64_t K = 256) {
  namespace T = tilescale::lang;
  const std::int64_t bk = in == DataType::Float32 ? 32 : 64;
  auto shape = [](bool transposed, std::int64_t rows, std::int64_t cols) {
    return transposed ? std::vector<T::Expr>{cols, rows} : std::vector<T::Expr>{rows, cols};
  };
  return T::prim_func("typed_gemm", [=] {
    auto A = T::Tensor("A", shape(transpose_a, M, K), in);
    auto B = T::Tensor("B", shape(transpose_b, K, N), in);
    auto C = T::Tensor("C", {M, N}, accumulator);
    T::Kernel(T::ceildiv(N, 128), T::ceildiv(M, 128), T::threads(128), [&](T::Expr bx, T::Expr by) {
      auto A_shared = T::alloc_shared(shape(transpose_a, 128, bk), in, "A_shared");
      auto B_shared = T::alloc_shared(shape(transpose_b, bk, 128), in, "B_shared");
      auto C_local = T::alloc_fragment({128, 128}, accumulator, "C_local");
      T::clear(C_local);
      T::Pipelined(T::ceildiv(K, bk), 3, [&](T::Expr k) {
        T::copy(transpose_a ? A(k * bk, by * 128) : A(by * 128, k * bk), A_shared);
        T::copy(transpose_b ? B(bx * 128, k * bk) : B(k * bk, bx * 128), B_shared);
        T::gemm(A_shared, B_shared, C_local, T::GemmOptions{.transpose_A = transpose_a, .transpose_B = transpose_b});
      });
      T::copy(C_local, C(by * 128, bx * 128));
    });
  });
}

}  // namespace tilescale::examples
