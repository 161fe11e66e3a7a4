// gemm_relu: C = max(A · B, 0), the GEMM of gemm.cc with an element-wise epilogue.
//
// The epilogue runs on the float32 accumulator while it is still in registers: a T::Parallel loop
// over the C fragment follows the fragment's layout, so every thread rewrites the elements it
// already holds, and only then is the tile copied out (and rounded to float16).
#include "examples_list.h"
#include "reference.h"

namespace tilescale::examples {
namespace {

namespace T = tilescale::lang;

constexpr int kBlockM = 128, kBlockN = 128, kBlockK = 32;
constexpr int kThreads = 128, kStages = 3;

T::PrimFunc gemm_relu_program(const Sizes& sizes) {
  const std::int64_t M = size_of(sizes, "M"), N = size_of(sizes, "N"), K = size_of(sizes, "K");
  return T::prim_func("gemm_relu", [&] {
    auto A = T::Tensor("A", {M, K}, T::float16);
    auto B = T::Tensor("B", {K, N}, T::float16);
    auto C = T::Tensor("C", {M, N}, T::float16);
    T::Kernel(T::ceildiv(N, kBlockN), T::ceildiv(M, kBlockM), T::threads(kThreads), [&](T::Expr bx, T::Expr by) {
      auto A_shared = T::alloc_shared({kBlockM, kBlockK}, T::float16, "A_shared");
      auto B_shared = T::alloc_shared({kBlockK, kBlockN}, T::float16, "B_shared");
      auto C_local = T::alloc_fragment({kBlockM, kBlockN}, T::float32, "C_local");
      T::use_swizzle(10);
      T::clear(C_local);
      T::Pipelined(T::ceildiv(K, kBlockK), kStages, [&](T::Expr k) {
        T::copy(A(by * kBlockM, k * kBlockK), A_shared);
        T::copy(B(k * kBlockK, bx * kBlockN), B_shared);
        T::gemm(A_shared, B_shared, C_local);
      });
      T::Parallel(kBlockM, kBlockN, [&](T::Expr i, T::Expr j) {
        C_local(i, j) = T::max(C_local(i, j), 0);
      });
      T::copy(C_local, C(by * kBlockM, bx * kBlockN));
    });
  });
}

// Reference: as for gemm; the clamped elements are exact zeros on both sides.
CheckResult check_gemm_relu(const Kernel& kernel, const Sizes& sizes, std::uint64_t seed) {
  const std::int64_t M = size_of(sizes, "M"), N = size_of(sizes, "N"), K = size_of(sizes, "K");
  Tensor A = random_input({M, K}, DataType::Float16, seed, 0);
  Tensor B = random_input({K, N}, DataType::Float16, seed, 1);
  Tensor C = poisoned_output({M, N}, DataType::Float16);
  run_kernel(kernel, {A, B, C});

  std::vector<double> c = matmul(values(A), values(B), M, N, K);
  for (double& v : c) v = v > 0 ? v : 0.0;
  return compare(C, c, kFloat16OutputTolerance);
}

}  // namespace

Example gemm_relu_example() {
  return Example{
      .name = "gemm_relu",
      .description = "C = relu(A·B) in float16; the GEMM of `gemm` with a T::Parallel epilogue on the accumulator",
      .default_sizes = {{"M", 1024}, {"N", 1024}, {"K", 1024}},
      .test_sizes = {{"M", 200}, {"N", 136}, {"K", 72}},
      .build = gemm_relu_program,
      .check = check_gemm_relu,
  };
}

}  // namespace tilescale::examples
