// transpose: B = Aᵀ with A [M, N] and B [N, M] in float16.
//
// A tile of A is copied into shared memory with rows along its contiguous dimension; a T::Parallel
// loop then reads it column-wise into a fragment laid out as the transposed tile, and the fragment
// is copied out, again along B's contiguous dimension. Both global accesses are thus row-wise and
// coalesced; only the shared-memory read walks columns. The tile copies clip to the tensors, so
// sizes that are not multiples of the tile need no guard: the padding read as zeros lands in the
// part of the output tile whose writes are dropped.
#include "examples_list.h"
#include "reference.h"

namespace tilescale::examples {
namespace {

namespace T = tilescale::lang;

constexpr int kBlockM = 64, kBlockN = 64, kThreads = 128;

T::PrimFunc transpose_program(const Sizes& sizes) {
  const std::int64_t M = size_of(sizes, "M"), N = size_of(sizes, "N");
  return T::prim_func("transpose", [&] {
    auto A = T::Tensor("A", {M, N}, T::float16);
    auto B = T::Tensor("B", {N, M}, T::float16);
    T::Kernel(T::ceildiv(N, kBlockN), T::ceildiv(M, kBlockM), T::threads(kThreads), [&](T::Expr bx, T::Expr by) {
      auto A_shared = T::alloc_shared({kBlockM, kBlockN}, T::float16, "A_shared");
      auto B_local = T::alloc_fragment({kBlockN, kBlockM}, T::float16, "B_local");
      T::copy(A(by * kBlockM, bx * kBlockN), A_shared);
      T::Parallel(kBlockN, kBlockM, [&](T::Expr i, T::Expr j) { B_local(i, j) = A_shared(j, i); });
      T::copy(B_local, B(bx * kBlockN, by * kBlockM));
    });
  });
}

// Reference: a pure move; every element must come through bit for bit (tolerance 0).
CheckResult check_transpose(const Kernel& kernel, const Sizes& sizes, std::uint64_t seed) {
  const std::int64_t M = size_of(sizes, "M"), N = size_of(sizes, "N");
  Tensor A = random_input({M, N}, DataType::Float16, seed, 0);
  Tensor B = poisoned_output({N, M}, DataType::Float16);
  run_kernel(kernel, {A, B});

  std::vector<double> a = values(A), b(N * M);
  for (std::int64_t i = 0; i < M; ++i)
    for (std::int64_t j = 0; j < N; ++j) b[j * M + i] = a[i * N + j];
  return compare(B, b, 0.0);
}

}  // namespace

Example transpose_example() {
  return Example{
      .name = "transpose",
      .description = "B = A^T in float16 through a shared-memory tile, 64x64 tiles",
      .default_sizes = {{"M", 4096}, {"N", 2048}},
      .test_sizes = {{"M", 100}, {"N", 72}},
      .build = transpose_program,
      .check = check_transpose,
  };
}

}  // namespace tilescale::examples
