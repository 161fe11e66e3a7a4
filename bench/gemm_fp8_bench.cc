// fp8 e4m3 GEMM against cuBLASLt (cublasLtMatmul with e4m3 A and B, float32 compute, float16 or
// bfloat16 C/D, unit scales).
//
// Layout. The gemm example with fp8=1 computes row-major C [M, N] = A [M, K] · B, B given as B^T
// [N, K] row-major: both operands K-contiguous, the only layout fp8 matrix instructions read. In
// cuBLASLt's column-major terms that is C^T [N, M] = (B^T stored as a K x N matrix)^T · (A stored
// as a K x M matrix): transa = T, transb = N, the "TN" form cuBLASLt requires for fp8, no copies.
//
// cuBLASLt runs fp8 two ways: by default it promotes partial sums to full float32 every so often
// (more accurate, slower); CUBLASLT_MATMUL_DESC_FAST_ACCUM accumulates in the tensor core's own
// accumulator throughout, as our kernel does. Each shape gets a row against each.
#include <cublasLt.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>

#include "bench.h"
#include "runtime/cuda/driver.h"
#include "tilescale/errors.h"

namespace tilescale::bench {

namespace {

void check_lt(cublasStatus_t s, const char* what) {
  if (s != CUBLAS_STATUS_SUCCESS) throw RuntimeError(detail::cat("cuBLASLt call ", what, " failed with status ", int(s)));
}

cublasLtHandle_t lt_handle() {
  static const cublasLtHandle_t h = [] {
    cublasLtHandle_t handle;
    check_lt(cublasLtCreate(&handle), "cublasLtCreate");
    return handle;  // kept for the process
  }();
  return h;
}

// One planned cuBLASLt fp8 matmul: C = A · (B^T)^T for row-major e4m3 A [M, K], Bt [N, K] and
// float16/bfloat16 C [M, N] on the GPU. RuntimeError (with cuBLASLt's status) when cuBLASLt offers
// no fp8 algorithm here.
class LtFp8Gemm {
 public:
  LtFp8Gemm(const Tensor& A, const Tensor& Bt, const Tensor& C, bool fast_accum)
      : a_(A.data()), bt_(Bt.data()), c_(C.data()), workspace_(Tensor::empty({kWorkspace}, DataType::UInt8, Device::cuda())) {
    const std::uint64_t M = A.shape(0), K = A.shape(1), N = Bt.shape(0);
    const cudaDataType out = C.dtype() == DataType::BFloat16 ? CUDA_R_16BF : CUDA_R_16F;
    check_lt(cublasLtMatmulDescCreate(&op_, CUBLAS_COMPUTE_32F, CUDA_R_32F), "cublasLtMatmulDescCreate");
    const cublasOperation_t transa = CUBLAS_OP_T, transb = CUBLAS_OP_N;
    check_lt(cublasLtMatmulDescSetAttribute(op_, CUBLASLT_MATMUL_DESC_TRANSA, &transa, sizeof(transa)), "set TRANSA");
    check_lt(cublasLtMatmulDescSetAttribute(op_, CUBLASLT_MATMUL_DESC_TRANSB, &transb, sizeof(transb)), "set TRANSB");
    const std::int8_t fast = fast_accum ? 1 : 0;
    check_lt(cublasLtMatmulDescSetAttribute(op_, CUBLASLT_MATMUL_DESC_FAST_ACCUM, &fast, sizeof(fast)), "set FAST_ACCUM");
    // Scale pointers stay unset: every scale is 1.
    check_lt(cublasLtMatrixLayoutCreate(&la_, CUDA_R_8F_E4M3, K, N, K), "layout of B^T");
    check_lt(cublasLtMatrixLayoutCreate(&lb_, CUDA_R_8F_E4M3, K, M, K), "layout of A");
    check_lt(cublasLtMatrixLayoutCreate(&lc_, out, N, M, N), "layout of C");
    cublasLtMatmulPreference_t pref;
    check_lt(cublasLtMatmulPreferenceCreate(&pref), "cublasLtMatmulPreferenceCreate");
    const std::size_t ws = kWorkspace;
    check_lt(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof(ws)), "set workspace");
    cublasLtMatmulHeuristicResult_t result{};
    int found = 0;
    const cublasStatus_t s = cublasLtMatmulAlgoGetHeuristic(lt_handle(), op_, la_, lb_, lc_, lc_, pref, 1, &result, &found);
    cublasLtMatmulPreferenceDestroy(pref);
    if (s != CUBLAS_STATUS_SUCCESS || found == 0)
      throw RuntimeError(detail::cat("cuBLASLt has no e4m3 TN algorithm for ", M, "x", N, "x", K, " here (heuristic status ",
                                     int(s), ", ", found, " results)"));
    algo_ = result.algo;
  }
  ~LtFp8Gemm() {
    cublasLtMatrixLayoutDestroy(lc_);
    cublasLtMatrixLayoutDestroy(lb_);
    cublasLtMatrixLayoutDestroy(la_);
    cublasLtMatmulDescDestroy(op_);
  }
  LtFp8Gemm(const LtFp8Gemm&) = delete;
  LtFp8Gemm& operator=(const LtFp8Gemm&) = delete;

  void run(void* stream) const {
    const float one = 1, zero = 0;
    check_lt(cublasLtMatmul(lt_handle(), op_, &one, bt_, la_, a_, lb_, &zero, c_, lc_, c_, lc_, &algo_, workspace_.data(),
                            kWorkspace, static_cast<cudaStream_t>(stream)),
             "cublasLtMatmul");
  }

 private:
  static constexpr std::int64_t kWorkspace = 32 << 20;  // what cuBLASLt suggests for Hopper
  const void *a_, *bt_;
  void* c_;
  Tensor workspace_;
  cublasLtMatmulDesc_t op_ = nullptr;
  cublasLtMatrixLayout_t la_ = nullptr, lb_ = nullptr, lc_ = nullptr;
  cublasLtMatmulAlgo_t algo_{};
};

// The example's knobs for fp8 unless --knobs says otherwise: 128 x 256 tiles over two consumer
// warpgroups, K steps of 128 bytes (one 128-byte swizzled row, as BK=64 is for 16-bit types), 4 stages.
constexpr const char* kGemmFp8Knobs = "BM=128,BN=256,BK=128,threads=256,stages=4";

}  // namespace

std::vector<Row> gemm_fp8_rows(const examples::Sizes& sizes) {
  const examples::Example& ex = *examples::find_example("gemm");
  const std::int64_t M = sizes.at("M"), N = sizes.at("N"), K = sizes.at("K");
  const bool bf16 = sizes.at("bf16") != 0;
  const DataType out = bf16 ? DataType::BFloat16 : DataType::Float16;
  const Kernel kernel = compile(ex.build(sizes), Target::CUDA);
  Tensor hA = Tensor::empty({M, K}, DataType::Float8E4M3), hB = Tensor::empty({N, K}, DataType::Float8E4M3);
  hA.fill_random(1), hB.fill_random(2);
  const Tensor A = hA.to(Device::cuda()), Bt = hB.to(Device::cuda());
  const Tensor C = Tensor::zeros({M, N}, out, Device::cuda()), R = Tensor::zeros({M, N}, out, Device::cuda());
  kernel.call({A, Bt, C});
  const Tensor hC = C.to(Device::cpu());
  // Our result against float64 on sampled elements (normwise: against the largest sampled value).
  auto sampled_error = [&](const Tensor& got) {
    double worst = 0, peak = 0;
    for (int sample = 0; sample < 64; ++sample) {
      const std::int64_t i = (sample * 7919) % M, j = (sample * 104729) % N;
      double want = 0;
      for (std::int64_t k = 0; k < K; ++k) want += hA.get({i, k}) * hB.get({j, k});
      peak = std::max(peak, std::fabs(want));
      worst = std::max(worst, std::fabs(got.get({i, j}) - want));
    }
    return worst / peak;
  };
  const double ours_err = sampled_error(hC);
  const std::string name = detail::cat("e4m3->", bf16 ? "bf16 " : "fp16 ", M, "x", N, "x", K);
  std::vector<Row> rows;
  for (bool fast : {false, true}) {
    Row r;
    r.case_name = detail::cat(name, fast ? " fastacc" : " default");
    r.work = 2.0 * M * N * K;
    std::unique_ptr<LtFp8Gemm> lt;
    try {
      lt = std::make_unique<LtFp8Gemm>(A, Bt, R, fast);
      lt->run(nullptr);
      TS_CU(CtxSynchronize);
    } catch (const RuntimeError& e) {
      std::fprintf(stderr, "  cuBLASLt fp8 (%s accumulation) is not available: %s; reporting tilescale alone\n",
                   fast ? "fast" : "default", e.what());
      lt.reset();
    }
    if (lt) {
      const Tensor hR = R.to(Device::cpu());
      r.max_rel_error = normwise_difference(hC, hR);
      std::fprintf(stderr, "  %s: sampled normwise error vs float64: tilescale %.2e, cuBLASLt %.2e; whole-matrix normwise difference %.2e\n",
                   r.case_name.c_str(), ours_err, sampled_error(hR), r.max_rel_error);
      std::tie(r.ours_ms, r.peer_ms) =
          time_cuda_pair([&](void* stream) { kernel.call({A, Bt, C}, stream); }, [&](void* stream) { lt->run(stream); });
    } else {
      std::fprintf(stderr, "  %s: sampled normwise error vs float64: tilescale %.2e\n", r.case_name.c_str(), ours_err);
      r.ours_ms = time_cuda([&](void* stream) { kernel.call({A, Bt, C}, stream); });
      r.peer_ms = r.max_rel_error = std::numeric_limits<double>::quiet_NaN();
    }
    std::fprintf(stderr, "  measured %s\n", r.case_name.c_str());
    rows.push_back(r);
  }
  return rows;
}

void gemm_fp8_bench(const std::string& knobs, bool quick) {
  const examples::Example& ex = *examples::find_example("gemm");
  std::vector<Shape> shapes = {{4096, 4096, 4096}, {8192, 8192, 8192}};
  if (quick) shapes = {{8192, 8192, 8192}};
  const std::string spec = knobs.empty() ? std::string(kGemmFp8Knobs) : knobs;
  std::vector<Row> rows;
  for (const auto& s : shapes) {
    auto sizes = examples::parse_sizes(spec, ex.default_sizes);
    sizes["M"] = s.M, sizes["N"] = s.N, sizes["K"] = s.K, sizes["fp8"] = 1;
    for (auto& r : gemm_fp8_rows(sizes)) rows.push_back(r);
  }
  print_table(detail::cat("fp8 e4m3 GEMM (tilescale gemm example, fp8=1,", spec,
                          ") vs cuBLASLt fp8 (TN, f32 compute; default / fast accumulation); rel.err = normwise max|ours - cuBLASLt| / max|cuBLASLt|"),
              "cuBLASLt", rows);
}

}  // namespace tilescale::bench
