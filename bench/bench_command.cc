#include <cstdio>

#include "bench.h"
#include "tilescale/dist.h"

namespace tilescale::bench {

namespace {
constexpr const char* kNames =
    "gemm, gemm_fp8, gemm_types, softmax, layernorm, allgather, all_to_all, allgather_gemm, gemm_rs, cannon, summa, nvshmem_compile or call_overhead";
}  // namespace

std::vector<std::string> split_specs(const std::string& specs) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = specs.find(';', start);
    out.push_back(specs.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) return out;
    start = end + 1;
  }
}

int bench_command(const std::vector<std::string>& args, const std::string& self_path) {
  std::string example, size, knobs, ranks;
  bool quick = false, compile_only = false, tune = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= args.size()) throw RuntimeError(detail::cat("bench: ", a, " needs a value"));
      return args[++i];
    };
    if (a == "--size") size = value();
    else if (a == "--knobs") knobs = value();
    else if (a == "--quick") quick = true;
    else if (a == "--compile") compile_only = true;
    else if (a == "--tune") tune = true;
    else if (a == "--ranks") ranks = value();
    else if (!a.empty() && a[0] == '-')
      throw RuntimeError(detail::cat("bench: unknown flag ", a, "; use --size, --knobs, --quick, --compile, --tune or --ranks"));
    else if (example.empty()) example = a;
    else throw RuntimeError(detail::cat("bench: unexpected argument ", a));
  }
  if (example.empty()) throw RuntimeError(detail::cat("bench: name a benchmark: ", kNames));
  if (tune && example != "gemm") throw RuntimeError(detail::cat("bench: --tune works for gemm only, not ", example));
  if (example == "gemm_types" && (compile_only || !knobs.empty() || !size.empty()))
    throw RuntimeError("bench: gemm_types takes --quick only (its shapes and tiles are fixed: bench/gemm_types_bench.cc)");
  const bool distributed = example == "allgather" || example == "all_to_all" || example == "allgather_gemm" ||
                           example == "gemm_rs" || example == "cannon" || example == "summa";
  if (distributed && (compile_only || !knobs.empty()))
    throw RuntimeError(detail::cat("bench: ", example, " takes --ranks, --size and --quick; --compile and --knobs apply to "
                                   "the single-GPU benchmarks"));
  DistBenchOptions dist_options{.size = size, .quick = quick};
  if (!ranks.empty()) {
    if (!distributed) throw RuntimeError(detail::cat("bench: --ranks is for the distributed benchmarks, not ", example));
    std::size_t used = 0;
    try {
      dist_options.ranks = std::stoi(ranks, &used);
    } catch (const std::exception&) {
    }
    if (used != ranks.size() || dist_options.ranks < 1 || dist_options.ranks > dist::kMaxRanks)
      throw RuntimeError(detail::cat("bench: --ranks ", ranks, " is not a rank count; use 1 to ", dist::kMaxRanks));
  }
  if (!why_not_cuda().empty()) {
    std::fprintf(stderr, "cannot bench %s because there is no CUDA device: %s\n", example.c_str(), why_not_cuda().c_str());
    return 2;
  }
  if (tune) {
    // One shape (--size) over the full knob grid, or the sweep with each shape tuned.
    print_table("GEMM (tilescale gemm example, tuned) vs cuBLAS", "cuBLAS", size.empty() ? gemm_tuned_sweep(quick, knobs) : std::vector<Row>{gemm_tune(size)});
    return 0;
  }
  if (compile_only) {
    compile_times(example, self_path);
    return 0;
  }
  if (example == "nvshmem_compile") {
    nvshmem_compile_times();
    return 0;
  }
  if (example == "call_overhead") {
    call_overhead_bench();
    return 0;
  }
  if (example == "allgather") return allgather_bench(dist_options);
  if (example == "all_to_all") return all_to_all_bench(dist_options);
  if (example == "allgather_gemm") return allgather_gemm_bench(dist_options);
  if (example == "gemm_rs") return gemm_rs_bench(dist_options);
  if (example == "cannon" || example == "summa") return mesh_gemm_bench(example, dist_options);
  // --knobs and --size take several specs separated by ';', each measured in turn.
  if (example == "gemm") {
    for (const auto& k : split_specs(knobs))
      print_table(detail::cat("GEMM (tilescale gemm example", k.empty() ? "" : ", " + k, ") vs cuBLAS"), "cuBLAS", gemm_sweep(k, quick));
    return 0;
  }
  if (example == "gemm_fp8") {
    for (const auto& k : split_specs(knobs)) gemm_fp8_bench(k, quick);
    return 0;
  }
  if (example == "gemm_types") {
    gemm_types_bench(quick);
    return 0;
  }
  if (example == "softmax" || example == "layernorm") {
    std::vector<Row> rows;
    for (const auto& sz : split_specs(size))
      for (auto& r : memory_bound(example, sz)) rows.push_back(r);
    print_table(detail::cat(example, " vs device-to-device copy of the same bytes"), "copy", rows);
    return 0;
  }
  throw RuntimeError(detail::cat("bench: no benchmark for ", example, "; use ", kNames));
}

}  // namespace tilescale::bench
