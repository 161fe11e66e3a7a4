// elementwise_add: C = A + B with A, C [M, N] and B [N] broadcast over the rows, all float16.
//
// The simplest tile program: each block owns a BM×BN tile of C and a T::Parallel loop reads A and
// B and writes C straight in global memory, one element per iteration (the compiler spreads the
// iterations over the threads and vectorizes along the contiguous dimension). Unlike a tile copy,
// an element access in global memory is not clipped to the tensor, so a tile that runs past M or N
// needs the explicit guard.
#include "examples_list.h"
#include "reference.h"

namespace tilescale::examples {
namespace {

namespace T = tilescale::lang;

constexpr int kBlockM = 32, kBlockN = 128, kThreads = 128;

T::PrimFunc elementwise_add_program(const Sizes& sizes) {
  const std::int64_t M = size_of(sizes, "M"), N = size_of(sizes, "N");
  return T::prim_func("elementwise_add", [&] {
    auto A = T::Tensor("A", {M, N}, T::float16);
    auto B = T::Tensor("B", {N}, T::float16);
    auto C = T::Tensor("C", {M, N}, T::float16);
    T::Kernel(T::ceildiv(N, kBlockN), T::ceildiv(M, kBlockM), T::threads(kThreads), [&](T::Expr bx, T::Expr by) {
      T::Parallel(kBlockM, kBlockN, [&](T::Expr i, T::Expr j) {
        T::Expr row = by * kBlockM + i, col = bx * kBlockN + j;
        T::If(row < M && col < N, [&] { C(row, col) = A(row, col) + B(col); });
      });
    });
  });
}

// Reference: one float16 addition, correctly rounded whether the kernel adds in float16 or in
// float32 and converts (the exact sum of two float16 values in [-1, 1) fits in float32). The
// reference applies the same rounding, so kExactTolerance.
CheckResult check_elementwise_add(const Kernel& kernel, const Sizes& sizes, std::uint64_t seed) {
  const std::int64_t M = size_of(sizes, "M"), N = size_of(sizes, "N");
  Tensor A = random_input({M, N}, DataType::Float16, seed, 0);
  Tensor B = random_input({N}, DataType::Float16, seed, 1);
  Tensor C = poisoned_output({M, N}, DataType::Float16);
  run_kernel(kernel, {A, B, C});

  std::vector<double> a = values(A), b = values(B), c(M * N);
  for (std::int64_t i = 0; i < M; ++i)
    for (std::int64_t j = 0; j < N; ++j) c[i * N + j] = round_to(DataType::Float16, a[i * N + j] + b[j]);
  return compare(C, c, kExactTolerance);
}

}  // namespace

Example elementwise_add_example() {
  return Example{
      .name = "elementwise_add",
      .description = "C[M, N] = A[M, N] + B[N] (row broadcast) in float16; T::Parallel on global memory, guarded",
      .default_sizes = {{"M", 4096}, {"N", 4096}},
      .test_sizes = {{"M", 100}, {"N", 200}},
      .build = elementwise_add_program,
      .check = check_elementwise_add,
  };
}

}  // namespace tilescale::examples
