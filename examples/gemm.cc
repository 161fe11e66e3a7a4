// gemm: C = A · B with A [M, K], B [K, N] and C [M, N] in float16, accumulated in float32.
// With fp8=1: A [M, K] and B given transposed, as [N, K], both float8_e4m3; C still float16
// (bfloat16 with bf16=1).
//
// The canonical TileLang GEMM: each block owns a 128×128 tile of C, held in a float32 fragment,
// and walks K in steps of 32, staging the A and B tiles through shared memory in a 3-stage
// software pipeline. The finished tile goes to C through a shared tile (stage_c=1, the default),
// which on Hopper the compiler writes with stmatrix and stores with one TMA store per 128-byte panel.
// Sizes that are not multiples of the tile need no special code: a tile copied
// from past a tensor's end reads zeros (which add nothing to the dot products) and the parts of a
// tile written past the end are dropped.
//
// Why B is [N, K] for fp8: the 8-bit matrix instructions (wgmma on Hopper, mma.sync m16n8k32 on
// sm_89) read both operands K-contiguous, and nothing transposes bytes on the way (ldmatrix and
// wgmma transpose 16-bit elements only), so the program keeps B^T in memory and multiplies with
// transpose_B: the "TN" layout that cuBLASLt also requires for fp8.
#include <algorithm>
#include <cmath>
#include <limits>

#include "examples_list.h"
#include "reference.h"

namespace tilescale::examples {
namespace {

namespace T = tilescale::lang;

// fp8 inputs are measured normwise, max |C - exact| / max |exact|: Hopper's fp8 tensor cores are
// reported to add into the float32 accumulator keeping only about 13 bits of mantissa, truncated
// (an "e8m13" accumulator), and the H100 agrees (bench/RESULTS.md, fp8: errors biased toward zero,
// growing with K), so each k step of 32 may drop up to 2^-13 of the running sum. Against
// max_relative_error's floor (1e-3 of the peak) an element that cancels to near zero would see
// that magnified up to 1000x, so the per-element metric would say more about the cancellation
// than about the kernel; normwise, the bound is plain: the output's rounding plus 2^-13 per k step
// of a running sum taken as at most twice the peak. A wrong tile or element is an error of the
// order of the values (10^-1 normwise or more); a lost k step of 32 costs about 1.3 / sqrt(K) with
// these uniform inputs (0.15 at the test size K = 72, 0.04 at K = 1024), 4x the bound or more.
double fp8_accumulation_tolerance(std::int64_t K) { return 2.0 * std::ceil(K / 32.0) * std::ldexp(1.0, -13); }

CheckResult compare_normwise(const Tensor& got, const std::vector<double>& expected, double tolerance) {
  double peak = 0, worst = 0;
  for (double e : expected) peak = std::max(peak, std::fabs(e));
  for (std::int64_t i = 0; i < got.numel(); ++i) {
    const double g = got.get_flat(i);
    worst = std::isfinite(g) ? std::max(worst, std::fabs(g - expected[i])) : std::numeric_limits<double>::infinity();
  }
  CheckResult r;
  r.max_relative_error = worst / std::max(peak, std::numeric_limits<double>::min());
  r.tolerance = tolerance;
  return r;
}

// The tile shape, pipeline depth, block size and input type are knobs in the sizes (BM, BN, BK,
// stages, threads, blocks_per_sm (0: the compiler's choice), raster (the block rasterization panel,
// 0: none), persistent (0/1: T::persistent), stage_c (0/1: C goes to global memory through a
// shared tile, which on Hopper is written by stmatrix and stored by TMA), bf16, fp8), so benchmarks
// and tuners can try other configurations of this program.
//
// The sm80 path (cp.async + mma.sync; on an H100 with TILESCALE_TMA=0) measured fastest at 8192^3
// with BM=256,BN=128,BK=64,threads=256,stages=2,raster=4 (8 warps of 64x64): 414-418 TFLOP/s fp16,
// 54-55% of cuBLAS in the same process (bf16 51-52%), where the defaults gave 333-341 TFLOP/s (46%).
// The defaults stay as they are: the other shapes of the sweep were not measured with that tile,
// which makes half as many blocks.
T::PrimFunc gemm_program(const Sizes& sizes) {
  const std::int64_t M = size_of(sizes, "M"), N = size_of(sizes, "N"), K = size_of(sizes, "K");
  const std::int64_t kBlockM = size_of(sizes, "BM"), kBlockN = size_of(sizes, "BN"), kBlockK = size_of(sizes, "BK");
  const int kThreads = static_cast<int>(size_of(sizes, "threads")), kStages = static_cast<int>(size_of(sizes, "stages"));
  const int kBlocksPerSm = static_cast<int>(size_of(sizes, "blocks_per_sm"));
  const int kRasterPanel = static_cast<int>(size_of(sizes, "raster"));
  const bool persistent = flag_of(sizes, "persistent");
  const bool stage_c = flag_of(sizes, "stage_c");
  const DataType out = flag_of(sizes, "bf16") ? DataType::BFloat16 : DataType::Float16;
  const bool fp8 = flag_of(sizes, "fp8");
  const DataType in = fp8 ? DataType::Float8E4M3 : out;
  return T::prim_func("gemm", [&] {
    auto A = T::Tensor("A", {M, K}, in);
    auto B = fp8 ? T::Tensor("B", {N, K}, in) : T::Tensor("B", {K, N}, in);
    auto C = T::Tensor("C", {M, N}, out);
    T::Kernel(T::ceildiv(N, kBlockN), T::ceildiv(M, kBlockM), T::threads(kThreads), [&](T::Expr bx, T::Expr by) {
      auto A_shared = T::alloc_shared({kBlockM, kBlockK}, in, "A_shared");
      auto B_shared = fp8 ? T::alloc_shared({kBlockN, kBlockK}, in, "B_shared") : T::alloc_shared({kBlockK, kBlockN}, in, "B_shared");
      auto C_local = T::alloc_fragment({kBlockM, kBlockN}, T::float32, "C_local");
      if (kRasterPanel > 0) T::use_swizzle(kRasterPanel);
      if (kBlocksPerSm > 0) T::min_blocks_per_sm(kBlocksPerSm);
      if (persistent) T::persistent();
      T::clear(C_local);
      T::Pipelined(T::ceildiv(K, kBlockK), kStages, [&](T::Expr k) {
        T::copy(A(by * kBlockM, k * kBlockK), A_shared);
        if (fp8) {
          T::copy(B(bx * kBlockN, k * kBlockK), B_shared);
          T::gemm(A_shared, B_shared, C_local, /*transpose_A=*/false, /*transpose_B=*/true);
        } else {
          T::copy(B(k * kBlockK, bx * kBlockN), B_shared);
          T::gemm(A_shared, B_shared, C_local);
        }
      });
      if (stage_c) {
        // Allocated after the loop, so that it may share memory with the pipeline's stages.
        auto C_shared = T::alloc_shared({kBlockM, kBlockN}, out, "C_shared");
        T::copy(C_local, C_shared);
        T::copy(C_shared, C(by * kBlockM, bx * kBlockN));
      } else {
        T::copy(C_local, C(by * kBlockM, bx * kBlockN));
      }
    });
  });
}

// Reference: the inputs as stored (float16, or float8_e4m3 with fp8=1) are exact in double, so the
// float64 product of the stored values is the exact answer and the errors to allow for are those of
// the output's rounding (kFloat16OutputTolerance; bfloat16 keeps 8 bits of mantissa where float16
// keeps 11: 8x the rounding step) and, for fp8, of the accumulation (normwise, see above).
CheckResult check_gemm(const Kernel& kernel, const Sizes& sizes, std::uint64_t seed) {
  const std::int64_t M = size_of(sizes, "M"), N = size_of(sizes, "N"), K = size_of(sizes, "K");
  const DataType out = flag_of(sizes, "bf16") ? DataType::BFloat16 : DataType::Float16;
  const bool fp8 = flag_of(sizes, "fp8");
  const DataType in = fp8 ? DataType::Float8E4M3 : out;
  Tensor A = random_input({M, K}, in, seed, 0);
  Tensor B = fp8 ? random_input({N, K}, in, seed, 1) : random_input({K, N}, in, seed, 1);
  Tensor C = poisoned_output({M, N}, out);
  run_kernel(kernel, {A, B, C});

  std::vector<double> b = values(B);
  if (fp8) {  // B^T [N, K] -> B [K, N]
    std::vector<double> t(b.size());
    for (std::int64_t n = 0; n < N; ++n)
      for (std::int64_t k = 0; k < K; ++k) t[k * N + n] = b[n * K + k];
    b.swap(t);
  }
  std::vector<double> c = matmul(values(A), b, M, N, K);
  const double rounding = out == DataType::BFloat16 ? 8 * kFloat16OutputTolerance : kFloat16OutputTolerance;
  return fp8 ? compare_normwise(C, c, rounding + fp8_accumulation_tolerance(K)) : compare(C, c, rounding);
}

}  // namespace

Example gemm_example() {
  return Example{
      .name = "gemm",
      .description = "C = A·B in float16 (bf16=1: bfloat16) with float32 accumulation; fp8=1: A and B^T (B given as [N, K]) in "
                     "float8_e4m3, error normwise; 128x128x32 tiles, 3-stage pipeline by default",
      .default_sizes = {{"M", 1024}, {"N", 1024}, {"K", 1024}, {"BM", 128}, {"BN", 128}, {"BK", 32}, {"stages", 3},
                        {"threads", 128}, {"blocks_per_sm", 0}, {"raster", 10}, {"persistent", 0}, {"stage_c", 1}, {"bf16", 0}, {"fp8", 0}},
      .test_sizes = {{"M", 200}, {"N", 136}, {"K", 72}, {"BM", 128}, {"BN", 128}, {"BK", 32}, {"stages", 3},
                     {"threads", 128}, {"blocks_per_sm", 0}, {"raster", 10}, {"persistent", 0}, {"stage_c", 1}, {"bf16", 0}, {"fp8", 0}},
      .build = gemm_program,
      .check = check_gemm,
  };
}

}  // namespace tilescale::examples
