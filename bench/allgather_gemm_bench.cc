// allgather_gemm (C = allgather(A) · B, the GEMM of each chunk overlapping the gather) against
// ncclAllGather followed by cuBLAS's GEMM.
//
// Sizes are the whole problem: C [M, N] = A [M, K] · B [K, N] with A's rows and B's columns split
// over the P ranks (rank r holds A_r [M/P, K] and B_r [K, N/P], and computes C [M, N/P]), as
// Triton-distributed states its AG-GEMM sizes.
#include <cstdio>

#include "dist_harness.h"
#include "distributed/distributed_example.h"
#include "nccl.h"
#include "reference.h"
#include "runtime/cuda/driver.h"
#include "tilescale/errors.h"

namespace tilescale::bench {

namespace {

using tilescale::detail::cat;

// ours and cuBLAS each round a float32 sum to float16: they may differ by one float16 ulp (twice the
// reference tolerance's rounding bound).
constexpr double kTolerance = 2 * examples::kFloat16OutputTolerance;

const char* const kSizes = "M=8192,N=28672,K=8192;M=2048,N=2048,K=8192;M=1024,N=1024,K=8192;M=512,N=512,K=8192";

std::vector<Row> measure(const std::string& name, int P, const examples::Sizes& total, const Nccl& nccl) {
  const std::int64_t M = total.at("M"), N = total.at("N"), K = total.at("K");
  if (M % P != 0 || N % P != 0)
    throw RuntimeError(cat("cannot split M=", M, " rows and N=", N, " columns over ", P, " ranks; use multiples of ", P));
  const std::int64_t Mr = M / P, Nr = N / P;
  const examples::Sizes local{{"M", Mr}, {"N", Nr}, {"K", K}};
  const examples::DistributedExample* ex = examples::find_distributed_example("allgather_gemm");
  if (const std::string why = ex->unsupported(local, P); !why.empty())
    throw RuntimeError(cat("cannot run allgather_gemm at ", examples::format_sizes(local), " per rank because ", why));
  const Kernel kernel = compile(ex->build(local, P).at(0), Target::CUDA);
  const DataType f16 = DataType::Float16;
  const std::size_t heap = heap_bytes_of({Mr, K}, f16) + heap_bytes_of({K, Nr}, f16) + heap_bytes_of({M, K}, f16) +
                           heap_bytes_of({P}, DataType::Int32) + heap_bytes_of({M, Nr}, f16);
  const dist::World world = bench_world(P, heap);
  const auto timings = time_on_ranks(world, [&](dist::Rank& rank) {
    const int r = rank.rank();
    const auto stream = static_cast<CUstream>(rank.stream());
    const Tensor A = rank.heap().empty({Mr, K}, f16), B = rank.heap().empty({K, Nr}, f16);
    A.copy_from(random_host({Mr, K}, f16, 2000 + r));
    B.copy_from(random_host({K, Nr}, f16, 3000 + r));
    const Tensor gathered = rank.heap().empty({M, K}, f16);
    const Tensor signal = rank.heap().zeros({P}, DataType::Int32);
    const Tensor C = rank.heap().empty({M, Nr}, f16);
    fill_bytes(C, 0xff, stream);  // NaN until written
    // The reference: every rank's A copied here from its heap, then cuBLAS.
    rank.barrier();  // every rank's A is filled
    const Tensor all_A = Tensor::empty({M, K}, f16, rank.device()), C_ref = Tensor::empty({M, Nr}, f16, rank.device());
    for (int p = 0; p < P; ++p)
      TS_CU(MemcpyDtoD, reinterpret_cast<CUdeviceptr>(static_cast<std::byte*>(all_A.data()) + p * Mr * K * 2),
            reinterpret_cast<CUdeviceptr>(rank.heap().peer(A, p).data()), Mr * K * 2);
    TS_CU(StreamSynchronize, nullptr);
    cublas_gemm(all_A, B, C_ref, stream);
    RankCase c{
        .reset = [signal, stream] { fill_bytes(signal, 0, stream); },
        .ours = [=] { kernel(A, B, gathered, signal, C); },
        .check = [C, C_ref] { return max_relative_error(C.to(Device::cpu()), C_ref.to(Device::cpu())); },
        .tolerance = kTolerance,
    };
    if (nccl.available()) {
      const Tensor peer_gathered = Tensor::empty({M, K}, f16, rank.device()), peer_C = Tensor::empty({M, Nr}, f16, rank.device());
      c.peer = [&nccl, r, A, B, peer_gathered, peer_C, stream] {
        nccl.all_gather(r, A, peer_gathered, stream);
        cublas_gemm(peer_gathered, B, peer_C, stream);
      };
    }
    return std::vector<RankCase>{c};
  });
  return {timed_row(name, timings[0], 2.0 * M * N * K, false)};
}

}  // namespace

int allgather_gemm_bench(const DistBenchOptions& o) {
  const int P = o.ranks > 0 ? o.ranks : default_ranks();
  const Nccl nccl(P);
  std::printf("\nallgather_gemm, %d ranks: C[M,N] = allgather(A)[M,K] . B[K,N], A's rows and B's columns split over the "
              "ranks; float16 (the example has no bfloat16 variant); TFLOP/s of all ranks together\n", P);
  print_setup(P, nccl.available() ? "ncclAllGather then cuBLAS GEMM, one after the other; " + nccl.description()
                                  : "none: " + nccl.why_not());
  const std::vector<Row> rows = gemm_size_sweep(o.size.empty() ? kSizes : o.size, [&](const std::string& name, const examples::Sizes& total) {
    return measure(name, P, total, nccl);
  });
  print_table(cat("allgather_gemm vs ncclAllGather + cuBLAS, ", P, " ranks"), "NCCL+cuBLAS", rows);
  return exit_status(rows);
}

}  // namespace tilescale::bench
