// `tilescale bench gemm --tune`: the gemm example's knobs tuned with tilescale::autotune.
#include <array>
#include <cmath>
#include <cstdio>

#include "bench.h"
#include "tilescale/autotune.h"

namespace tilescale::bench {

namespace {

// The knob grid, without tiles that cannot fit: pipelined A and B stages beyond the H100's 227 KB of
// shared memory, more than 128 float32 accumulators per thread, or an occupancy request
// (blocks_per_sm, 0 = the compiler's choice) whose blocks' shared memory or accumulators (plus
// about 40 registers of addresses and operands) do not fit in one SM (227 KB, 64K registers).
std::vector<Config> gemm_grid() {
  std::vector<Config> out;
  for (std::int64_t bm : {128, 256})
    for (std::int64_t bn : {128, 256})
      for (std::int64_t bk : {32, 64})
        for (std::int64_t stages : {2, 3, 4})
          for (std::int64_t threads : {128, 256})
            for (std::int64_t blocks : {0, 2, 3}) {
              const std::int64_t smem = (bm + bn) * bk * 2 * stages, accumulators = bm * bn / threads;
              if (smem > 227 * 1024 || accumulators > 128) continue;
              if (blocks > 0 && (blocks * smem > 227 * 1024 || blocks * threads * (accumulators + 40) > 65536)) continue;
              out.push_back({{"BM", bm}, {"BN", bn}, {"BK", bk}, {"stages", stages}, {"threads", threads}, {"blocks_per_sm", blocks}});
            }
  return out;
}

}  // namespace

namespace {

// Warp-specialized wgmma configurations on Hopper (each warp 16 rows: BM = 16 * threads / 32),
// persistent or not; elsewhere they run on mma.sync.
std::vector<Config> wgmma_grid() {
  std::vector<Config> out;
  for (const auto& [bm, bn, threads, stages] :
       std::vector<std::array<std::int64_t, 4>>{{128, 256, 256, 4}, {128, 128, 256, 5}, {64, 128, 128, 6}})
    for (std::int64_t persistent : {0, 1})
      out.push_back({{"BM", bm}, {"BN", bn}, {"BK", 64}, {"stages", stages}, {"threads", threads}, {"persistent", persistent}});
  return out;
}

// Tunes the gemm example at `base` (M, N, K, bf16, other knobs) over `grid`, each config checked
// against cuBLAS, prints what was tried, and measures the winner against cuBLAS.
Row tune_and_measure(const examples::Sizes& base, const std::vector<Config>& grid) {
  const examples::Example& ex = *examples::find_example("gemm");
  const std::int64_t M = base.at("M"), N = base.at("N"), K = base.at("K");
  const DataType dt = base.at("bf16") ? DataType::BFloat16 : DataType::Float16;
  auto with = [&](const Config& c) {
    examples::Sizes s = base;
    for (const auto& [k, v] : c) s[k] = v;
    return s;
  };

  Tensor hA = Tensor::empty({M, K}, dt), hB = Tensor::empty({K, N}, dt);
  hA.fill_random(1), hB.fill_random(2);
  const Tensor A = hA.to(Device::cuda()), B = hB.to(Device::cuda());
  const Tensor C = Tensor::zeros({M, N}, dt, Device::cuda());
  const Tensor R = Tensor::zeros({M, N}, dt, Device::cuda());
  cublas_gemm(A, B, R);
  const Tensor want = R.to(Device::cpu()), poison = Tensor::zeros({M, N}, dt);

  TuneOptions options;
  options.target = Target::CUDA;
  options.cache_key_extra = "bench gemm --tune";
  options.check = [&](const std::vector<Arg>& args) {
    const double err = max_relative_error(args[2].tensor().to(Device::cpu()), want);
    args[2].tensor().copy_from(poison);
    return err <= 1e-2;
  };
  const TuneResult r = autotune([&](const Config& c) { return ex.build(with(c)); }, grid, {A, B, C}, options);

  std::printf("\nautotune gemm %s %ldx%ldx%ld over %zu configs%s\n", name(dt), long(M), long(N), long(K), grid.size(),
              r.from_cache ? " (choice from the cache)" : "");
  for (const auto& [config, ms, why] : r.tried) {
    if (std::isnan(ms)) std::printf("  %-60s failed: %s\n", format_config(config).c_str(), why.substr(0, why.find('\n')).c_str());
    else std::printf("  %-60s %10.4f ms\n", format_config(config).c_str(), ms);
  }
  std::printf("winner: %s (%.4f ms)\n", format_config(r.best).c_str(), r.best_ms);
  std::fflush(stdout);
  return gemm_case(with(r.best));
}

}  // namespace

Row gemm_tune(const std::string& size_spec) {
  examples::Sizes base = examples::find_example("gemm")->default_sizes;
  base["M"] = base["N"] = base["K"] = 4096;
  base = examples::parse_sizes(size_spec, base);
  base["bf16"] = 0;
  return tune_and_measure(base, gemm_grid());
}

std::vector<Row> gemm_tuned_sweep(bool quick, const std::string& only) {
  const std::int64_t dtype = examples::parse_sizes(only, {{"bf16", -1}}).at("bf16");  // -1: both
  std::vector<Row> rows;
  for (int bf16 = 0; bf16 < 2; ++bf16)
    for (const auto& s : gemm_shapes(quick)) {
      if (dtype != -1 && dtype != bf16) continue;
      examples::Sizes base = examples::find_example("gemm")->default_sizes;
      base["M"] = s.M, base["N"] = s.N, base["K"] = s.K, base["bf16"] = bf16;
      rows.push_back(tune_and_measure(base, wgmma_grid()));
    }
  return rows;
}

}  // namespace tilescale::bench
