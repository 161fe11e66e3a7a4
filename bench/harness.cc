#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "bench.h"
#include "runtime/cuda/driver.h"

namespace tilescale::bench {

namespace {

// Medians of each function's times, the functions timed in turn `options.reps` times.
std::vector<double> time_in_turn(const std::vector<std::function<void(void* stream)>>& runs, const TimingOptions& options) {
  cuda::set_current_device(0);
  const Tensor flush = options.flush_l2 ? Tensor::empty({256 << 20}, DataType::UInt8, Device::cuda()) : Tensor();
  for (const auto& run : runs)
    for (int i = 0; i < options.warmup; ++i) run(nullptr);
  TS_CU(CtxSynchronize);
  CUevent start, stop;
  TS_CU(EventCreate, &start, CU_EVENT_DEFAULT);
  TS_CU(EventCreate, &stop, CU_EVENT_DEFAULT);
  std::vector<std::vector<double>> ms(runs.size());
  for (int i = 0; i < options.reps; ++i)
    for (size_t r = 0; r < runs.size(); ++r) {
      if (options.flush_l2) TS_CU(MemsetD8, reinterpret_cast<CUdeviceptr>(flush.data()), static_cast<unsigned char>(i), flush.numel());
      TS_CU(EventRecord, start, nullptr);
      runs[r](nullptr);
      TS_CU(EventRecord, stop, nullptr);
      TS_CU(EventSynchronize, stop);
      float t = 0;
      TS_CU(EventElapsedTime, &t, start, stop);
      ms[r].push_back(t);
    }
  TS_CU(EventDestroy, start);
  TS_CU(EventDestroy, stop);
  std::vector<double> medians;
  for (auto& m : ms) {
    std::sort(m.begin(), m.end());
    medians.push_back(m[m.size() / 2]);
  }
  return medians;
}

}  // namespace

double time_cuda(const std::function<void(void* stream)>& run, const TimingOptions& options) {
  return time_in_turn({run}, options)[0];
}

std::pair<double, double> time_cuda_pair(const std::function<void(void* stream)>& ours, const std::function<void(void* stream)>& peer,
                                         const TimingOptions& options) {
  const auto m = time_in_turn({ours, peer}, options);
  return {m[0], m[1]};
}

double normwise_difference(const Tensor& got, const Tensor& want) {
  double peak = 0, worst = 0;
  for (std::int64_t i = 0; i < want.numel(); ++i) {
    const double w = want.get_flat(i), g = got.get_flat(i);
    peak = std::max(peak, std::fabs(w));
    worst = std::isfinite(g) ? std::max(worst, std::fabs(g - w)) : std::numeric_limits<double>::infinity();
  }
  return worst / std::max(peak, std::numeric_limits<double>::min());
}

void print_table(const std::string& title, const std::string& peer, const std::vector<Row>& rows) {
  std::printf("\n%s\n", title.c_str());
  std::printf("%-34s %12s %12s %10s %14s %14s %10s\n", "case", "tilescale ms", (peer + " ms").c_str(), "ours/peer",
              "ours", peer.c_str(), "rel.err");
  for (const auto& r : rows) {
    if (r.ours_ms <= 0) {
      std::printf("%-34s %s\n", r.case_name.c_str(), r.note.c_str());
      continue;
    }
    const double scale = r.is_bytes ? 1e-9 : 1e-12;  // GB/s or TFLOP/s
    const char* unit = r.is_bytes ? "GB/s" : "TFLOP/s";
    if (r.peer_ms > 0)
      std::printf("%-34s %12.4f %12.4f %9.1f%% %9.1f %-4s %9.1f %-4s %10.2e\n", r.case_name.c_str(), r.ours_ms, r.peer_ms,
                  100.0 * r.peer_ms / r.ours_ms, r.work / (r.ours_ms * 1e-3) * scale, unit, r.work / (r.peer_ms * 1e-3) * scale,
                  unit, r.max_rel_error);
    else
      std::printf("%-34s %12.4f %12s %10s %9.1f %-4s %14s %10.2e\n", r.case_name.c_str(), r.ours_ms, "-", "-",
                  r.work / (r.ours_ms * 1e-3) * scale, unit, "-", r.max_rel_error);
    if (!r.note.empty()) std::printf("    %s\n", r.note.c_str());
  }
  std::fflush(stdout);
}

}  // namespace tilescale::bench
