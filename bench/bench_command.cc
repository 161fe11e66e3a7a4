#include <cstdio>

#include "bench.h"

namespace tilescale::bench {

int bench_command(const std::vector<std::string>& args, const std::string& self_path) {
  std::string example, size, knobs;
  bool quick = false, compile_only = false;
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
    else if (!a.empty() && a[0] == '-')
      throw RuntimeError(detail::cat("bench: unknown flag ", a, "; use --size, --knobs, --quick or --compile"));
    else if (example.empty()) example = a;
    else throw RuntimeError(detail::cat("bench: unexpected argument ", a));
  }
  if (example.empty()) throw RuntimeError("bench: name an example: gemm, softmax or layernorm");
  if (!why_not_cuda().empty()) {
    std::fprintf(stderr, "bench needs a CUDA device: %s\n", why_not_cuda().c_str());
    return 2;
  }
  if (compile_only) {
    compile_times(example, self_path);
    return 0;
  }
  if (example == "gemm") {
    print_table(detail::cat("GEMM (tilescale gemm example", knobs.empty() ? "" : ", " + knobs, ") vs cuBLAS"), "cuBLAS",
                gemm_sweep(knobs, quick));
    return 0;
  }
  if (example == "softmax" || example == "layernorm") {
    print_table(detail::cat(example, " vs device-to-device copy of the same bytes"), "copy", memory_bound(example, size));
    return 0;
  }
  throw RuntimeError(detail::cat("bench: no benchmark for ", example, "; use gemm, softmax or layernorm"));
}

}  // namespace tilescale::bench
