// allgather_push and allgather_pull against ncclAllGather: bus bandwidth at per-rank sizes of 1 MiB
// to 1 GiB.
#include <cstdio>
#include <cstring>
#include <limits>

#include "dist_harness.h"
#include "distributed/distributed_example.h"
#include "nccl.h"
#include "runtime/cuda/driver.h"
#include "tilescale/errors.h"

namespace tilescale::bench {

namespace {

using tilescale::detail::cat;

constexpr std::int64_t kMiB = std::int64_t(1) << 20;
constexpr std::int64_t kRowsPerBlock = 16;        // the examples' rows per block (allgather.cc)
constexpr std::size_t kCheckWindow = 4 << 20;     // bytes compared at the start, middle and end of each part

// Rows per rank: a power of two giving about two blocks per SM for the whole grid (rows/16 × P
// blocks), so the push kernel's waiting blocks are resident at once with room to spare.
std::int64_t rows_per_rank(int P) {
  const int sms = cuda::device_attribute(0, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
  std::int64_t blocks = 1;
  while (blocks * 2 * P <= 2 * sms && blocks < 256) blocks *= 2;
  return blocks * kRowsPerBlock;
}

// Whether `n` bytes at `x` and at `y` (device addresses this rank can read) are equal.
bool same_bytes(const void* x, const void* y, std::size_t n) {
  std::vector<unsigned char> hx(n), hy(n);
  TS_CU(MemcpyDtoH, hx.data(), reinterpret_cast<CUdeviceptr>(x), n);
  TS_CU(MemcpyDtoH, hy.data(), reinterpret_cast<CUdeviceptr>(y), n);
  return std::memcmp(hx.data(), hy.data(), n) == 0;
}

// 0 when this rank's gathered `out` holds every rank's `a` in rank order (compared over windows at
// the start, middle and end of each rank's part, read from that rank's heap), else infinity.
double gather_error(const dist::Rank& rank, const Tensor& a, const Tensor& out) {
  const std::size_t part = static_cast<std::size_t>(a.numel()) * bytes(a.dtype());
  const std::size_t window = std::min(part, kCheckWindow);
  for (int p = 0; p < rank.size(); ++p) {
    const auto* source = static_cast<const std::byte*>(rank.heap().peer(a, p).data());
    const auto* gathered = static_cast<const std::byte*>(out.data()) + p * part;
    for (const std::size_t at : {std::size_t(0), (part - window) / 2, part - window})
      if (!same_bytes(source + at, gathered + at, window)) return std::numeric_limits<double>::infinity();
  }
  return 0;
}

// One variant ("push" or "pull") at `mib` MiB per rank.
Row measure(const std::string& name, const std::string& variant, int P, std::int64_t mib, const Nccl& nccl) {
  const std::int64_t M = rows_per_rank(P), N = mib * kMiB / (M * 2);
  const examples::Sizes sizes{{"M", M}, {"N", N}};
  const Kernel kernel = compile(examples::find_distributed_example("allgather_" + variant)->build(sizes, P).at(0), Target::CUDA);
  const bool push = variant == "push";
  const std::size_t heap = heap_bytes_of({M, N}, DataType::Float16) * (1 + 2 * P) + heap_bytes_of({P}, DataType::Int32);
  const dist::World world = bench_world(P, heap);
  const auto timings = time_on_ranks(world, [&](dist::Rank& rank) {
    const int r = rank.rank();
    const auto stream = static_cast<CUstream>(rank.stream());
    const Tensor a = rank.heap().empty({M, N}, DataType::Float16);
    a.copy_from(random_host({M, N}, DataType::Float16, 1000 + r));
    const Tensor out = rank.heap().empty({P * M, N}, DataType::Float16);
    const Tensor out_peer = rank.heap().empty({P * M, N}, DataType::Float16);
    const Tensor arrived = rank.heap().zeros({P}, DataType::Int32);
    fill_bytes(out, 0xff, stream);  // NaN until written
    RankCase c{
        .ours = [=] { push ? kernel(a, out, arrived) : kernel(a, out); },
        .check = [&rank, a, out] { return gather_error(rank, a, out); },
    };
    if (push) c.reset = [arrived, stream] { fill_bytes(arrived, 0, stream); };
    if (nccl.available()) c.peer = [&nccl, r, a, out_peer, stream] { nccl.all_gather(r, a, out_peer, stream); };
    return std::vector<RankCase>{c};
  });
  // Bus bandwidth: (P-1)/P of the P·part bytes every rank ends up holding.
  return timed_row(name, timings[0], double(P - 1) * double(M * N * 2), true);
}

std::vector<std::int64_t> sizes_mib(const DistBenchOptions& o, int P) {
  if (!o.size.empty()) {
    std::vector<std::int64_t> out;
    for (const auto& spec : split_specs(o.size)) {
      std::int64_t v = 0;
      if (std::sscanf(spec.c_str(), "%ld", &v) != 1 || v <= 0 || std::to_string(v) != spec)
        throw RuntimeError(cat("cannot bench allgather at --size ", spec, " because it is not a positive number of MiB per rank; "
                               "use e.g. --size 64 or --size '1;64;1024'"));
      out.push_back(v);
    }
    return out;
  }
  if (!one_gpu_per_rank(P)) return {1, 4, 16};
  if (o.quick) return {1, 64, 1024};
  return {1, 4, 16, 64, 256, 1024};
}

}  // namespace

int allgather_bench(const DistBenchOptions& o) {
  const int P = o.ranks > 0 ? o.ranks : default_ranks();
  const Nccl nccl(P);
  std::printf("\nallgather of float16 rows, %d ranks: bus bandwidth = (P-1)/P x gathered bytes / time\n", P);
  print_setup(P, nccl.available() ? nccl.description() : "none: " + nccl.why_not());
  std::vector<Row> rows;
  for (const char* variant : {"push", "pull"})
    for (const std::int64_t mib : sizes_mib(o, P)) {
      const std::string name = cat(variant, " ", mib, " MiB/rank");
      const auto row = rows_or_skipped(name, [&] { return std::vector<Row>{measure(name, variant, P, mib, nccl)}; });
      rows.insert(rows.end(), row.begin(), row.end());
    }
  print_table(cat("allgather_push / allgather_pull vs ncclAllGather, ", P, " ranks (GB/s: bus bandwidth)"), "NCCL", rows);
  return exit_status(rows);
}

}  // namespace tilescale::bench
