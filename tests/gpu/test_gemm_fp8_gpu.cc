// fp8 GEMM on the GPU: the gemm example with fp8=1 (A [M, K] and B^T [N, K] in float8_e4m3,
// float32 accumulation, float16 or bfloat16 output) against the CPU backend on the same inputs and
// against the exact product in double. On Hopper the wgmma-shaped tiles run fp8 wgmma (k32) fed by
// TMA; the 4-warp default tile runs mma.sync m16n8k32. Skips, with the reason, without a GPU or on
// one older than sm_89 (no fp8 matrix instructions).
//
// Errors are normwise (max |C - reference| / max |reference|), as the example's check measures
// them: see fp8_accumulation_tolerance in examples/gemm.cc for why, and the bound used here.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "example.h"
#include "jit/nvrtc.h"
#include "runtime/cuda/driver.h"
#include "tilescale/tilescale.h"

namespace tilescale {
namespace {

#define SKIP_WITHOUT_FP8_GPU()                                                                                  \
  do {                                                                                                          \
    if (std::string why = cuda::cuda_unavailable_reason(); !why.empty()) GTEST_SKIP() << why;                   \
    if (std::string why = jit::nvrtc_unavailable_reason(); !why.empty()) GTEST_SKIP() << why;                   \
    const auto cc = cuda::compute_capability(0);                                                                \
    if (cc.first * 10 + cc.second < 89)                                                                         \
      GTEST_SKIP() << "fp8 matrix instructions need sm_89 or later; device 0 is sm_" << cc.first << cc.second; \
  } while (0)

// The bound of examples/gemm.cc: the output's rounding (kFloat16OutputTolerance, 8x for bfloat16)
// plus 2^-13 of twice the peak per k step of 32 (the fp8 accumulator's truncation).
double fp8_tolerance(std::int64_t K, bool bf16) {
  return (bf16 ? 8 : 1) * 2e-3 + 2.0 * std::ceil(K / 32.0) * std::ldexp(1.0, -13);
}

std::vector<double> as_doubles(const Tensor& t) {
  std::vector<double> v(static_cast<std::size_t>(t.numel()));
  for (std::int64_t i = 0; i < t.numel(); ++i) v[i] = t.get_flat(i);
  return v;
}

struct Errors {
  double normwise = 0;      // max |got - want| / max |want|
  double per_element = 0;   // tilescale::max_relative_error (floor 1e-3 of the peak)
  double mean_signed = 0;   // mean of (got - want) * sign(want) / max |want|: < 0 when results shrink
};

Errors errors(const Tensor& got, const std::vector<double>& want) {
  Errors e;
  double peak = 0, worst = 0, bias = 0;
  for (double w : want) peak = std::max(peak, std::fabs(w));
  Tensor ref = Tensor::empty(got.shape(), DataType::Float64);
  for (std::int64_t i = 0; i < got.numel(); ++i) {
    const double g = got.get_flat(i), w = want[i];
    worst = std::isfinite(g) ? std::max(worst, std::fabs(g - w)) : INFINITY;
    bias += (g - w) * (w < 0 ? -1 : 1);
    ref.set_flat(i, w);
  }
  e.normwise = worst / peak;
  e.per_element = max_relative_error(got, ref);
  e.mean_signed = bias / static_cast<double>(got.numel()) / peak;
  return e;
}

struct Case {
  const char* spec;
  const char* what;
  bool wgmma;            // on Hopper: fp8 wgmma (else mma.sync m16n8k32)
  bool cpu_backend;      // also run the CPU backend (small enough for its interpreter)
};

void run_case(const Case& c, bool hopper) {
  SCOPED_TRACE(testing::Message() << c.spec << " (" << c.what << ")");
  const auto* ex = examples::find_example("gemm");
  auto sizes = examples::parse_sizes(c.spec, ex->default_sizes);
  sizes["fp8"] = 1;
  const std::int64_t M = sizes.at("M"), N = sizes.at("N"), K = sizes.at("K");
  const bool bf16 = sizes.at("bf16") != 0;
  const DataType out = bf16 ? DataType::BFloat16 : DataType::Float16;
  const auto func = ex->build(sizes);
  const Kernel gpu = compile(func, Target::CUDA);
  if (hopper) {
    EXPECT_EQ(gpu.cuda_source().find("tl::gemm_ss_wgmma") != std::string::npos, c.wgmma);
    EXPECT_NE(gpu.cuda_source().find("fp8_e4m3_t"), std::string::npos);
  }
  Tensor A = Tensor::empty({M, K}, DataType::Float8E4M3), B = Tensor::empty({N, K}, DataType::Float8E4M3);
  A.fill_random(101), B.fill_random(102);
  const std::vector<double> a = as_doubles(A), b = as_doubles(B);
  std::vector<double> exact(static_cast<std::size_t>(M * N));
  for (std::int64_t i = 0; i < M; ++i)
    for (std::int64_t j = 0; j < N; ++j) {
      double s = 0;
      for (std::int64_t k = 0; k < K; ++k) s += a[i * K + k] * b[j * K + k];
      exact[i * N + j] = s;
    }
  const double tolerance = fp8_tolerance(K, bf16);
  for (int launch = 0; launch < 2; ++launch) {  // twice: barrier phases start over in every launch
    Tensor C = Tensor::empty({M, N}, out);
    C.fill(NAN);
    const Tensor dA = A.to(Device::cuda()), dB = B.to(Device::cuda()), dC = C.to(Device::cuda());
    gpu.call({dA, dB, dC});
    const Tensor got = dC.to(Device::cpu());
    const Errors e = errors(got, exact);
    std::printf("[fp8 gemm] %-70s vs exact: normwise %.2e (bound %.2e), per element %.2e, mean signed %+.2e\n", c.spec,
                e.normwise, tolerance, e.per_element, e.mean_signed);
    EXPECT_LE(e.normwise, tolerance) << "launch " << launch;
    if (c.cpu_backend && launch == 0) {
      Tensor Cc = Tensor::empty({M, N}, out);
      Cc.fill(NAN);
      compile(func, Target::CPU).call({A, B, Cc});
      const Errors cpu = errors(Cc, exact), vs_cpu = errors(got, as_doubles(Cc));
      std::printf("[fp8 gemm] %-70s vs CPU backend: normwise %.2e; CPU backend vs exact %.2e\n", c.spec, vs_cpu.normwise,
                  cpu.normwise);
      EXPECT_LE(vs_cpu.normwise, tolerance);
      EXPECT_LE(cpu.normwise, std::ldexp(1.0, bf16 ? -8 : -11));
    }
  }
}

TEST(GpuGemmFp8, MatchesCpuBackendAndExactProduct) {
  SKIP_WITHOUT_FP8_GPU();
  const bool hopper = cuda::compute_capability(0).first >= 9;
  for (const Case& c : {
           Case{"M=256,N=256,K=1024,BM=128,BN=256,BK=128,threads=256,stages=4", "128-byte rows, TMA", true, true},
           Case{"M=128,N=256,K=128,BM=128,BN=256,BK=128,threads=256,stages=4", "one iteration, fewer than the stages", true, true},
           Case{"M=200,N=328,K=200,BM=128,BN=256,BK=64,threads=256,stages=4", "tails everywhere, K rows not 16-byte: cp.async", true, true},
           Case{"M=264,N=136,K=576,BM=128,BN=128,BK=64,threads=256,stages=2,bf16=1", "64-byte rows, 2 stages, bf16 out", true, true},
           Case{"M=130,N=136,K=992,BM=64,BN=128,BK=32,threads=128,stages=3", "32-byte rows, one consumer warpgroup", true, true},
           Case{"M=512,N=512,K=512,BM=128,BN=256,BK=256,threads=256,stages=2", "256-byte rows: two panels", true, true},
           Case{"M=300,N=200,K=160", "default 4-warp tile: one warpgroup, two m64 wgmma tiles", true, true},
           Case{"M=300,N=200,K=160,threads=64", "2 warps, no warpgroup: mma.sync m16n8k32", false, true},
           Case{"M=4100,N=2048,K=128,BM=128,BN=256,BK=128,threads=256,stages=4,persistent=1", "persistent", true, false},
           Case{"M=1024,N=1024,K=1024,BM=128,BN=256,BK=128,threads=256,stages=4", "1024^3", true, false},
           Case{"M=256,N=256,K=8192,BM=128,BN=256,BK=128,threads=256,stages=4", "long K", true, false},
       })
    run_case(c, hopper);
}

}  // namespace
}  // namespace tilescale
