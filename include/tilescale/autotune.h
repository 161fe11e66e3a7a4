// Autotuning: pick the fastest configuration of a tile program for one problem.
//
//   auto build = [&](const tilescale::Config& c) { return my_gemm(M, N, K, c.at("BM"), c.at("BN")); };
//   std::vector<tilescale::Config> configs = {{{"BM", 128}, {"BN", 128}}, {{"BM", 128}, {"BN", 256}}};
//   tilescale::TuneOptions options;
//   options.check = [&](const std::vector<tilescale::Arg>& args) {
//     return tilescale::max_relative_error(args[2].tensor().to(tilescale::Device::cpu()), reference) < 1e-2;
//   };
//   tilescale::TuneResult r = tilescale::autotune(build, configs, {A, B, C}, options);
//   tilescale::Kernel k = tilescale::compile(build(r.best), options.target);  // a JIT cache hit
//
// autotune builds and compiles every config in parallel threads (a config whose builder or compile
// throws is recorded as failed, not fatal), then, one at a time so timings never overlap, runs each
// compiled kernel once on `inputs` and checks the result, times the ones that pass, and returns the
// fastest. `inputs` are the kernel's arguments in parameter order (outputs included): tensors on
// the target's device and scalars (Arg); each run overwrites the outputs among them.
//
// The choice is cached on disk, in <jit::cache_dir()>/tune/<key>.txt, keyed by a hash of the
// program's name (that of configs[0]), the shapes and dtypes of the tensors and the values of the
// scalars among `inputs`, the device (CUDA: its name
// and arch; the CPU backend: "cpu"), tilescale's version, the config list and cache_key_extra. A
// later call with the same key returns the cached choice without compiling anything
// (from_cache = true, tried empty) as long as that config is still among `configs`. Writes are
// atomic (a temporary file renamed into place); TILESCALE_CACHE=0 or use_cache = false skip the
// cache both ways.
//
// Why: the best tile shape and pipeline depth depend on the problem size and the GPU, and trying
// them by hand is slow; compiling is the expensive part, so it runs in parallel, and the answer is
// kept so the search is paid for once per (problem, device, version).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "tilescale/lang.h"
#include "tilescale/runtime.h"
#include "tilescale/tensor.h"

namespace tilescale {

// Knob name → value, e.g. {{"BM", 128}, {"BN", 256}, {"stages", 3}}.
using Config = std::map<std::string, std::int64_t>;
std::string format_config(const Config& config);  // "BM=128,BN=256,stages=3"

struct TuneOptions {
  Target target = Target::Auto;
  int compile_threads = 0;  // 0: std::thread::hardware_concurrency()
  // Milliseconds per run of `kernel` on `args`. Null: CUDA events around each run (median of 10
  // after 3 warm-up runs) on CUDA, the wall-clock median of 5 runs after one warm-up on the CPU.
  std::function<double(const Kernel& kernel, const std::vector<Arg>& args)> timer;
  // Called after one run of a config's kernel with the kernel's arguments (its outputs filled in);
  // false rejects the config. Null: no check. The outputs still hold the previous config's results
  // when a kernel leaves them alone, so a strict check poisons them itself before returning.
  std::function<bool(const std::vector<Arg>& args)> check;
  std::string cache_key_extra;  // anything else the choice depends on
  bool use_cache = true;
  bool progress = true;  // a progress line on stderr, rewritten in place, ended with a newline
};

struct TuneResult {
  Config best;
  double best_ms = 0;
  // Every config in the order given: its time in ms (NaN when it failed) and why it failed ("" when
  // it did not). Empty when the result came from the cache.
  std::vector<std::tuple<Config, double, std::string>> tried;
  bool from_cache = false;
};

// The fastest config of `configs` that compiles and passes options.check. RuntimeError listing every
// config and why it failed when none does; CompileError when `configs` is empty.
TuneResult autotune(const std::function<lang::PrimFunc(const Config&)>& builder, const std::vector<Config>& configs,
                    const std::vector<Arg>& inputs, const TuneOptions& options = {});

}  // namespace tilescale
