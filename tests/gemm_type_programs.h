// GEMM main loops (128x128x32 tiles, 3 stages, 128 threads) over accumulator types beyond float16
// x float16 -> float32. Shared by the codegen test (NVRTC) and the GPU test (against the CPU
// backend). The operand types' program is examples/typed_gemm.h.
#pragma once

#include "tilescale/tilescale.h"

namespace tilescale::test {

// float16 operands accumulated in a float16 fragment (mma.sync's f16 form): C = A B with A [M, K],
// B [K, N], C [M, N] float16. `accumulator`: the fragment's type; `policy`: how the warps split C (FullCol keeps a float32 gemm
// off wgmma, on mma.sync like the float16 one).
inline lang::PrimFunc half_accumulator_gemm(std::int64_t M = 256, std::int64_t N = 256, std::int64_t K = 256,
                                            DataType accumulator = DataType::Float16,
                                            lang::GemmWarpPolicy policy = lang::GemmWarpPolicy::Square) {
  namespace T = tilescale::lang;
  return T::prim_func("half_accumulator_gemm", [=] {
    auto A = T::Tensor("A", {M, K}, T::float16);
    auto B = T::Tensor("B", {K, N}, T::float16);
    auto C = T::Tensor("C", {M, N}, T::float16);
    T::Kernel(T::ceildiv(N, 128), T::ceildiv(M, 128), T::threads(128), [&](T::Expr bx, T::Expr by) {
      auto A_shared = T::alloc_shared({128, 32}, T::float16, "A_shared");
      auto B_shared = T::alloc_shared({32, 128}, T::float16, "B_shared");
      auto C_local = T::alloc_fragment({128, 128}, accumulator, "C_local");
      T::clear(C_local);
      T::Pipelined(T::ceildiv(K, 32), 3, [&](T::Expr k) {
        T::copy(A(by * 128, k * 32), A_shared);
        T::copy(B(k * 32, bx * 128), B_shared);
        T::gemm(A_shared, B_shared, C_local, T::GemmOptions{.policy = policy});
      });
      T::copy(C_local, C(by * 128, bx * 128));
    });
  });
}

}  // namespace tilescale::test
