// GEMM against cuBLAS (cublasGemmEx, float32 accumulation, the default tensor-op algorithm).
#include <cublas_v2.h>

#include <cmath>
#include <limits>
#include <map>
#include <cstdio>
#include <tuple>

#include "bench.h"
#include "tilescale/errors.h"

namespace tilescale::bench {

namespace {

void check_cublas(cublasStatus_t s, const char* what) {
  if (s != CUBLAS_STATUS_SUCCESS) throw RuntimeError(detail::cat("cuBLAS call ", what, " failed with status ", int(s)));
}

}  // namespace

// Row-major C[M,N] = A · B is column-major Cᵀ = Bᵀ · Aᵀ. A row-major [R][C] array is the
// column-major C x R matrix of its transpose: B stored [K][N] is Bᵀ as it is (N), stored [N][K] it is
// B (T); A stored [M][K] is Aᵀ (N), stored [K][M] it is A (T).
void cublas_gemm(const Tensor& A, const Tensor& B, const Tensor& C, void* stream, bool transpose_a, bool transpose_b) {
  // A handle per thread and device (a handle must not serve two threads at once, nor two streams
  // at once: its workspace would be shared), destroyed when the thread ends.
  struct Handles {
    std::map<int, cublasHandle_t> by_device;
    ~Handles() {
      for (auto& [device, h] : by_device) cublasDestroy(h);
    }
  };
  thread_local Handles handles;
  cublasHandle_t& h = handles.by_device[C.device().index];
  if (!h) check_cublas(cublasCreate(&h), "cublasCreate");
  check_cublas(cublasSetStream(h, static_cast<cudaStream_t>(stream)), "cublasSetStream");
  const std::int64_t dims[3] = {C.shape(0), C.shape(1), transpose_a ? A.shape(0) : A.shape(1)};
  for (std::int64_t d : dims)
    if (d > std::numeric_limits<int>::max())
      throw RuntimeError(detail::cat("cuBLAS takes 32-bit sizes, and this GEMM has a dimension of ", d, "; bench smaller shapes"));
  const int M = static_cast<int>(dims[0]), N = static_cast<int>(dims[1]), K = static_cast<int>(dims[2]);
  const cublasOperation_t op_b = transpose_b ? CUBLAS_OP_T : CUBLAS_OP_N, op_a = transpose_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  const int ld_b = transpose_b ? K : N, ld_a = transpose_a ? M : K;
  if (A.dtype() == DataType::Int8) {
    const std::int32_t one = 1, zero = 0;
    check_cublas(cublasGemmEx(h, op_b, op_a, N, M, K, &one, B.data(), CUDA_R_8I, ld_b, A.data(), CUDA_R_8I, ld_a, &zero, C.data(),
                              CUDA_R_32I, N, CUBLAS_COMPUTE_32I, CUBLAS_GEMM_DEFAULT),
                 "cublasGemmEx (int8)");
    return;
  }
  const cudaDataType t = A.dtype() == DataType::Float32    ? CUDA_R_32F
                         : A.dtype() == DataType::BFloat16 ? CUDA_R_16BF
                                                           : CUDA_R_16F;
  const cudaDataType tc = C.dtype() == DataType::Float32 ? CUDA_R_32F : t;
  const cublasComputeType_t compute = A.dtype() == DataType::Float32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
  const float one = 1, zero = 0;
  check_cublas(cublasGemmEx(h, op_b, op_a, N, M, K, &one, B.data(), t, ld_b, A.data(), t, ld_a, &zero, C.data(), tc, N, compute,
                            CUBLAS_GEMM_DEFAULT),
               "cublasGemmEx");
}

Row gemm_case(const examples::Sizes& sizes) {
  const examples::Example& ex = *examples::find_example("gemm");
  const Shape s{sizes.at("M"), sizes.at("N"), sizes.at("K")};
  const bool bf16 = sizes.at("bf16") != 0;
  const DataType t = bf16 ? DataType::BFloat16 : DataType::Float16;
  const Kernel kernel = compile(ex.build(sizes), Target::CUDA);
  Tensor hA = Tensor::empty({s.M, s.K}, t), hB = Tensor::empty({s.K, s.N}, t);
  hA.fill_random(1), hB.fill_random(2);
  const Tensor A = hA.to(Device::cuda()), B = hB.to(Device::cuda());
  const Tensor C = Tensor::zeros({s.M, s.N}, t, Device::cuda()), R = Tensor::zeros({s.M, s.N}, t, Device::cuda());
  kernel.call({A, B, C});
  cublas_gemm(A, B, R);
  Row r;
  r.max_rel_error = max_relative_error(C.to(Device::cpu()), R.to(Device::cpu()));
  // Both against float64 on sampled elements, so agreement with cuBLAS is not taken on trust.
  const Tensor hC = C.to(Device::cpu()), hR = R.to(Device::cpu());
  double ours_err = 0, peer_err = 0;
  for (int sample = 0; sample < 64; ++sample) {
    const std::int64_t i = (sample * 7919) % s.M, j = (sample * 104729) % s.N;
    double want = 0;
    for (std::int64_t k = 0; k < s.K; ++k) want += hA.get({i, k}) * hB.get({k, j});
    const double scale = std::max(std::fabs(want), 1.0);
    ours_err = std::max(ours_err, std::fabs(hC.get({i, j}) - want) / scale);
    peer_err = std::max(peer_err, std::fabs(hR.get({i, j}) - want) / scale);
  }
  std::fprintf(stderr, "  %s: sampled error vs float64: tilescale %.2e, cuBLAS %.2e; max relative difference %.2e\n",
               bf16 ? "bf16" : "fp16", ours_err, peer_err, r.max_rel_error);
  r.case_name = detail::cat(bf16 ? "bf16 " : "fp16 ", s.M, "x", s.N, "x", s.K);
  std::tie(r.ours_ms, r.peer_ms) = time_cuda_pair([&](void* stream) { kernel.call({A, B, C}, stream); },
                                                  [&](void*) { cublas_gemm(A, B, R); });
  r.work = 2.0 * s.M * s.N * s.K;
  std::fprintf(stderr, "  measured %s\n", r.case_name.c_str());
  return r;
}

std::vector<Shape> gemm_shapes(bool quick) {
  if (quick) return {{8192, 8192, 8192}};
  return {{1024, 1024, 1024}, {2048, 2048, 2048}, {4096, 4096, 4096}, {8192, 8192, 8192},
          {16384, 1024, 1024}, {1024, 16384, 16384}, {4096, 4096, 16384}, {8192, 8192, 1024}};
}

std::vector<Row> gemm_sweep(const std::string& knobs, bool quick) {
  const examples::Example& ex = *examples::find_example("gemm");
  std::vector<Row> rows;
  for (int bf16 = 0; bf16 < 2; ++bf16)
    for (const auto& s : gemm_shapes(quick)) {
      auto sizes = examples::parse_sizes(knobs, ex.default_sizes);
      if (sizes.at("fp8"))
        throw RuntimeError("bench gemm times float16 and bfloat16 inputs; time fp8=1 with `tilescale bench gemm_fp8`");
      sizes["M"] = s.M, sizes["N"] = s.N, sizes["K"] = s.K, sizes["bf16"] = bf16;
      rows.push_back(gemm_case(sizes));
    }
  return rows;
}

}  // namespace tilescale::bench
