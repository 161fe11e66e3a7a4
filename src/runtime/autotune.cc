#include "tilescale/autotune.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include "jit/cache.h"
#include "jit/hash.h"
#include "runtime/cuda/driver.h"
#include "tilescale/errors.h"

#ifndef TILESCALE_VERSION
#define TILESCALE_VERSION "unknown"
#endif

namespace tilescale {

using detail::cat;

std::string format_config(const Config& config) {
  std::string out;
  for (const auto& [k, v] : config) out += cat(out.empty() ? "" : ",", k, "=", v);
  return out;
}

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

double time_on_cpu(const Kernel& kernel, const std::vector<Arg>& args) {
  kernel.call(args);
  std::vector<double> ms;
  for (int i = 0; i < 5; ++i) {
    const auto start = std::chrono::steady_clock::now();
    kernel.call(args);
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  return median(ms);
}

double time_on_cuda(const Kernel& kernel, const std::vector<Arg>& args) {
  cuda::set_current_device(0);
  for (int i = 0; i < 3; ++i) kernel.call(args);
  CUevent start, stop;
  TS_CU(EventCreate, &start, CU_EVENT_DEFAULT);
  TS_CU(EventCreate, &stop, CU_EVENT_DEFAULT);
  std::vector<double> ms;
  for (int i = 0; i < 10; ++i) {
    TS_CU(EventRecord, start, nullptr);
    kernel.call(args);
    TS_CU(EventRecord, stop, nullptr);
    TS_CU(EventSynchronize, stop);
    float t = 0;
    TS_CU(EventElapsedTime, &t, start, stop);
    ms.push_back(t);
  }
  TS_CU(EventDestroy, start);
  TS_CU(EventDestroy, stop);
  return median(ms);
}

// The hash of everything the choice depends on; "" when the cache is off.
std::string cache_key(const std::string& program, Target target, const std::vector<Config>& configs,
                      const std::vector<Arg>& inputs, const TuneOptions& options) {
  jit::Hasher h;
  h.add("tilescale-autotune-v1").add(TILESCALE_VERSION).add(program);
  h.add(target != Target::CPU ? cuda::device_name(0) + " " + cuda::arch_for_device(0) : std::string("cpu"));
  h.add(static_cast<std::uint64_t>(inputs.size()));
  for (const Arg& a : inputs) {
    h.add(static_cast<std::uint64_t>(a.kind()));
    if (a.kind() == Arg::Kind::Tensor) {
      const Tensor& t = a.tensor();
      h.add(static_cast<std::uint64_t>(t.dtype())).add(static_cast<std::uint64_t>(t.rank()));
      for (std::int64_t d : t.shape()) h.add(static_cast<std::uint64_t>(d));
    } else {
      h.add(a.describe());  // the scalar's value: it can change which config is fastest
    }
  }
  std::vector<std::string> sorted;
  for (const Config& c : configs) sorted.push_back(format_config(c));
  std::sort(sorted.begin(), sorted.end());
  h.add(static_cast<std::uint64_t>(sorted.size()));
  for (const auto& c : sorted) h.add(c);
  return h.add(options.cache_key_extra).hex();
}

std::string cache_path(const std::string& key) {
  return (std::filesystem::path(jit::cache_dir()) / "tune" / (key + ".txt")).string();
}

// The entry is three lines: a magic line, the chosen config (format_config) and its time in ms.
std::optional<TuneResult> read_choice(const std::string& key, const std::vector<Config>& configs) {
  std::ifstream in(cache_path(key));
  std::string magic, config;
  double ms = 0;
  if (!(std::getline(in, magic) && std::getline(in, config) && in >> ms) || magic != "tilescale-autotune-v1") return {};
  for (const Config& c : configs)
    if (format_config(c) == config) return TuneResult{c, ms, {}, true};
  return {};
}

void write_choice(const std::string& key, const TuneResult& r) {
  std::ostringstream out;
  out.precision(17);
  out << "tilescale-autotune-v1\n" << format_config(r.best) << "\n" << r.best_ms << "\n";
  jit::write_atomic(cache_path(key), out.str());  // a cache that cannot be written is no error
}

// The progress line, redrawn in place on stderr by whichever thread moves it on.
class Progress {
 public:
  Progress(bool on, std::size_t total) : on_(on), total_(total) {}
  void compiled() { update([&] { ++compiled_; }); }
  void timed(double ms, const Config& c) {
    update([&] {
      ++timed_;
      if (!std::isnan(ms) && (std::isnan(best_ms_) || ms < best_ms_)) best_ms_ = ms, best_ = format_config(c);
    });
  }
  void finish() {
    if (on_) std::fprintf(stderr, "\n");
  }

 private:
  template <typename F>
  void update(F f) {
    std::lock_guard<std::mutex> lock(mu_);
    f();
    if (!on_) return;
    std::string line = cat("\rautotune: compiled ", compiled_, "/", total_, ", timed ", timed_, "/", total_);
    if (!std::isnan(best_ms_)) line += cat(", best ", best_ms_, " ms (", best_, ")");
    std::fprintf(stderr, "%s\033[K", line.c_str());
    std::fflush(stderr);
  }
  std::mutex mu_;
  bool on_;
  std::size_t total_, compiled_ = 0, timed_ = 0;
  double best_ms_ = std::numeric_limits<double>::quiet_NaN();
  std::string best_;
};

}  // namespace

TuneResult autotune(const std::function<lang::PrimFunc(const Config&)>& builder, const std::vector<Config>& configs,
                    const std::vector<Arg>& inputs, const TuneOptions& options) {
  if (configs.empty()) throw CompileError("cannot autotune because the config list is empty");
  const Target target =
      options.target == Target::Auto ? (why_not_cuda().empty() ? Target::CUDA : Target::CPU) : options.target;

  std::string key;
  if (options.use_cache && jit::cache_enabled()) {
    std::string program;
    try {
      program = builder(configs[0]).name();
    } catch (const std::exception&) {
      // configs[0] fails below and is reported there; the key still tells problems apart by the rest.
    }
    key = cache_key(program, target, configs, inputs, options);
    if (auto cached = read_choice(key, configs)) return *cached;
  }

  const std::size_t n = configs.size();
  std::vector<std::optional<Kernel>> kernels(n);
  std::vector<std::string> why(n);
  Progress progress(options.progress, n);
  {
    // Workers take configs off a shared counter; the front end's builder state is thread_local.
    std::atomic<std::size_t> next{0};
    auto work = [&] {
      for (std::size_t i; (i = next++) < n;) {
        try {
          kernels[i] = compile(builder(configs[i]), CompileOptions{target});
        } catch (const std::exception& e) {
          why[i] = e.what();
        }
        progress.compiled();
      }
    };
    const unsigned hw = std::max(1u, std::thread::hardware_concurrency());
    const std::size_t threads = std::min<std::size_t>(n, options.compile_threads > 0 ? options.compile_threads : hw);
    std::vector<std::thread> pool;
    for (std::size_t t = 0; t < threads; ++t) pool.emplace_back(work);
    for (auto& t : pool) t.join();
  }

  const auto timer = options.timer ? options.timer : target != Target::CPU ? time_on_cuda : time_on_cpu;
  TuneResult result;
  result.best_ms = std::numeric_limits<double>::quiet_NaN();
  for (std::size_t i = 0; i < n; ++i) {
    double ms = std::numeric_limits<double>::quiet_NaN();
    if (kernels[i]) {
      try {
        kernels[i]->call(inputs);
        if (target != Target::CPU) TS_CU(CtxSynchronize);
        if (options.check && !options.check(inputs)) why[i] = "its result failed the check";
        else ms = timer(*kernels[i], inputs);
      } catch (const std::exception& e) {
        why[i] = e.what();
      }
    }
    progress.timed(ms, configs[i]);
    result.tried.emplace_back(configs[i], ms, why[i]);
    if (!std::isnan(ms) && (std::isnan(result.best_ms) || ms < result.best_ms)) result.best = configs[i], result.best_ms = ms;
  }
  progress.finish();

  if (std::isnan(result.best_ms)) {
    std::string message = cat("autotune found no config that works; of ", n, " configs:");
    for (std::size_t i = 0; i < n; ++i) message += cat("\n  ", format_config(configs[i]), ": ", why[i]);
    throw RuntimeError(message);
  }
  if (!key.empty()) write_choice(key, result);
  return result;
}

}  // namespace tilescale
