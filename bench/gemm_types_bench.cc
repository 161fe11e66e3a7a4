// float32 (tf32) and int8 GEMM with each operand stored K-major or MN-major, against cuBLAS on the
// same storage (bench.h: gemm_types_bench). Ours is examples/typed_gemm.h: 128x128 tiles, 3 stages,
// 128 threads. With both operands K-major (A as [M, K], B as [N, K]) it runs on wgmma on Hopper
// (mma.sync fed by ldmatrix elsewhere); with an MN-major one on mma.sync (m16n8k8 tf32, m16n8k32
// s8), that operand gathered element by element, so the rows show what storing an operand MN-major
// costs.
#include <cstdio>
#include <tuple>

#include "bench.h"
#include "typed_gemm.h"

namespace tilescale::bench {

namespace {

Row typed_gemm_row(DataType in, bool ta, bool tb, const Shape& s) {
  const DataType acc = in == DataType::Int8 ? DataType::Int32 : DataType::Float32;
  const Kernel kernel = compile(examples::typed_gemm(in, acc, ta, tb, s.M, s.N, s.K), Target::CUDA);
  Tensor hA = Tensor::empty(ta ? std::vector<std::int64_t>{s.K, s.M} : std::vector<std::int64_t>{s.M, s.K}, in);
  Tensor hB = Tensor::empty(tb ? std::vector<std::int64_t>{s.N, s.K} : std::vector<std::int64_t>{s.K, s.N}, in);
  if (in == DataType::Int8) hA.fill_random(1, -100, 100), hB.fill_random(2, -100, 100);
  else hA.fill_random(1), hB.fill_random(2);
  const Tensor A = hA.to(Device::cuda()), B = hB.to(Device::cuda());
  const Tensor C = Tensor::zeros({s.M, s.N}, acc, Device::cuda()), R = Tensor::zeros({s.M, s.N}, acc, Device::cuda());
  kernel.call({A, B, C});
  cublas_gemm(A, B, R, nullptr, ta, tb);
  Row r;
  r.case_name = detail::cat(in == DataType::Int8 ? "int8 " : "tf32 ", ta ? "A[K,M] " : "A[M,K] ", tb ? "B[N,K] " : "B[K,N] ", s.M,
                            "x", s.N, "x", s.K);
  r.max_rel_error = normwise_difference(C.to(Device::cpu()), R.to(Device::cpu()));
  std::tie(r.ours_ms, r.peer_ms) = time_cuda_pair([&](void* stream) { kernel.call({A, B, C}, stream); },
                                                  [&](void* stream) { cublas_gemm(A, B, R, stream, ta, tb); });
  r.work = 2.0 * s.M * s.N * s.K;
  std::fprintf(stderr, "  measured %s\n", r.case_name.c_str());
  return r;
}

}  // namespace

void gemm_types_bench(bool quick) {
  std::vector<Shape> shapes = {{4096, 4096, 4096}, {8192, 8192, 8192}};
  if (quick) shapes = {{4096, 4096, 4096}};
  std::vector<Row> rows;
  for (DataType in : {DataType::Float32, DataType::Int8})
    for (const auto& s : shapes)
      for (auto [ta, tb] : {std::pair{false, true}, {false, false}, {true, true}, {true, false}}) rows.push_back(typed_gemm_row(in, ta, tb, s));
  print_table("tf32 and int8 GEMM (examples/typed_gemm.h; both K-major: wgmma on Hopper; an MN-major operand: mma.sync, gathered) vs cuBLAS on the "
              "same storage (tf32: CUBLAS_COMPUTE_32F_FAST_TF32; int8: int32 C); rel.err = normwise max|ours - cuBLAS| / max|cuBLAS|",
              "cuBLAS", rows);
}

}  // namespace tilescale::bench
