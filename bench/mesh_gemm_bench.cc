// cannon and summa (C = A · B on a √P×√P mesh of ranks) against P × one GPU's cuBLAS: the peer's
// time is cuBLAS's time for the whole GEMM on rank 0's GPU divided by P, the throughput P GPUs
// would have if each ran cuBLAS on its share of the flops.
#include <cstdio>
#include <cstring>

#include "dist_harness.h"
#include "distributed/distributed_example.h"
#include "distributed/mesh.h"
#include "runtime/cuda/driver.h"
#include "tilescale/errors.h"

namespace tilescale::bench {

namespace {

using tilescale::detail::cat;

// Block (bi, bj) of the host matrix m, [rows, cols] in blocks of [br, bc], as a host tensor.
Tensor block(const Tensor& m, std::int64_t bi, std::int64_t bj, std::int64_t br, std::int64_t bc) {
  Tensor out = Tensor::empty({br, bc}, m.dtype());
  const std::int64_t cols = m.shape(1), size = bytes(m.dtype());
  for (std::int64_t i = 0; i < br; ++i)
    std::memcpy(static_cast<std::byte*>(out.data()) + i * bc * size,
                static_cast<const std::byte*>(m.data()) + ((bi * br + i) * cols + bj * bc) * size, bc * size);
  return out;
}

// The rank's inputs and the case: cannon starts from the skewed blocks in buffer 0 of its double
// buffers (restored before every run: the blocks travel), summa from its own blocks.
RankCase rank_case(const std::string& which, const Kernel& kernel, dist::Rank& rank, const Tensor& A, const Tensor& B,
                   std::int64_t Mb, std::int64_t Nb, std::int64_t Kb, int q, const Tensor& C) {
  const int i = rank.rank() / q, j = rank.rank() % q;
  const auto stream = static_cast<CUstream>(rank.stream());
  const DataType f16 = DataType::Float16;
  RankCase c;
  if (which == "cannon") {
    const Tensor abuf = rank.heap().empty({2, Mb, Kb}, f16), bbuf = rank.heap().empty({2, Kb, Nb}, f16);
    const Tensor a0 = block(A, i, (i + j) % q, Mb, Kb).to(rank.device()), b0 = block(B, (i + j) % q, j, Kb, Nb).to(rank.device());
    std::vector<Tensor> flags;
    for (const char* name : {"flag_a", "flag_b", "done_a", "done_b"})
      flags.push_back(rank.heap().zeros(param_shape(kernel, name), DataType::Int32));
    c.reset = [=] {
      TS_CU(MemcpyDtoD, reinterpret_cast<CUdeviceptr>(abuf.data()), reinterpret_cast<CUdeviceptr>(a0.data()), Mb * Kb * 2);
      TS_CU(MemcpyDtoD, reinterpret_cast<CUdeviceptr>(bbuf.data()), reinterpret_cast<CUdeviceptr>(b0.data()), Kb * Nb * 2);
      for (const Tensor& f : flags) fill_bytes(f, 0, stream);
    };
    c.ours = [=] { kernel(abuf, bbuf, flags[0], flags[1], flags[2], flags[3], C); };
  } else {
    const Tensor a = rank.heap().empty({Mb, Kb}, f16), b = rank.heap().empty({Kb, Nb}, f16);
    a.copy_from(block(A, i, j, Mb, Kb));
    b.copy_from(block(B, i, j, Kb, Nb));
    const Tensor a_panel = rank.heap().empty({q, Mb, Kb}, f16), b_panel = rank.heap().empty({q, Kb, Nb}, f16);
    const Tensor a_signal = rank.heap().zeros(param_shape(kernel, "a_signal"), DataType::UInt64);
    const Tensor b_signal = rank.heap().zeros(param_shape(kernel, "b_signal"), DataType::UInt64);
    c.reset = [=] {
      fill_bytes(a_signal, 0, stream);
      fill_bytes(b_signal, 0, stream);
    };
    c.ours = [=] { kernel(a, b, a_panel, b_panel, a_signal, b_signal, C); };
  }
  return c;
}

std::vector<Row> measure(const std::string& which, const std::string& name, int P, const examples::Sizes& sizes) {
  const examples::DistributedExample* ex = examples::find_distributed_example(which);
  if (const std::string why = ex->unsupported(sizes, P); !why.empty())
    throw RuntimeError(cat("cannot run ", which, " at ", examples::format_sizes(sizes), " because ", why));
  const Kernel kernel = compile(ex->build(sizes, P).at(0), Target::CUDA);
  const int q = examples::mesh_side(P);
  const std::int64_t M = sizes.at("M"), N = sizes.at("N"), K = sizes.at("K"), Mb = M / q, Nb = N / q, Kb = K / q;
  const DataType f16 = DataType::Float16, f32 = DataType::Float32;
  // The whole GEMM on rank 0's GPU: the reference and the peer.
  const Tensor A = random_host({M, K}, f16, 9000), B = random_host({K, N}, f16, 9001);
  cuda::set_current_device(0);
  const Tensor A_dev = A.to(Device::cuda(0)), B_dev = B.to(Device::cuda(0)), C_dev = Tensor::empty({M, N}, f32, Device::cuda(0));
  cublas_gemm(A_dev, B_dev, C_dev);
  const Tensor C_full = C_dev.to(Device::cpu());
  const std::size_t heap = (which == "cannon" ? 2 : q + 1) * (heap_bytes_of({Mb, Kb}, f16) + heap_bytes_of({Kb, Nb}, f16)) +
                           4 * heap_bytes_of({q}, DataType::UInt64) + heap_bytes_of({Mb, Nb}, f32);
  const dist::World world = bench_world(P, heap);
  auto timings = time_on_ranks(world, [&](dist::Rank& rank) {
    const Tensor C = rank.heap().empty({Mb, Nb}, f32);
    fill_bytes(C, 0xff, static_cast<CUstream>(rank.stream()));
    RankCase c = rank_case(which, kernel, rank, A, B, Mb, Nb, Kb, q, C);
    const Tensor expected = block(C_full, rank.rank() / q, rank.rank() % q, Mb, Nb);
    c.check = [C, expected] { return max_relative_error(C.to(Device::cpu()), expected); };
    c.tolerance = float32_gemm_tolerance(K);
    if (rank.rank() == 0) c.peer = [=, stream = rank.stream()] { cublas_gemm(A_dev, B_dev, C_dev, stream); };
    else c.peer = [] {};
    return std::vector<RankCase>{c};
  });
  timings[0].peer_ms /= P;
  return {timed_row(name, timings[0], 2.0 * M * N * K, false)};
}

}  // namespace

int mesh_gemm_bench(const std::string& which, const DistBenchOptions& o) {
  int P = o.ranks;
  if (P == 0) {
    const int gpus = cuda::driver().device_count;
    P = 4;
    while ((examples::mesh_side(P) + 1) * (examples::mesh_side(P) + 1) <= gpus) P = (examples::mesh_side(P) + 1) * (examples::mesh_side(P) + 1);
  }
  const int q = examples::mesh_side(P);
  if (q == 0) throw RuntimeError(cat("cannot bench ", which, " on ", P, " ranks because they do not form a square mesh; use --ranks 4, 9, 16..."));
  std::printf("\n%s on a %dx%d mesh (%d ranks): C[M,N] = A[M,K] . B[K,N], float16 inputs, float32 output; TFLOP/s of all "
              "ranks together; the example computes each rank's C block as one GEMM tile in one thread block, so blocks "
              "above 128x128 are refused\n", which.c_str(), q, q, P);
  print_setup(P, cat(P, " x one GPU's cuBLAS: the whole GEMM on rank 0's GPU, its time divided by ", P));
  std::vector<Row> rows;
  const std::string sizes = o.size.empty() ? cat("M=16384,N=16384,K=16384;M=", 128 * q, ",N=", 128 * q, ",K=16384") : o.size;
  for (const auto& spec : split_specs(sizes)) {
    const examples::Sizes s = examples::parse_sizes(spec, {{"M", 16384}, {"N", 16384}, {"K", 16384}});
    const std::string name = cat("M=", s.at("M"), " N=", s.at("N"), " K=", s.at("K"));
    const auto r = rows_or_skipped(name, [&] { return measure(which, name, P, s); });
    rows.insert(rows.end(), r.begin(), r.end());
  }
  print_table(cat(which, " vs ", P, " x cuBLAS on one GPU, ", P, " ranks"), cat(P, "xcuBLAS"), rows);
  return exit_status(rows);
}

}  // namespace tilescale::bench
