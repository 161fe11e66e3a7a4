// The harness of the distributed benchmarks: P ranks in this process (dist::World::local, rank r on
// GPU r % GPUs), ours and the peer run on every rank, each run's time the slowest rank's.
//
//   auto world = bench_world(P, heap_bytes);
//   auto timings = time_on_ranks(world, [&](dist::Rank& rank) {
//     ... allocate in rank.heap(), fill the inputs ...
//     RankCase c;
//     c.reset = [=] { zero the kernel's flags on rank.stream() };
//     c.ours = [=] { kernel(a, out, flags); };
//     c.peer = [=] { nccl.all_gather(rank.rank(), a, ref, rank.stream()); };
//     c.check = [=] { return max_relative_error(out, ref); };
//     return std::vector<RankCase>{c};
//   });
//
// Each case runs once first (reset, host barrier, ours, the peer, host barrier) and is checked on
// every rank; a case wrong on any rank is not timed (every rank agrees on that). Then warm-up runs
// and `reps` timed rounds of ours and the peer alternately; every run starts on all ranks together
// (reset and an L2 flush on the rank's stream, a host barrier, then CUDA events around the run on
// the rank's stream), its time is the slowest rank's, and the median over the rounds is reported.
// When ranks share a GPU the times are those of time-sliced or co-resident kernels: correctness
// only (sharing_note says so).
#pragma once

#include <cuda.h>

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "bench.h"
#include "tilescale/dist.h"

namespace tilescale::bench {

// One benchmarked case as seen from one rank; every function runs on that rank's thread and
// enqueues its GPU work on rank.stream(). Reset may also copy with Tensor::copy_from or cuMemcpy*
// (the legacy stream): the harness waits for those before the barrier that starts a run.
struct RankCase {
  std::function<void()> reset{};  // untimed, before each run of ours (zero flags and counters); may be empty
  std::function<void()> ours{};
  std::function<void()> peer{};   // empty on every rank or on none
  std::function<double()> check{};  // after the first runs: ours' largest relative error on this rank
  double tolerance = 0;           // the check passes at or below it
};

struct RankTiming {
  double ours_ms = 0, peer_ms = 0;  // medians of the slowest rank's time (peer_ms 0: no peer)
  double max_rel_error = 0;         // the worst rank's
  bool passed = false;              // every rank's check passed (else nothing was timed)
};

// Runs `setup` on every rank of `world` and measures the cases it returns (the same number on every
// rank), as the top of this file says. Errors (a refused launch, memory) propagate from World::run.
std::vector<RankTiming> time_on_ranks(const dist::World& world, const std::function<std::vector<RankCase>(dist::Rank&)>& setup,
                                      const TimingOptions& options = {});

// A local world of `ranks` ranks with room for `heap_bytes` of allocations per rank. Unless
// TILESCALE_WAIT_TIMEOUT_MS says otherwise its waits give up after 60 s, so that a hang on the GPU
// becomes a report rather than a stuck benchmark.
dist::World bench_world(int ranks, std::size_t heap_bytes);

// The CUDA devices of this process, if more than one; else 2 (ranks sharing the one GPU).
int default_ranks();
// Prints how the ranks run ("4 ranks in one process (local transport) on 4 GPUs"), the sharing
// note when they share GPUs, and the peer ("peer: NCCL 2.27.7 (...)" or why there is none).
void print_setup(int ranks, const std::string& peer);
// "" when every one of `ranks` ranks has a GPU of its own; else "4 ranks share one GPU:
// correctness only, times are not meaningful" (or "... share 2 GPUs ...").
std::string sharing_note(int ranks);
// Whether every one of `ranks` ranks has a GPU of its own.
bool one_gpu_per_rank(int ranks);

// The row of a measured case: `work` bytes (GB/s) or flops (TFLOP/s) done in ours_ms. A wrong result
// is a row whose note says so.
Row timed_row(const std::string& name, const RankTiming& t, double work, bool is_bytes);
// `make()`'s rows, or, when it throws a tilescale::Error (a launch refused because its blocks cannot
// all be resident, memory, a failed NCCL call...), one skipped row named `name` whose note is the
// message. Announces `name` on stderr first, and a skip or a wrong result at once, so that a long
// run shows its progress.
std::vector<Row> rows_or_skipped(const std::string& name, const std::function<std::vector<Row>()>& make);
// 1 when a row's result was wrong, else 0: the benchmark's exit status.
int exit_status(const std::vector<Row>& rows);

// The rows of a GEMM benchmark over the M,N,K sizes of `specs` (';'-separated size specs, e.g.
// "M=8192,N=28672,K=8192;M=512,N=512,K=8192"): measure(name, sizes) for each, named "M=.. N=.. K=..",
// a failure a skipped row (rows_or_skipped).
std::vector<Row> gemm_size_sweep(const std::string& specs,
                                 const std::function<std::vector<Row>(const std::string& name, const examples::Sizes& sizes)>& measure);

// Queues on `stream` the filling of every byte of `t` (a contiguous CUDA tensor) with `byte`:
// 0 zeroes flags and counters, 0xff poisons outputs (NaN for floats) until a kernel writes them.
void fill_bytes(const Tensor& t, unsigned char byte, CUstream stream);

// The tolerance of a float32 GEMM over K products against another float32 GEMM (cuBLAS): each
// sums K roundings of about 2^-24 of its partial sum, which add up like a random walk, to about
// sqrt(K) 2^-24 of the largest output; max_relative_error divides by a floor of 1e-3 of that, so
// the two may differ by sqrt(K) 6e-5 (4x that allowed; at K = 8192 about 2%, while a missing or
// doubled term is of the order of the values themselves). Never below kFloat32SumTolerance.
double float32_gemm_tolerance(std::int64_t K);

// A host tensor (float16, bfloat16 or float32) of values uniform in [-1, 1) from `seed`, made fast
// (each element one of a table of 4096 such values, picked by a SplitMix64 stream): inputs of a
// gigabyte in a second, where Tensor::fill_random would take tens.
Tensor random_host(const std::vector<std::int64_t>& shape, DataType dtype, std::uint64_t seed);

// The shape of `kernel`'s parameter `name` (for the flags and counters whose shape an example's
// tiles decide); InternalError when it has none of that name.
std::vector<std::int64_t> param_shape(const Kernel& kernel, const std::string& name);

// The symmetric-heap bytes of a tensor of `shape` and `dtype` (what bench_world's heap_bytes sums).
std::size_t heap_bytes_of(const std::vector<std::int64_t>& shape, DataType dtype);

}  // namespace tilescale::bench
