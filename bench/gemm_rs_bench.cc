// gemm_rs (the sum over ranks of A_r · B_r, reduce-scattered by rows, overlapped in one kernel)
// against cuBLAS's GEMM followed by ncclReduceScatter.
//
// Sizes are the whole problem: C [M, N] = A [M, K] · B [K, N] with K split over the P ranks (rank r
// holds A_r [M, K/P] and B_r [K/P, N]) and C's rows scattered (rank q keeps rows q·M/P.. in
// float32), as Triton-distributed states its GEMM-RS sizes. The peer reduces in float32 too.
#include <cstdio>
#include <cstring>

#include "dist_harness.h"
#include "distributed/distributed_example.h"
#include "distributed/support.h"
#include "nccl.h"
#include "runtime/cuda/driver.h"
#include "tilescale/errors.h"

namespace tilescale::bench {

namespace {

using tilescale::detail::cat;

const char* const kSizes = "M=8192,N=28672,K=8192;M=2048,N=2048,K=8192;M=1024,N=1024,K=8192;M=512,N=512,K=8192";

// Rows q·Mq.. of the sum over ranks of A_p · B_p, as a float32 host tensor: cuBLAS on this rank's
// device reads every rank's A and B from its heap, the host adds the partial products.
Tensor reference_rows(const dist::Rank& rank, const Tensor& A, const Tensor& B, std::int64_t Mq) {
  const std::int64_t Kr = A.shape(1), N = B.shape(1);
  const auto stream = rank.stream();
  const Tensor partial = Tensor::empty({Mq, N}, DataType::Float32, rank.device());
  Tensor sum = Tensor::zeros({Mq, N}, DataType::Float32);
  auto* total = static_cast<float*>(sum.data());
  for (int p = 0; p < rank.size(); ++p) {
    const Tensor A_p = rank.heap().peer(A, p);
    const Tensor rows = Tensor::wrap(static_cast<std::byte*>(A_p.data()) + rank.rank() * Mq * Kr * 2, {Mq, Kr}, A.dtype(), {}, rank.device());
    cublas_gemm(rows, rank.heap().peer(B, p), partial, stream);
    TS_CU(StreamSynchronize, static_cast<CUstream>(stream));
    const Tensor host = partial.to(Device::cpu());
    const auto* part = static_cast<const float*>(host.data());
    for (std::int64_t i = 0; i < Mq * N; ++i) total[i] += part[i];
  }
  return sum;
}

std::vector<Row> measure(const std::string& name, int P, const examples::Sizes& total, const Nccl& nccl) {
  const std::int64_t M = total.at("M"), N = total.at("N"), K = total.at("K");
  if (K % P != 0) throw RuntimeError(cat("cannot split K=", K, " over ", P, " ranks; use a multiple of ", P));
  const std::int64_t Kr = K / P, Mq = M / P;
  const examples::Sizes local{{"M", M}, {"N", N}, {"K", Kr}};
  const examples::DistributedExample* ex = examples::find_distributed_example("gemm_rs");
  if (const std::string why = ex->unsupported(local, P); !why.empty())
    throw RuntimeError(cat("cannot run gemm_rs at ", examples::format_sizes(local), " per rank because ", why));
  const Kernel kernel = compile(ex->build(local, P).at(0), Target::CUDA);
  const DataType f16 = DataType::Float16, f32 = DataType::Float32;
  const std::vector<std::int64_t> count_shape = param_shape(kernel, "count");  // a counter per tile of this rank's rows
  const std::size_t heap = heap_bytes_of({M, Kr}, f16) + heap_bytes_of({Kr, N}, f16) + 2 * heap_bytes_of({M, N}, f32) +
                           heap_bytes_of(count_shape, DataType::Int32) + heap_bytes_of({Mq, N}, f32);
  const dist::World world = bench_world(P, heap);
  const auto timings = time_on_ranks(world, [&](dist::Rank& rank) {
    const int r = rank.rank();
    const auto stream = static_cast<CUstream>(rank.stream());
    const Tensor A = rank.heap().empty({M, Kr}, f16), B = rank.heap().empty({Kr, N}, f16);
    A.copy_from(random_host({M, Kr}, f16, 4000 + r));
    B.copy_from(random_host({Kr, N}, f16, 5000 + r));
    const Tensor partial = rank.heap().empty({M, N}, f32), stage = rank.heap().empty({P, Mq, N}, f32);
    const Tensor count = rank.heap().zeros(count_shape, DataType::Int32);
    const Tensor out = rank.heap().empty({Mq, N}, f32);
    fill_bytes(out, 0xff, stream);  // NaN until written
    rank.barrier();  // every rank's inputs are filled
    const Tensor expected = reference_rows(rank, A, B, Mq);
    RankCase c{
        .reset = [count, stream] { fill_bytes(count, 0, stream); },
        .ours = [=] { kernel(A, B, partial, stage, count, out); },
        .check = [out, expected] { return max_relative_error(out.to(Device::cpu()), expected); },
        .tolerance = float32_gemm_tolerance(K),
    };
    if (nccl.available()) {
      const Tensor peer_C = Tensor::empty({M, N}, f32, rank.device()), peer_out = Tensor::empty({Mq, N}, f32, rank.device());
      c.peer = [&nccl, r, A, B, peer_C, peer_out, stream] {
        cublas_gemm(A, B, peer_C, stream);
        nccl.reduce_scatter_sum(r, peer_C, peer_out, stream);
      };
    }
    return std::vector<RankCase>{c};
  });
  return {timed_row(name, timings[0], 2.0 * M * N * K, false)};
}

}  // namespace

int gemm_rs_bench(const DistBenchOptions& o) {
  const int P = o.ranks > 0 ? o.ranks : default_ranks();
  const Nccl nccl(P);
  std::printf("\ngemm_rs, %d ranks: C[M,N] = sum over ranks of A_r[M,K/P] . B_r[K/P,N], rows scattered; float16 inputs "
              "(the example has no bfloat16 variant), float32 output; TFLOP/s of all ranks together\n", P);
  print_setup(P, nccl.available() ? "cuBLAS GEMM (float32 out) then ncclReduceScatter (float32), one after the other; " + nccl.description()
                                  : "none: " + nccl.why_not());
  const std::vector<Row> rows = gemm_size_sweep(o.size.empty() ? kSizes : o.size, [&](const std::string& name, const examples::Sizes& total) {
    return measure(name, P, total, nccl);
  });
  print_table(cat("gemm_rs vs cuBLAS + ncclReduceScatter, ", P, " ranks"), "cuBLAS+NCCL", rows);
  return exit_status(rows);
}

}  // namespace tilescale::bench
