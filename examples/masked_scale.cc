// masked_scale: B = A * scale in the first valid_len columns of A [M, N], 0 in the others, float32.
//
// The example of scalar kernel parameters (T::ScalarParam): valid_len and scale are not sizes of the
// program but values passed at each call, TileLang's
//   def masked_scale(A: T.Tensor((M, N), "float32"), B: T.Tensor((M, N), "float32"),
//                    valid_len: T.int32, scale: T.float32)
// so one compiled kernel serves every valid length and factor. The check passes valid_len = N - N/3
// and scale = 1.5.
#include "examples_list.h"
#include "reference.h"

namespace tilescale::examples {
namespace {

namespace T = tilescale::lang;

constexpr int kBlockM = 32, kBlockN = 128, kThreads = 128;

T::PrimFunc masked_scale_program(const Sizes& sizes) {
  const std::int64_t M = size_of(sizes, "M"), N = size_of(sizes, "N");
  return T::prim_func("masked_scale", [&] {
    auto A = T::Tensor("A", {M, N}, T::float32);
    auto B = T::Tensor("B", {M, N}, T::float32);
    T::Expr valid_len = T::ScalarParam("valid_len", T::int32);
    T::Expr scale = T::ScalarParam("scale", T::float32);
    T::Kernel(T::ceildiv(N, kBlockN), T::ceildiv(M, kBlockM), T::threads(kThreads), [&](T::Expr bx, T::Expr by) {
      T::Parallel(kBlockM, kBlockN, [&](T::Expr i, T::Expr j) {
        T::Expr row = by * kBlockM + i, col = bx * kBlockN + j;
        T::If(row < M && col < N, [&] { B(row, col) = T::if_then_else(col < valid_len, A(row, col) * scale, 0.0f); });
      });
    });
  });
}

// One float32 multiplication, correctly rounded on either backend and in the reference: exact.
CheckResult check_masked_scale(const Kernel& kernel, const Sizes& sizes, std::uint64_t seed) {
  const std::int64_t M = size_of(sizes, "M"), N = size_of(sizes, "N");
  const std::int64_t valid_len = N - N / 3;
  const float scale = 1.5f;
  Tensor A = random_input({M, N}, DataType::Float32, seed, 0);
  Tensor B = poisoned_output({M, N}, DataType::Float32);
  run_kernel(kernel, {A, B, valid_len, scale});

  std::vector<double> a = values(A), b(M * N);
  for (std::int64_t i = 0; i < M; ++i)
    for (std::int64_t j = 0; j < N; ++j) b[i * N + j] = j < valid_len ? double(float(a[i * N + j]) * scale) : 0.0;
  return compare(B, b, kExactTolerance);
}

}  // namespace

Example masked_scale_example() {
  return Example{
      .name = "masked_scale",
      .description = "B[M, N] = A * scale in the first valid_len columns, 0 beyond, float32; scalar parameters",
      .default_sizes = {{"M", 4096}, {"N", 4096}},
      .test_sizes = {{"M", 100}, {"N", 200}},
      .build = masked_scale_program,
      .check = check_masked_scale,
  };
}

}  // namespace tilescale::examples
