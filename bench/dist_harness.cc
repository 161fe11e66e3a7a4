#include "dist_harness.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "distributed/support.h"
#include "runtime/cuda/driver.h"
#include "runtime/dist/symmetric_allocation.h"
#include "tilescale/errors.h"

namespace tilescale::bench {

using tilescale::detail::cat;

namespace {

// Slack over the summed allocations (heap_bytes_of rounds each to its alignment).
constexpr std::size_t kHeapSlack = std::size_t(16) << 20;
constexpr std::int64_t kBenchWaitTimeoutMs = 60000;

// Every run's times on one rank, per case.
struct RankRuns {
  std::vector<double> ours, peer;
};

struct Events {
  CUevent start = nullptr, stop = nullptr;
  Events() {
    TS_CU(EventCreate, &start, CU_EVENT_DEFAULT);
    TS_CU(EventCreate, &stop, CU_EVENT_DEFAULT);
  }
  ~Events() {
    cuda::driver().EventDestroy(start);
    cuda::driver().EventDestroy(stop);
  }
};

double median_of_slowest(const std::vector<const std::vector<double>*>& per_rank) {
  std::vector<double> slowest(per_rank.front()->size(), 0.0);
  for (const auto* runs : per_rank)
    for (std::size_t i = 0; i < runs->size(); ++i) slowest[i] = std::max(slowest[i], (*runs)[i]);
  std::sort(slowest.begin(), slowest.end());
  return slowest.empty() ? 0.0 : slowest[slowest.size() / 2];
}

}  // namespace

std::vector<RankTiming> time_on_ranks(const dist::World& world, const std::function<std::vector<RankCase>(dist::Rank&)>& setup,
                                      const TimingOptions& options) {
  const int P = world.size();
  std::vector<std::vector<RankRuns>> runs(P);     // [rank][case]
  std::vector<std::vector<double>> errors(P);     // [rank][case]
  std::vector<std::vector<char>> passed(P);       // [rank][case]
  world.run([&](dist::Rank& rank) {
    const int r = rank.rank();
    const std::vector<RankCase> cases = setup(rank);
    const auto stream = static_cast<CUstream>(rank.stream());
    // A device-to-device cuMemcpy may return before it is done, on the legacy stream, which the
    // rank's non-blocking stream does not wait for.
    auto reset = [](const RankCase& c) {
      if (c.reset) c.reset();
      TS_CU(StreamSynchronize, nullptr);
    };
    for (const RankCase& c : cases) {
      reset(c);
      rank.barrier();
      c.ours();
      rank.barrier();  // our kernels end (or fail) on every rank before any rank queues a collective peer
      if (c.peer) c.peer();
      rank.barrier();
      errors[r].push_back(c.check());
      passed[r].push_back(errors[r].back() <= c.tolerance);
    }
    rank.barrier();  // every rank's verdicts are in
    const Tensor flush = options.flush_l2 ? Tensor::empty({256 << 20}, DataType::UInt8, rank.device()) : Tensor();
    const Events ev;
    auto timed = [&](const std::function<void()>& run, const RankCase* to_reset, int i) {
      if (to_reset) reset(*to_reset);
      if (flush.defined() && flush.numel() > 0)
        TS_CU(MemsetD8Async, reinterpret_cast<CUdeviceptr>(flush.data()), static_cast<unsigned char>(i), flush.numel(), stream);
      rank.barrier();
      TS_CU(EventRecord, ev.start, stream);
      run();
      TS_CU(EventRecord, ev.stop, stream);
      TS_CU(EventSynchronize, ev.stop);
      float ms = 0;
      TS_CU(EventElapsedTime, &ms, ev.start, ev.stop);
      return static_cast<double>(ms);
    };
    runs[r].resize(cases.size());
    for (std::size_t k = 0; k < cases.size(); ++k) {
      bool everywhere = true;
      for (int p = 0; p < P; ++p) everywhere = everywhere && passed[p][k];
      if (!everywhere) continue;
      const RankCase& c = cases[k];
      for (int i = 0; i < options.warmup + options.reps; ++i) {
        const double ours = timed(c.ours, &c, i);
        const double peer = c.peer ? timed(c.peer, nullptr, i) : 0.0;
        if (i < options.warmup) continue;
        runs[r][k].ours.push_back(ours);
        if (c.peer) runs[r][k].peer.push_back(peer);
      }
    }
  });
  std::vector<RankTiming> out(runs[0].size());
  for (std::size_t k = 0; k < out.size(); ++k) {
    std::vector<const std::vector<double>*> ours, peer;
    for (int p = 0; p < P; ++p) {
      out[k].max_rel_error = std::max(out[k].max_rel_error, errors[p][k]);
      ours.push_back(&runs[p][k].ours);
      peer.push_back(&runs[p][k].peer);
    }
    out[k].passed = !runs[0][k].ours.empty();
    out[k].ours_ms = median_of_slowest(ours);
    out[k].peer_ms = median_of_slowest(peer);
  }
  return out;
}

dist::World bench_world(int ranks, std::size_t heap_bytes) {
  dist::WorldOptions options;
  options.heap_bytes = heap_bytes + kHeapSlack;
  const char* env = std::getenv("TILESCALE_WAIT_TIMEOUT_MS");
  options.wait_timeout_ms = env && *env ? -1 : kBenchWaitTimeoutMs;
  return dist::World::local(ranks, options);
}

int default_ranks() {
  const int gpus = cuda::driver().device_count;
  return gpus > 1 ? gpus : 2;
}

void print_setup(int ranks, const std::string& peer) {
  const int gpus = cuda::driver().device_count;
  std::printf("%d rank%s in one process (local transport) on %d GPU%s\n", ranks, ranks == 1 ? "" : "s", gpus, gpus == 1 ? "" : "s");
  if (const std::string note = sharing_note(ranks); !note.empty()) std::printf("NOTE: %s\n", note.c_str());
  std::printf("peer: %s\n", peer.c_str());
  std::fflush(stdout);
}

bool one_gpu_per_rank(int ranks) { return cuda::driver().device_count >= ranks; }

std::string sharing_note(int ranks) {
  const int gpus = cuda::driver().device_count;
  if (gpus >= ranks) return "";
  return cat(ranks, " ranks share ", gpus == 1 ? "one GPU" : cat(gpus, " GPUs"), ": correctness only, times are not meaningful");
}

Row timed_row(const std::string& name, const RankTiming& t, double work, bool is_bytes) {
  Row r;
  r.case_name = name;
  r.work = work;
  r.is_bytes = is_bytes;
  r.max_rel_error = t.max_rel_error;
  if (!t.passed) {
    r.wrong = true;
    r.note = cat("WRONG RESULT: relative error ", t.max_rel_error, " above the tolerance; not timed");
    return r;
  }
  r.ours_ms = t.ours_ms;
  r.peer_ms = t.peer_ms;
  return r;
}

std::vector<Row> rows_or_skipped(const std::string& name, const std::function<std::vector<Row>()>& make) {
  std::fprintf(stderr, "  %s ...\n", name.c_str());
  try {
    std::vector<Row> rows = make();
    for (const Row& r : rows)
      if (r.wrong) std::fprintf(stderr, "  %s: %s\n", r.case_name.c_str(), r.note.c_str());
    return rows;
  } catch (const Error& e) {
    std::fprintf(stderr, "  %s skipped: %s\n", name.c_str(), e.what());
    Row r;
    r.case_name = name;
    r.note = cat("skipped: ", e.what());
    return {r};
  }
}

int exit_status(const std::vector<Row>& rows) {
  return std::any_of(rows.begin(), rows.end(), [](const Row& r) { return r.wrong; }) ? 1 : 0;
}

Tensor random_host(const std::vector<std::int64_t>& shape, DataType dtype, std::uint64_t seed) {
  constexpr int kValues = 4096;
  const int size = bytes(dtype);
  std::vector<std::byte> table(static_cast<std::size_t>(kValues) * size);
  Tensor tiny = Tensor::wrap(table.data(), {kValues}, dtype);
  tiny.fill_random(seed);
  Tensor t = Tensor::empty(shape, dtype);
  auto* out = static_cast<std::byte*>(t.data());
  std::uint64_t state = seed;
  std::uint64_t bits = 0;
  for (std::int64_t i = 0; i < t.numel(); ++i) {
    if (i % 5 == 0) {  // SplitMix64: five 12-bit picks per draw
      std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      bits = z ^ (z >> 31);
    }
    std::memcpy(out + i * size, table.data() + (bits % kValues) * size, size);
    bits /= kValues;
  }
  return t;
}

std::vector<std::int64_t> param_shape(const Kernel& kernel, const std::string& name) {
  for (const ParamInfo& p : kernel.params())
    if (p.name == name) return p.shape;
  throw InternalError(cat("kernel ", kernel.name(), " has no parameter ", name));
}

std::size_t heap_bytes_of(const std::vector<std::int64_t>& shape, DataType dtype) {
  std::size_t n = static_cast<std::size_t>(bytes(dtype));
  for (const std::int64_t d : shape) n *= static_cast<std::size_t>(d);
  return (n + dist::kHeapAlignment - 1) / dist::kHeapAlignment * dist::kHeapAlignment;
}

std::vector<Row> gemm_size_sweep(const std::string& specs,
                                 const std::function<std::vector<Row>(const std::string&, const examples::Sizes&)>& measure) {
  std::vector<Row> rows;
  for (const auto& spec : split_specs(specs)) {
    const examples::Sizes sizes = examples::parse_sizes(spec, {{"M", 8192}, {"N", 28672}, {"K", 8192}});
    const std::string name = cat("M=", sizes.at("M"), " N=", sizes.at("N"), " K=", sizes.at("K"));
    const auto r = rows_or_skipped(name, [&] { return measure(name, sizes); });
    rows.insert(rows.end(), r.begin(), r.end());
  }
  return rows;
}

void fill_bytes(const Tensor& t, unsigned char byte, CUstream stream) {
  TS_CU(MemsetD8Async, reinterpret_cast<CUdeviceptr>(t.data()), byte,
        static_cast<std::size_t>(t.numel()) * static_cast<std::size_t>(bytes(t.dtype())), stream);
}

double float32_gemm_tolerance(std::int64_t K) {
  return std::max(examples::kFloat32SumTolerance, 4 * std::sqrt(static_cast<double>(K)) * std::ldexp(1.0, -24) / 1e-3);
}

}  // namespace tilescale::bench
