// The `tilescale` command-line program: list the examples, run one against its C++ reference,
// print its IR before or after any pass of the pipeline, or say what this machine offers (doctor).
//
// Exit codes: 0 success, 1 a failed check, a user error (CompileError, RuntimeError) or a failure of
// the environment (out of memory, a file that cannot be written), 2 a bad command line or a target
// this build cannot run, 3 an internal error. Nothing escapes main: every failure is one of these.
#include <cerrno>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "distributed/distributed_example.h"
#include "example.h"
#include "codegen/cuda/codegen.h"
#include "ir/printer.h"
#include "jit/nvrtc.h"
#include "jit/nvshmem.h"
#include "jit/nvshmem_installation.h"
#include "launch.h"
#include "ops/thread_level.h"
#include "support/env.h"
#include "pipeline.h"
#include "support/checked.h"
#include "runtime/cuda/driver.h"
#include "runtime/dist/launch_env.h"
#include "tilescale/tilescale.h"
#ifdef TILESCALE_HAVE_BENCH
#include "bench.h"
#endif

namespace ts = tilescale;
namespace ex = tilescale::examples;

namespace {

constexpr int kExitFail = 1, kExitUsage = 2, kExitInternal = 3;

// A command-line mistake: printed with a pointer to --help, exit 2.
struct UsageError {
  std::string message;
};

std::string join(const std::vector<std::string>& items, const char* sep = ", ") {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : sep) + s;
  return out;
}

std::string example_names() {
  std::vector<std::string> names;
  for (const auto& e : ex::all_examples()) names.push_back(e.name);
  for (const auto& e : ex::distributed_examples()) names.push_back(e.name);
  return join(names);
}

void print_usage(std::FILE* out) {
  std::fprintf(out,
               "tilescale: a tile language and compiler for GPU kernels\n"
               "\n"
               "usage:\n"
               "  tilescale list\n"
               "      list the examples\n"
               "  tilescale run <example> [--target auto|cpu|cuda|nvshmem] [--size SPEC] [--seed N] [--ranks N]\n"
               "                [--transport sim|local|ipc|nvshmem]\n"
               "      build and compile the example, run it on random inputs and compare with a\n"
               "      plain C++ reference; exit 1 when the error exceeds the tolerance. Distributed\n"
               "      examples run N ranks (default: the most their tests use) on the sim transport (CPU),\n"
               "      local (N ranks in this process on the GPUs: the default with a GPU), ipc (N\n"
               "      processes under tilescale launch) or nvshmem (N NVSHMEM PEs under tilescale launch;\n"
               "      the default for --target nvshmem)\n"
               "  tilescale dump <example> [--size SPEC] [--after PASS] [--target cpu|cuda] [--arch sm_80|sm_90a] [--ranks N]\n"
               "                 [--thread-level]\n"
               "      print the example's IR as built, or after pipeline pass PASS (every kernel of a\n"
               "      distributed example, built for N ranks); --thread-level marks the statements each\n"
               "      thread runs for itself (# per thread) and the branches and loops that diverge\n"
               "  tilescale dump <example> --cuda|--ptx [--arch sm_80|sm_90a] [--size SPEC]\n"
               "      print the CUDA C++ tilescale generates, or the PTX NVRTC makes of it (no GPU needed)\n"
               "  tilescale dump <example> --info [--target auto|cpu|cuda|nvshmem] [--arch sm_80|sm_90a]\n"
               "      say, for each kernel, the target compile takes, why, and how it is built\n"
               "  tilescale doctor\n"
               "      say what this machine offers, one line each: the CUDA driver and devices, NVRTC, and\n"
               "      NVSHMEM (where it was found, its version and libraries), or why each is unusable\n"
               "  tilescale launch -n N [--gpus G] <program> [args]   (or GPUS=N tilescale launch <program> [args])\n"
               "      run N processes of <program> as the ranks of one run (RANK, WORLD_SIZE, LOCAL_RANK,\n"
               "      MASTER_ADDR, MASTER_PORT set as torchrun does), output prefixed with the rank; when one\n"
               "      rank fails, stop the others and exit 1 naming it. --gpus G: rank r sees only GPU r %% G\n"
#ifdef TILESCALE_HAVE_BENCH
               "  tilescale bench <gemm|gemm_fp8|softmax|layernorm> [--size SPEC] [--knobs SPEC] [--quick] [--compile] [--tune]\n"
               "      time an example on the GPU against a peer (cuBLAS or cuBLASLt fp8, copy bandwidth); --tune autotunes\n"
               "      the gemm example's tile knobs first (tilescale/autotune.h): every shape of the sweep, or\n"
               "      the --size shape over a larger grid\n"
               "  tilescale bench gemm_types [--quick]\n"
               "      tf32 and int8 GEMM with operands stored K- or MN-major, against cuBLAS on the same storage\n"
               "  tilescale bench <allgather|all_to_all|allgather_gemm|gemm_rs|cannon|summa> [--ranks P] [--size SPEC] [--quick]\n"
               "      a distributed kernel on P ranks of this process (default: one per GPU, or 2 on one GPU)\n"
               "      against NCCL, cuBLAS + NCCL, or P x one GPU's cuBLAS; ranks sharing a GPU: correctness only\n"
               "  tilescale bench nvshmem_compile\n"
               "      cold compile times of the distributed examples' kernels for target nvshmem (fresh cache)\n"
               "  tilescale bench call_overhead\n"
               "      host time per call of a 3-tensor kernel against a raw cuLaunchKernel\n"
#endif
               "\n"
               "  SPEC is NAME=VALUE[,NAME=VALUE...] (e.g. M=256,N=128) or one number for every size.\n"
               "  --target auto (default) uses CUDA when a device and backend are present, else the CPU;\n"
               "  nvshmem is CUDA whose NVSHMEM-level builtins call NVSHMEM (ranks of an nvshmem world).\n"
               "\n"
               "passes (in order) for cpu:  %s\n"
               "passes (in order) for cuda: %s\n"
               "examples: %s\n"
               "\n"
               "environment:\n"
               "  TILESCALE_DUMP_IR=<dir>   write the IR after every pass that changed it into <dir>\n"
               "  TILESCALE_TIME_PASSES=1   print every pass's wall time to stderr\n",
               join(ts::pipeline_pass_names(ts::Target::CPU)).c_str(),
               join(ts::pipeline_pass_names(ts::Target::CUDA)).c_str(), example_names().c_str());
}

// The flags of one command: `--name value` or `--name=value`, each at most once.
struct Flags {
  std::string example;
  std::map<std::string, std::string> values;

  std::optional<std::string> get(const std::string& name) const {
    auto it = values.find(name);
    if (it == values.end()) return std::nullopt;
    return it->second;
  }
};

// `allowed` flags take a value (--size 512, --size=512); `switches` take none (--cuda).
Flags parse_flags(const std::string& command, const std::vector<std::string>& args,
                  const std::vector<std::string>& allowed, const std::vector<std::string>& switches = {}) {
  Flags flags;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.rfind("--", 0) != 0) {
      if (!flags.example.empty())
        throw UsageError{"unexpected argument '" + a + "' (the example is already '" + flags.example + "')"};
      flags.example = a;
      continue;
    }
    std::string name = a.substr(2), value;
    bool has_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    bool is_switch = false;
    for (const auto& k : switches) is_switch |= k == name;
    if (is_switch) {
      if (has_value) throw UsageError{"flag '--" + name + "' takes no value"};
      flags.values[name] = "1";
      continue;
    }
    bool known = false;
    for (const auto& k : allowed) known |= k == name;
    if (!known) {
      std::vector<std::string> dashed;
      for (const auto& k : allowed) dashed.push_back("--" + k);
      for (const auto& k : switches) dashed.push_back("--" + k);
      throw UsageError{"unknown flag '--" + name + "' for '" + command + "'; valid flags: " + join(dashed)};
    }
    if (!has_value) {
      if (i + 1 >= args.size()) throw UsageError{"flag '--" + name + "' needs a value"};
      value = args[++i];
    }
    if (flags.values.count(name)) throw UsageError{"flag '--" + name + "' given twice"};
    flags.values[name] = value;
  }
  if (flags.example.empty())
    throw UsageError{"'" + command + "' needs an example name; examples: " + example_names()};
  return flags;
}

const ex::Example& lookup_example(const std::string& name) {
  const ex::Example* e = ex::find_example(name);
  if (!e) throw UsageError{"unknown example '" + name + "'; examples: " + example_names()};
  return *e;
}

// --ranks of a distributed example: its largest test rank count by default, and one it supports.
int parse_ranks_flag(const Flags& flags, const ex::DistributedExample& example, const ex::Sizes& sizes) {
  int ranks = example.test_ranks.back();
  if (auto r = flags.get("ranks")) {
    const auto v = ts::parse_integer(*r, 1, ts::dist::kMaxRanks);
    if (!v)
      throw UsageError{"--ranks wants a number of ranks from 1 to " + std::to_string(ts::dist::kMaxRanks) + ", not '" + *r + "'"};
    ranks = static_cast<int>(*v);
  }
  if (std::string why = example.unsupported(sizes, ranks); !why.empty())
    throw UsageError{example.name + " cannot run with " + std::to_string(ranks) + (ranks == 1 ? " rank: " : " ranks: ") + why};
  return ranks;
}

ex::Sizes parse_distributed_sizes(const Flags& flags, const ex::DistributedExample& example) {
  try {
    return ex::parse_sizes(flags.get("size").value_or(""), example.default_sizes);
  } catch (const ts::RuntimeError& e) {
    throw UsageError{e.what()};
  }
}

std::uint64_t parse_seed_flag(const Flags& flags) {
  std::uint64_t seed = 0;
  if (auto s = flags.get("seed")) {
    char* end = nullptr;
    errno = 0;
    seed = std::strtoull(s->c_str(), &end, 10);
    if (s->empty() || *end != '\0' || (*s)[0] == '-' || errno == ERANGE)
      throw UsageError{"--seed wants a non-negative integer below 2^64, not '" + *s + "'"};
  }
  return seed;
}

// The transport of a distributed example: --transport sim (the CPU backend), local (N ranks in this
// process on its GPUs), ipc or nvshmem (N processes under tilescale launch); without it, sim for
// --target cpu, nvshmem for --target nvshmem, local for --target cuda, and for auto local when a
// CUDA device is usable, else sim.
std::string parse_transport_flag(const Flags& flags, const std::string& name) {
  const auto target = flags.get("target").value_or("auto");
  if (target != "auto" && target != "cpu" && target != "cuda" && target != "nvshmem")
    throw UsageError{"unknown target '" + target + "'; targets: auto, cpu, cuda, nvshmem"};
  const auto transport = flags.get("transport");
  if (!transport) {
    if (target == "nvshmem") return "nvshmem";
    return target == "cpu" || (target == "auto" && !ts::why_not_cuda().empty()) ? "sim" : "local";
  }
  if (*transport != "sim" && *transport != "local" && *transport != "ipc" && *transport != "nvshmem")
    throw UsageError{"unknown transport '" + *transport + "'; transports: sim, local, ipc, nvshmem"};
  if (*transport == "sim" && target != "cpu" && target != "auto")
    throw UsageError{"the sim transport runs " + name + " on the CPU backend; use --target cpu (or auto) with it, or --transport local, ipc or nvshmem"};
  if (*transport != "sim" && target == "cpu")
    throw UsageError{"the " + *transport + " transport runs " + name + " on GPUs; use --target cuda (or auto) with it, or --transport sim"};
  if (*transport != "nvshmem" && target == "nvshmem")
    throw UsageError{"--target nvshmem makes kernels that call NVSHMEM, which run on the nvshmem transport only; use --transport nvshmem (or drop it)"};
  if (*transport == "nvshmem" && target == "cuda")
    throw UsageError{"the nvshmem transport compiles " + name + " for target nvshmem; use --target nvshmem (or auto) with it"};
  return *transport;
}

// The world of a distributed example's run: RuntimeError when the transport cannot be set up;
// --transport ipc outside a launch environment runs this command again under `tilescale launch`.
int cmd_run_distributed(const Flags& flags, const ex::DistributedExample& example, const std::vector<std::string>& args,
                        const std::string& self) {
  const std::string transport = parse_transport_flag(flags, example.name);
  const ex::Sizes sizes = parse_distributed_sizes(flags, example);
  const int ranks = parse_ranks_flag(flags, example, sizes);
  const std::uint64_t seed = parse_seed_flag(flags);
  if (transport != "sim") {
    if (std::string why = ts::why_not_cuda(); !why.empty()) {
      std::fprintf(stderr, "error: cannot run %s on the %s transport because %s; use --target cpu (the sim transport)\n",
                   example.name.c_str(), transport.c_str(), why.c_str());
      return kExitUsage;
    }
  }
  if ((transport == "ipc" || transport == "nvshmem") && !ts::dist::launch_env()) {
    ts::launcher::Options o;
    o.ranks = ranks;
    o.command = {self, "run"};
    o.command.insert(o.command.end(), args.begin(), args.end());
    return ts::launcher::launch(o);
  }
  const auto start = std::chrono::steady_clock::now();
  const ts::dist::World world = transport == "sim"     ? ts::dist::World::sim(ranks)
                                : transport == "local" ? ts::dist::World::local(ranks)
                                : transport == "ipc"   ? ts::dist::World::from_env()
                                                       : ts::dist::World::nvshmem();
  if (world.size() != ranks)
    throw UsageError{"--ranks " + std::to_string(ranks) + " but the launch environment has " + std::to_string(world.size()) +
                     " ranks; give --ranks the launcher's number of ranks"};
  const ex::CheckResult result = ex::run_distributed_example(example.name, world, sizes, seed);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::string checked;
  if (transport == "ipc" || transport == "nvshmem") checked = " (rank " + std::to_string(world.local_ranks().front()) + "'s outputs)";
  std::printf("%s [%s] on %s with %d ranks%s: max relative error %.1e (tolerance %.1e) %s\n", example.name.c_str(),
              ex::format_sizes(sizes).c_str(), world.transport(), ranks, checked.c_str(), result.max_relative_error,
              result.tolerance, result.passed() ? "PASS" : "FAIL");
  std::printf("wall time %.3f s (build, compile, run on every rank and reference)\n", seconds);
  return result.passed() ? 0 : kExitFail;
}

ts::Target parse_target_flag(const Flags& flags, ts::Target fallback) {
  auto t = flags.get("target");
  if (!t) return fallback;
  if (*t == "auto") return ts::Target::Auto;
  if (*t == "cpu") return ts::Target::CPU;
  if (*t == "cuda") return ts::Target::CUDA;
  if (*t == "nvshmem") return ts::Target::NVSHMEM;
  throw UsageError{"unknown target '" + *t + "'; targets: auto, cpu, cuda, nvshmem"};
}

ex::Sizes parse_size_flag(const Flags& flags, const ex::Example& example) {
  try {
    return ex::parse_sizes(flags.get("size").value_or(""), example.default_sizes);
  } catch (const ts::RuntimeError& e) {
    throw UsageError{e.what()};
  }
}

int cmd_list() {
  std::size_t width = 0;
  for (const auto& e : ex::all_examples()) width = std::max(width, e.name.size());
  for (const auto& e : ex::distributed_examples()) width = std::max(width, e.name.size());
  for (const auto& e : ex::all_examples())
    std::printf("%-*s  %s\n", static_cast<int>(width), e.name.c_str(), e.description.c_str());
  std::printf("\ndistributed (tilescale run <name> --ranks N [--transport sim|local|ipc|nvshmem]):\n");
  for (const auto& e : ex::distributed_examples())
    std::printf("%-*s  %s\n", static_cast<int>(width), e.name.c_str(), e.description.c_str());
  return 0;
}

int cmd_doctor() {
  std::string cuda = ts::cuda::cuda_unavailable_reason();
  if (cuda.empty()) {
    std::vector<std::string> devices;
    for (int d = 0; d < ts::cuda::driver().device_count; ++d)
      devices.push_back(std::to_string(d) + " " + ts::cuda::device_name(d) + " (" + ts::cuda::arch_for_device(d) + ")");
    cuda = join(devices);
  } else {
    cuda = "unusable: " + cuda;
  }
  const std::string no_nvrtc = ts::jit::nvrtc_unavailable_reason();
  const std::string nvrtc = no_nvrtc.empty() ? ts::jit::nvrtc_version() : "unusable: " + no_nvrtc;
  const ts::jit::NvshmemSearch& search = ts::jit::find_nvshmem();
  std::string nvshmem = search.installation ? ts::jit::describe(*search.installation) : "not found: " + search.why_not;
  if (const std::string why = ts::jit::nvshmem_unavailable_reason(); search.installation && !why.empty())
    nvshmem += "; kernels that call it cannot compile because " + why;
  std::printf("CUDA: %s\nNVRTC: %s\nNVSHMEM: %s\n", cuda.c_str(), nvrtc.c_str(), nvshmem.c_str());
  return 0;
}

int cmd_run(const std::vector<std::string>& args, const std::string& self) {
  const Flags flags = parse_flags("run", args, {"target", "size", "seed", "ranks", "transport"});
  if (const auto* distributed = ex::find_distributed_example(flags.example))
    return cmd_run_distributed(flags, *distributed, args, self);
  if (flags.get("transport")) throw UsageError{"--transport applies to distributed examples; " + flags.example + " runs on one device"};
  const ex::Example& example = lookup_example(flags.example);
  if (flags.get("ranks")) throw UsageError{"--ranks applies to distributed examples; " + example.name + " runs on one device"};
  const ts::Target target = parse_target_flag(flags, ts::Target::Auto);
  const ex::Sizes sizes = parse_size_flag(flags, example);
  const std::uint64_t seed = parse_seed_flag(flags);

  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const ts::lang::PrimFunc func = example.build(sizes);
  std::optional<ts::Kernel> kernel;
  try {
    kernel = ts::compile(func, target);
  } catch (const ts::InternalError&) {
    throw;
  } catch (const ts::Error& e) {
    // An explicit --target cuda that this machine or build cannot serve is a command-line problem,
    // not a fault of the example.
    if (target != ts::Target::CUDA || ts::why_not_cuda().empty()) throw;
    std::fprintf(stderr, "error: %s\n", e.what());
    return kExitUsage;
  }
  if (target == ts::Target::Auto && kernel->target() == ts::Target::CPU)
    std::printf("note: running on the CPU backend; no CUDA device/backend: %s\n", ts::why_not_cuda().c_str());
  std::fflush(stdout);
  const auto compiled = Clock::now();
  const ex::CheckResult result = example.check(*kernel, sizes, seed);
  const auto done = Clock::now();
  auto seconds = [](auto d) { return std::chrono::duration<double>(d).count(); };

  std::printf("%s [%s] on %s: max relative error %.1e (tolerance %.1e) %s\n", example.name.c_str(),
              ex::format_sizes(sizes).c_str(), ts::name(kernel->target()), result.max_relative_error,
              result.tolerance, result.passed() ? "PASS" : "FAIL");
  std::printf("wall time %.3f s (build+compile %.3f s, run+reference %.3f s)\n", seconds(done - start),
              seconds(compiled - start), seconds(done - compiled));
  return result.passed() ? 0 : kExitFail;
}

// --arch, checked as the code generator would (an arch it does not generate for is a bad command line).
std::string parse_arch_flag(const Flags& flags, const std::string& fallback) {
  const auto arch = flags.get("arch");
  if (!arch) return fallback;
  try {
    ts::cuda::target_for_arch(*arch);
  } catch (const ts::CompileError& e) {
    throw UsageError{std::string("--arch ") + *arch + ": " + e.what()};
  }
  return *arch;
}

// `dump` prints one thing: the IR (as built, or --after a pass of the --target pipeline) or the
// generated --cuda or --ptx for --arch. A flag that would have no effect on what is printed is a
// usage error rather than silently dropped. `arch_planned`: --after runs the CUDA pipeline, which
// plans for the arch.
void check_dump_flags(const Flags& flags, bool arch_planned) {
  const bool cuda = flags.get("cuda").has_value(), ptx = flags.get("ptx").has_value();
  if (flags.get("info")) {
    for (const char* other : {"cuda", "ptx", "after", "thread-level"})
      if (flags.get(other))
        throw UsageError{std::string("--info says how each kernel is compiled; --") + other + " prints something else: give one of them"};
    return;
  }
  if (cuda && ptx) throw UsageError{"--cuda and --ptx ask for different outputs; give one of them"};
  const char* code = cuda ? "--cuda" : "--ptx";
  if ((cuda || ptx) && flags.get("after"))
    throw UsageError{std::string(code) + " prints the generated code, which comes after the whole pipeline; drop --after, "
                     "or drop " + code + " to print the IR after a pass"};
  if ((cuda || ptx) && flags.get("thread-level"))
    throw UsageError{std::string(code) + " prints the generated code; --thread-level marks the IR: give one of them"};
  if ((cuda || ptx) && flags.get("target"))
    throw UsageError{std::string(code) + " always generates CUDA (for --arch); drop --target"};
  if (!cuda && !ptx && !flags.get("after") && flags.get("target"))
    throw UsageError{"--target chooses the pipeline that --after stops in; without --after dump prints the IR as built, "
                     "the same for every target: add --after PASS or drop --target"};
  if (!cuda && !ptx && !arch_planned && flags.get("arch"))
    throw UsageError{"--arch applies to --cuda, --ptx and --after with --target cuda; what this prints does not depend on "
                     "it: drop --arch"};
}

// The IR, with the thread-level analysis's marks when --thread-level asks for them.
std::string print_ir(const Flags& flags, const ts::ir::PrimFunc& f) {
  return flags.get("thread-level") ? ts::ops::print_thread_level(f) : ts::ir::print(f);
}

// The IR of `func` after pipeline pass `after` for `target` (a bad pass name is a bad command line).
ts::ir::PrimFunc after_pass(ts::ir::PrimFunc func, const std::string& after, ts::Target target, const std::string& arch) {
  const auto names = ts::pipeline_pass_names(target);
  bool known = false;
  for (const auto& n : names) known |= n == after;
  if (!known) throw UsageError{"unknown pass '" + after + "' for target " + ts::name(target) + "; passes: " + join(names)};
  // The CUDA passes plan for the arch (wgmma on sm_90a) and, as compile does, for TMA unless TILESCALE_TMA=0.
  return ts::run_pipeline(func, ts::PipelineOptions{target, after, ts::cuda::target_for_arch(arch).sm, ts::env_switch("TILESCALE_TMA", true)});
}

// --target of dump: cpu by default; auto is cuda when a CUDA device is usable; nvshmem runs the
// CUDA pipeline (the targets differ in code generation only).
ts::Target dump_target(const Flags& flags) {
  const ts::Target target = parse_target_flag(flags, ts::Target::CPU);
  if (target == ts::Target::NVSHMEM) return ts::Target::CUDA;
  if (target != ts::Target::Auto) return target;
  return ts::why_not_cuda().empty() ? ts::Target::CUDA : ts::Target::CPU;
}

// The arch of generated code (none needs a GPU): the device's by default, else sm_90a.
std::string dump_arch(const Flags& flags) {
  return parse_arch_flag(flags, ts::why_not_cuda().empty() ? ts::cuda::arch_for_device(0) : "sm_90a");
}

// --info: each kernel's line of explain_target, for --target (auto by default).
void print_info(const Flags& flags, const ts::lang::PrimFunc& func, const std::string& arch) {
  const std::string explained = ts::explain_target(func, parse_target_flag(flags, ts::Target::Auto), arch);
  std::cout << func.name() << ": " << explained << "\n";
}

// Every kernel of a distributed example: its IR (after --after PASS), its CUDA / PTX, or --info.
int cmd_dump_distributed(const Flags& flags, const ex::DistributedExample& example) {
  const ts::Target target = dump_target(flags);
  check_dump_flags(flags, flags.get("after") && target == ts::Target::CUDA);
  const ex::Sizes sizes = parse_distributed_sizes(flags, example);
  const int ranks = parse_ranks_flag(flags, example, sizes);
  const std::string arch = dump_arch(flags);
  for (const auto& func : example.build(sizes, ranks)) {
    if (flags.get("info")) {
      print_info(flags, func, arch);
      continue;
    }
    if (flags.get("cuda") || flags.get("ptx")) {
      std::cout << (flags.get("ptx") ? ts::generate_ptx(func, arch) : ts::generate_cuda(func, arch));
      continue;
    }
    ts::ir::PrimFunc f = func.node();
    if (auto after = flags.get("after")) f = after_pass(f, *after, target, arch);
    std::cout << print_ir(flags, f);
  }
  std::cout << std::flush;
  return 0;
}

int cmd_dump(const std::vector<std::string>& args) {
  const Flags flags = parse_flags("dump", args, {"target", "size", "after", "arch", "ranks"}, {"cuda", "ptx", "thread-level", "info"});
  if (const auto* distributed = ex::find_distributed_example(flags.example)) return cmd_dump_distributed(flags, *distributed);
  const ex::Example& example = lookup_example(flags.example);
  if (flags.get("ranks")) throw UsageError{"--ranks applies to distributed examples; " + example.name + " runs on one device"};
  const ts::Target target = dump_target(flags);
  check_dump_flags(flags, flags.get("after") && target == ts::Target::CUDA);
  const ex::Sizes sizes = parse_size_flag(flags, example);
  const std::string arch = dump_arch(flags);
  if (flags.get("info")) {
    print_info(flags, example.build(sizes), arch);
    std::cout << std::flush;
    return 0;
  }
  if (flags.get("cuda") || flags.get("ptx")) {
    const auto func = example.build(sizes);
    std::cout << (flags.get("ptx") ? ts::generate_ptx(func, arch) : ts::generate_cuda(func, arch)) << std::flush;
    return 0;
  }
  ts::ir::PrimFunc func = example.build(sizes).node();
  if (auto after = flags.get("after")) func = after_pass(func, *after, target, arch);
  std::cout << print_ir(flags, func) << std::flush;
  return 0;
}

// tilescale launch [-n N] <program> [args...]: N from -n, else from GPUS.
int cmd_launch(const std::vector<std::string>& args) {
  ts::launcher::Options o;
  std::size_t i = 0;
  std::string n;
  if (!args.empty() && args[0] == "-n") {
    if (args.size() < 2) throw UsageError{"-n wants a number of ranks"};
    n = args[1];
    i = 2;
  } else if (const char* gpus = std::getenv("GPUS"); gpus && *gpus) {
    n = gpus;
  } else {
    throw UsageError{"launch needs the number of ranks: tilescale launch -n N <program> [args], or GPUS=N tilescale launch <program>"};
  }
  const auto ranks = ts::parse_integer(n, 1, ts::dist::kMaxRanks);
  if (!ranks)
    throw UsageError{"launch wants a number of ranks from 1 to " + std::to_string(ts::dist::kMaxRanks) + ", not '" + n + "'"};
  o.ranks = static_cast<int>(*ranks);
  if (i + 1 < args.size() && args[i] == "--gpus") {
    const char* visible = std::getenv("CUDA_VISIBLE_DEVICES");
    const std::string listed = visible ? visible : "";
    const int available = listed.empty() ? ts::dist::kMaxRanks : 1 + static_cast<int>(std::count(listed.begin(), listed.end(), ','));
    const auto gpus = ts::parse_integer(args[i + 1], 1, available);
    if (!gpus)
      throw UsageError{"--gpus wants a number of GPUs from 1 to " + std::to_string(available) +
                       (listed.empty() ? "" : " (the entries of CUDA_VISIBLE_DEVICES=" + listed + ")") + ", not '" + args[i + 1] + "'"};
    o.gpus = static_cast<int>(*gpus);
    i += 2;
  }
  o.command.assign(args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
  if (o.command.empty()) throw UsageError{"launch needs a program to run: tilescale launch -n N <program> [args]"};
  return ts::launcher::launch(o);
}

// This program's own path, for commands that start it again in a new process.
std::string self_path(const char* argv0) {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string(argv0) : p.string();
}

int dispatch(const std::vector<std::string>& args, const char* argv0) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    print_usage(args.empty() ? stderr : stdout);
    return args.empty() ? kExitUsage : 0;
  }
  const std::string& command = args[0];
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (command == "launch") return cmd_launch(rest);  // the program's own arguments may be --help
  for (const auto& a : rest)
    if (a == "--help" || a == "-h") {
      print_usage(stdout);
      return 0;
    }
  if (command == "list") {
    if (!rest.empty()) throw UsageError{"'list' takes no arguments"};
    return cmd_list();
  }
  if (command == "doctor") {
    if (!rest.empty()) throw UsageError{"'doctor' takes no arguments"};
    return cmd_doctor();
  }
  if (command == "run") return cmd_run(rest, self_path(argv0));
  if (command == "dump") return cmd_dump(rest);
#ifdef TILESCALE_HAVE_BENCH
  if (command == "bench") return ts::bench::bench_command(rest, self_path(argv0));
  throw UsageError{"unknown command '" + command + "'; commands: list, run, dump, doctor, launch, bench"};
#else
  (void)argv0;
  throw UsageError{"unknown command '" + command + "'; commands: list, run, dump, doctor, launch"};
#endif
}

}  // namespace

// dispatch, with whatever else it throws made a tilescale::Error (the environment's failures a
// RuntimeError, anything unexpected an InternalError), so that main reports every failure.
int run_command(const std::vector<std::string>& args, const char* argv0) {
  try {
    return dispatch(args, argv0);
  } catch (const UsageError&) {
    throw;
  } catch (...) {
    ts::detail::rethrow_as_error("run 'tilescale " + join(args, " ") + "'");
  }
}

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  try {
    return run_command(args, argv[0]);
  } catch (const UsageError& e) {
    std::fprintf(stderr, "error: %s\n(see tilescale --help)\n", e.message.c_str());
    return kExitUsage;
  } catch (const ts::InternalError& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "%s\n", e.what());  // its message opens with "internal error"
    return kExitInternal;
  } catch (const ts::Error& e) {  // CompileError, RuntimeError
    std::fflush(stdout);
    std::fprintf(stderr, "error: %s\n", e.what());
    return kExitFail;
  }
}
