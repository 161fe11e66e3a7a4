// gemm: C = A · B with A [M, K], B [K, N] and C [M, N] in float16, accumulated in float32.
//
// The canonical TileLang GEMM: each block owns a 128×128 tile of C, held in a float32 fragment,
// and walks K in steps of 32, staging the A and B tiles through shared memory in a 3-stage
// software pipeline. Sizes that are not multiples of the tile need no special code: a tile copied
// from past a tensor's end reads zeros (which add nothing to the dot products) and the parts of a
// tile written past the end are dropped.
#include "examples_list.h"
#include "reference.h"

namespace tilescale::examples {
namespace {

namespace T = tilescale::lang;

// The tile shape, pipeline depth, block size and input type are knobs in the sizes (BM, BN, BK,
// stages, threads, blocks_per_sm (0: the compiler's choice), raster (the block rasterization panel,
// 0: none), persistent (0/1: T::persistent), bf16), so benchmarks and tuners can try other
// configurations of this program.
T::PrimFunc gemm_program(const Sizes& sizes) {
  const std::int64_t M = size_of(sizes, "M"), N = size_of(sizes, "N"), K = size_of(sizes, "K");
  const std::int64_t kBlockM = size_of(sizes, "BM"), kBlockN = size_of(sizes, "BN"), kBlockK = size_of(sizes, "BK");
  const int kThreads = static_cast<int>(size_of(sizes, "threads")), kStages = static_cast<int>(size_of(sizes, "stages"));
  const int kBlocksPerSm = static_cast<int>(size_of(sizes, "blocks_per_sm"));
  const int kRasterPanel = static_cast<int>(size_of(sizes, "raster"));
  const bool persistent = flag_of(sizes, "persistent");
  const DataType in = flag_of(sizes, "bf16") ? DataType::BFloat16 : DataType::Float16;
  return T::prim_func("gemm", [&] {
    auto A = T::Tensor("A", {M, K}, in);
    auto B = T::Tensor("B", {K, N}, in);
    auto C = T::Tensor("C", {M, N}, in);
    T::Kernel(T::ceildiv(N, kBlockN), T::ceildiv(M, kBlockM), T::threads(kThreads), [&](T::Expr bx, T::Expr by) {
      auto A_shared = T::alloc_shared({kBlockM, kBlockK}, in, "A_shared");
      auto B_shared = T::alloc_shared({kBlockK, kBlockN}, in, "B_shared");
      auto C_local = T::alloc_fragment({kBlockM, kBlockN}, T::float32, "C_local");
      if (kRasterPanel > 0) T::use_swizzle(kRasterPanel);
      if (kBlocksPerSm > 0) T::min_blocks_per_sm(kBlocksPerSm);
      if (persistent) T::persistent();
      T::clear(C_local);
      T::Pipelined(T::ceildiv(K, kBlockK), kStages, [&](T::Expr k) {
        T::copy(A(by * kBlockM, k * kBlockK), A_shared);
        T::copy(B(k * kBlockK, bx * kBlockN), B_shared);
        T::gemm(A_shared, B_shared, C_local);
      });
      T::copy(C_local, C(by * kBlockM, bx * kBlockN));
    });
  });
}

// Reference: the float16 inputs are exact in double, so the only rounding to allow for is that of
// the float16 output (kFloat16OutputTolerance).
CheckResult check_gemm(const Kernel& kernel, const Sizes& sizes, std::uint64_t seed) {
  const std::int64_t M = size_of(sizes, "M"), N = size_of(sizes, "N"), K = size_of(sizes, "K");
  const DataType in = flag_of(sizes, "bf16") ? DataType::BFloat16 : DataType::Float16;
  Tensor A = random_input({M, K}, in, seed, 0);
  Tensor B = random_input({K, N}, in, seed, 1);
  Tensor C = poisoned_output({M, N}, in);
  run_kernel(kernel, {A, B, C});

  std::vector<double> c = matmul(values(A), values(B), M, N, K);
  // bfloat16 keeps 8 bits of mantissa where float16 keeps 11: 8x the rounding step.
  return compare(C, c, in == DataType::BFloat16 ? 8 * kFloat16OutputTolerance : kFloat16OutputTolerance);
}

}  // namespace

Example gemm_example() {
  return Example{
      .name = "gemm",
      .description = "C = A·B in float16 (bf16=1: bfloat16) with float32 accumulation; 128x128x32 tiles, 3-stage pipeline by default",
      .default_sizes = {{"M", 1024}, {"N", 1024}, {"K", 1024}, {"BM", 128}, {"BN", 128}, {"BK", 32}, {"stages", 3},
                        {"threads", 128}, {"blocks_per_sm", 0}, {"raster", 10}, {"persistent", 0}, {"bf16", 0}},
      .test_sizes = {{"M", 200}, {"N", 136}, {"K", 72}, {"BM", 128}, {"BN", 128}, {"BK", 32}, {"stages", 3},
                     {"threads", 128}, {"blocks_per_sm", 0}, {"raster", 10}, {"persistent", 0}, {"bf16", 0}},
      .build = gemm_program,
      .check = check_gemm,
  };
}

}  // namespace tilescale::examples
