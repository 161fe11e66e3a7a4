// Compile times: a cold NVRTC compile into an empty cache, then the same kernel from a new process,
// which must load it from the on-disk cache.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "bench.h"
#include "distributed/distributed_example.h"
#include "ops/builtin.h"

namespace tilescale::bench {

void compile_times(const std::string& name, const std::string& self_path) {
  const examples::Example* ex = examples::find_example(name);
  if (!ex) throw RuntimeError(detail::cat("cannot benchmark unknown example ", name));
  const char* inherited = std::getenv("TILESCALE_CACHE_DIR");
  if (inherited && std::getenv("TILESCALE_BENCH_CHILD")) {
    // The second process: same cache directory, so this must be a hit.
    const auto start = std::chrono::steady_clock::now();
    const Kernel k = compile(ex->build(ex->default_sizes), Target::CUDA);
    const double total = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    std::printf("  new process: cache %s, load %.1f ms, compile() total %.1f ms\n", k.compile_info().cache_hit ? "hit" : "MISS",
                k.compile_info().jit_ms, total);
    return;
  }
  const auto dir = std::filesystem::temp_directory_path() / detail::cat("tilescale-bench-cache-", ::getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  ::setenv("TILESCALE_CACHE_DIR", dir.c_str(), 1);
  const auto start = std::chrono::steady_clock::now();
  const Kernel k = compile(ex->build(ex->default_sizes), Target::CUDA);
  const double total = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  std::printf("compile times of %s (%s)\n", name.c_str(), k.compile_info().arch.c_str());
  std::printf("  cold: cache %s, NVRTC %.1f ms, code generation %.1f ms, compile() total %.1f ms\n",
              k.compile_info().cache_hit ? "HIT (unexpected)" : "miss", k.compile_info().jit_ms, k.compile_info().codegen_ms, total);
  std::fflush(stdout);
  const std::string cmd = detail::cat("TILESCALE_BENCH_CHILD=1 '", self_path, "' bench ", name, " --compile");
  if (std::system(cmd.c_str()) != 0) std::printf("  new process: failed (%s)\n", cmd.c_str());
  std::filesystem::remove_all(dir);
}

void nvshmem_compile_times() {
  const auto dir = std::filesystem::temp_directory_path() / detail::cat("tilescale-bench-nvshmem-cache-", ::getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  ::setenv("TILESCALE_CACHE_DIR", dir.c_str(), 1);
  std::printf("cold compiles of kernels that call NVSHMEM (target nvshmem), fresh cache\n");
  for (const auto& ex : examples::distributed_examples()) {
    const int ranks = ex.unsupported(ex.default_sizes, 2).empty() ? 2 : 4;
    for (const auto& func : ex.build(ex.default_sizes, ranks)) {
      if (!ops::uses_nvshmem_builtins(func.node()->body)) continue;
      const auto start = std::chrono::steady_clock::now();
      const Kernel k = compile(func, Target::NVSHMEM);
      const double total = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
      const CompileInfo& info = k.compile_info();
      std::printf("  %-28s %s: JIT %7.1f ms, compile() total %7.1f ms%s\n", func.name().c_str(), info.arch.c_str(), info.jit_ms,
                  total, info.compiled_nvshmem_wrappers ? " (includes the wrappers, once per NVSHMEM and arch)" : "");
    }
  }
  std::filesystem::remove_all(dir);
}

}  // namespace tilescale::bench
