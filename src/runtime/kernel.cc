// compile() and Kernel: the pipeline for the chosen target, then a backend executable.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <list>
#include <map>
#include <mutex>
#include <optional>

#include "codegen/cpu/executor.h"
#include "codegen/cuda/codegen.h"
#include "ir/equality.h"
#include "ir/printer.h"
#include "jit/cache.h"
#include "jit/nvrtc.h"
#include "jit/nvshmem.h"
#include "jit/nvshmem_installation.h"
#include "ops/builtin.h"
#include "ops/tile_op.h"
#include "pipeline.h"
#include "runtime/arguments.h"
#include "runtime/cuda/driver.h"
#include "runtime/cuda/module.h"
#include "runtime/dist/gpu_transport.h"
#include "support/env.h"
#include "tilescale/runtime.h"

namespace tilescale {

using tilescale::detail::cat;

const char* name(Target t) {
  switch (t) {
    case Target::Auto: return "auto";
    case Target::CPU: return "cpu";
    case Target::CUDA: return "cuda";
    case Target::NVSHMEM: return "nvshmem";
  }
  return "?";
}

Target parse_target(const std::string& s) {
  if (s == "auto") return Target::Auto;
  if (s == "cpu") return Target::CPU;
  if (s == "cuda") return Target::CUDA;
  if (s == "nvshmem") return Target::NVSHMEM;
  throw CompileError(cat("cannot compile for target '", s, "' because it is unknown; use auto, cpu, cuda or nvshmem"));
}

std::string why_not_cuda() {
  if (std::string why = cuda::cuda_unavailable_reason(); !why.empty()) return why;
  if (jit::default_backend() == jit::Backend::NVRTC) return jit::nvrtc_unavailable_reason();
  return "";
}

namespace {

// The code generator's target for `arch`; TILESCALE_TMA=0 compiles every kernel without TMA loads
// (the cp.async pipelines), for comparison.
cuda::Target cuda_target(const std::string& arch) {
  cuda::Target target = cuda::target_for_arch(arch);
  target.tma = env_switch("TILESCALE_TMA", true);
  return target;
}

// TILESCALE_CHECK_THREAD_LEVEL=1 (a test switch): every CPU compile also generates the program's
// CUDA for sm_90a (no GPU needed) and checks that both backends took the same thread-level
// decisions (ops/thread_level.h); a disagreement is an InternalError.
bool checking_thread_level() { return env_switch("TILESCALE_CHECK_THREAD_LEVEL", false); }

void check_thread_level_agreement(const lang::PrimFunc& func, const ops::ThreadLevelLog& cpu_log) {
  ops::ThreadLevelLog cuda_log;
  try {
    cuda::generate(run_pipeline(func.node(), PipelineOptions{Target::CUDA, "", 90}), cuda::target_for_arch("sm_90a"), &cuda_log);
  } catch (const CompileError&) {
    return;  // a program the CUDA backend refuses has no CUDA decisions to compare
  }
  if (std::string why = ops::disagreement(cpu_log, cuda_log); !why.empty())
    throw InternalError(cat("the backends disagree on which statements of ", func.name(), " run per thread: ", why));
}

cuda::KernelSpec generate(const lang::PrimFunc& func, const std::string& arch) {
  const cuda::Target target = cuda_target(arch);
  return cuda::generate(run_pipeline(func.node(), PipelineOptions{Target::CUDA, "", target.sm, target.tma}), target);
}
}  // namespace

std::string generate_cuda(const lang::PrimFunc& func, const std::string& arch) {
  try {
    return generate(func, arch).source;
  } catch (...) {
    detail::rethrow_as_error(cat("generate CUDA for ", func.name()));
  }
}

std::string generate_ptx(const lang::PrimFunc& func, const std::string& arch) {
  try {
    const auto spec = generate(func, arch);
    std::string virt = arch;
    virt.replace(0, 2, "compute");
    return jit::ptx_for(spec.source, virt);
  } catch (...) {
    detail::rethrow_as_error(cat("generate PTX for ", func.name()));
  }
}

// The cubin of `spec`: relocatable code linked with NVSHMEM's device library when it calls NVSHMEM.
jit::JitResult build(const cuda::KernelSpec& spec, const std::string& arch, const std::vector<std::string>& options) {
  const jit::JitRequest req{spec.name, spec.source, arch, options};
  return spec.nvshmem ? jit::compile_nvshmem_cached(req) : jit::compile_cached(req);
}

struct Kernel::Impl {
  ir::PrimFunc source;  // the program as written, for the cp.async variant's own pipeline run
  ir::PrimFunc lowered;
  Target target;
  std::string target_reason;
  std::shared_ptr<const cpu::Executable> cpu;
  cuda::KernelSpec spec;
  CompileInfo info;
  // A CUDA kernel: its binary (loaded on device 0 by compile, on other devices when first called
  // there) and, for a kernel that loads tiles by TMA, its cp.async variant, built on first need,
  // for arguments whose tensor maps cannot be built (strides that are not multiples of 16 bytes).
  struct Binary {
    cuda::KernelSpec spec;
    std::vector<char> cubin;
    std::map<int, std::shared_ptr<const cuda::LoadedKernel>> loaded;  // by device
  };
  cuda::Target gpu_target;
  std::vector<std::string> compiler_options;
  std::vector<bool> written;  // per parameter: the kernel writes it (ops::written_buffers)
  std::vector<ir::Expr> grid;  // the T::Kernel grid (runtime::kernel_grid), checked before each run
  mutable std::mutex mu;      // guards the binaries' loaded kernels and the fallback
  mutable Binary binary;
  mutable std::unique_ptr<Binary> fallback;

  const cuda::LoadedKernel& kernel_for(const std::vector<Arg>& args, int device) const {
    std::lock_guard<std::mutex> lock(mu);
    std::string why;
    if (loaded(binary, device).tensor_maps_buildable(args, why)) return loaded(binary, device);
    if (!fallback) {
      // TMA loads and stores are the passes' decisions (plan_warp_specialization, plan_tma_stores):
      // the variant runs the pipeline without them.
      cuda::Target without_tma = gpu_target;
      without_tma.tma = false;
      cuda::KernelSpec s = cuda::generate(run_pipeline(source, PipelineOptions{Target::CUDA, "", without_tma.sm, false}), without_tma);
      std::vector<char> cubin = build(s, info.arch, compiler_options).cubin;
      fallback = std::make_unique<Binary>(Binary{std::move(s), std::move(cubin), {}});
      std::fprintf(stderr, "tilescale: %s runs without TMA for these arguments because %s (TMA needs strides that are multiples of 16 bytes)\n",
                   fallback->spec.name.c_str(), why.c_str());
    }
    return loaded(*fallback, device);
  }

 private:
  static const cuda::LoadedKernel& loaded(Binary& b, int device) {
    auto& k = b.loaded[device];
    if (!k) k = cuda::LoadedKernel::load(b.spec, b.cubin, device);
    return *k;
  }
};

const std::string& Kernel::name() const { return impl_->lowered->name; }
Target Kernel::target() const { return impl_->target; }
bool Kernel::distributed() const { return impl_->target != Target::CPU && impl_->spec.distributed; }
const std::string& Kernel::target_reason() const { return impl_->target_reason; }
std::string Kernel::lowered_ir() const { return ir::print(impl_->lowered); }
const std::string& Kernel::cuda_source() const { return impl_->spec.source; }
const CompileInfo& Kernel::compile_info() const { return impl_->info; }

std::vector<ParamInfo> Kernel::params() const {
  std::vector<ParamInfo> out;
  for (const auto& p : impl_->lowered->params) {
    ParamInfo info{p.name(), {}, p.dtype(), p.scalar != nullptr};
    if (p.tensor)
      for (const auto& d : p.tensor->shape) info.shape.push_back(ir::as_const_int(d).value_or(-1));
    out.push_back(std::move(info));
  }
  return out;
}

void Kernel::call(const std::vector<Tensor>& args, void* stream) const {
  call(std::vector<Arg>(args.begin(), args.end()), stream);
}

namespace {

// After a distributed kernel is launched on a stream other than its rank's: the rank's stream waits
// for it, so that whatever waits for the rank's stream (World::barrier, the end of World::run) also
// waits for the kernel.
void join_rank_stream(const dist::LaunchRank& rank, CUstream stream) {
  struct Event {  // one per rank thread, made in its device's primary context
    CUevent event = nullptr;
    int device = -1;
    ~Event() {
      if (event) cuda::driver().EventDestroy(event);
    }
  };
  thread_local Event e;
  if (e.device != rank.device) {
    if (e.event) TS_CU(EventDestroy, e.event);
    e.event = nullptr;
    TS_CU(EventCreate, &e.event, CU_EVENT_DISABLE_TIMING);
    e.device = rank.device;
  }
  TS_CU(EventRecord, e.event, stream);
  TS_CU(StreamWaitEvent, rank.stream, e.event, 0);
}

// The device of the first CUDA tensor among `args`; 0 without one.
int cuda_device_of(const std::vector<Arg>& args) {
  for (const Arg& a : args)
    if (a.kind() == Arg::Kind::Tensor && a.tensor().defined() && a.tensor().device().kind == Device::Kind::CUDA)
      return a.tensor().device().index;
  return 0;
}

}  // namespace

void Kernel::call(const std::vector<Arg>& args, void* stream) const {
  try {
    const bool cpu = impl_->target == Target::CPU;
    const dist::LaunchRank* rank = nullptr;
    if (distributed()) {
      rank = dist::current_launch_rank();
      if (!rank)
        throw RuntimeError(cat("cannot call distributed kernel ", name(), " here because it runs as a rank of a GPU "
                               "world; call it from the code that World::run runs for each rank of a local, ipc or "
                               "nvshmem world (tilescale/dist.h)"));
      if (impl_->spec.nvshmem && rank->target != Target::NVSHMEM)
        throw RuntimeError(cat("cannot call kernel ", name(), " on rank ", rank->rank, " because it calls NVSHMEM (compiled "
                               "for target nvshmem) and this world is not an nvshmem world; compile it for "
                               "world.target() (or Target::Auto inside World::run)"));
    }
    const int device = rank ? rank->device : cuda_device_of(args);
    const runtime::Bindings b =
        runtime::check_arguments(*impl_->lowered, args, cpu ? Device::cpu() : Device::cuda(device), impl_->written);
    runtime::check_grid(name(), impl_->grid, b);
    if (cpu) return impl_->cpu->run(args);
    const cuda::LoadedKernel& k = impl_->kernel_for(args, device);
    if (!rank) return k.launch(args, b, static_cast<CUstream>(stream));
    const CUstream on = stream ? static_cast<CUstream>(stream) : rank->stream;
    k.launch(args, b, on, &rank->context, rank->ranks_sharing_device);
    if (on != rank->stream) join_rank_stream(*rank, on);
  } catch (...) {
    detail::rethrow_as_error(cat("call kernel ", name()));
  }
}

namespace {

std::vector<bool> written_params(const ir::PrimFuncNode& f) {
  const auto written = ops::written_buffers(f.body);
  std::vector<bool> out;
  for (const auto& p : f.params) out.push_back(written.count(p.tensor.get()) > 0);
  return out;
}

// The concrete target `asked` resolves to for a kernel (distributed or not), and why.
std::pair<Target, std::string> resolve_target(Target asked, bool distributed) {
  if (asked != Target::Auto) return {asked, "asked for"};
  if (const char* env = std::getenv("TILESCALE_TARGET"); env && *env) {
    const std::string value = env;
    if (value != "cpu" && value != "cuda" && value != "nvshmem")
      throw CompileError(cat("cannot use TILESCALE_TARGET=", value, " because it is not a target; use cpu, cuda or nvshmem, "
                             "or unset it to let auto choose"));
    return {parse_target(value), cat("TILESCALE_TARGET=", value)};
  }
  if (const dist::LaunchRank* rank = dist::current_launch_rank())
    return {rank->target, "auto chose it (the target of the calling rank's world)"};
  if (distributed)
    return {Target::CPU, "auto chose it (a distributed kernel compiled outside World::run of a GPU world: the sim "
                         "transport's; compile for world.target() to run it on a GPU world)"};
  if (std::string why = why_not_cuda(); !why.empty()) return {Target::CPU, cat("auto chose it (", why, ")")};
  return {Target::CUDA, cat("auto chose it (a CUDA device and ", jit::name(jit::default_backend()), " are present)")};
}

// How a kernel of `body` is built for `target` on `arch`.
std::string build_route(const ir::Stmt& body, Target target, const std::string& arch) {
  if (target == Target::CPU) return "the CPU backend";
  const std::string compiler = cat(jit::default_backend() == jit::Backend::NVCC ? "nvcc" : "NVRTC");
  if (target == Target::CUDA) return cat(compiler, " for ", arch);
  if (!ops::uses_nvshmem_builtins(body)) return cat(compiler, " for ", arch, " (it has no NVSHMEM-level builtins: nothing to link)");
  const jit::NvshmemSearch& nvshmem = jit::find_nvshmem();
  const std::string library = nvshmem.installation ? cat("NVSHMEM ", nvshmem.installation->version, "'s") : "NVSHMEM's";
  std::string route = cat(compiler, " (relocatable, against tilescale's NVSHMEM wrappers) + nvJitLink with ", library,
                          " device library for ", arch, ", nvshmemx_cumodule_init when loaded");
  if (const std::string why = jit::nvshmem_unavailable_reason(); !why.empty()) route += cat(" (cannot here: ", why, ")");
  return route;
}

// `func` compiled for `target` (resolve_target's, with its `reason`).
Kernel compile_unguarded(const lang::PrimFunc& func, const CompileOptions& options, Target target, const std::string& reason) {
  auto impl = std::make_shared<Kernel::Impl>();
  impl->target = target;
  if (target == Target::CPU) {
    impl->lowered = run_pipeline(func.node(), PipelineOptions{target, ""});
    impl->written = written_params(*impl->lowered);
    impl->grid = runtime::kernel_grid(*impl->lowered);
    const bool check = checking_thread_level();
    ops::ThreadLevelLog log;
    impl->cpu = cpu::Executable::build(impl->lowered, check ? &log : nullptr);
    if (check) check_thread_level_agreement(func, log);
    impl->target_reason = cat(name(target), ": ", reason, "; ", build_route(func.node()->body, target, ""));
    return Kernel(impl);
  }
  const std::string why = why_not_cuda();
  if (!why.empty())
    throw CompileError(cat("cannot compile ", func.name(), " for target ", name(target), " because ", why,
                           "; use target cpu (or auto)"));
  const std::string arch = cuda::arch_for_device(0);
  cuda::Target gpu = cuda_target(arch);
  gpu.nvshmem_calls = target == Target::NVSHMEM;
  impl->source = func.node();
  impl->lowered = run_pipeline(func.node(), PipelineOptions{Target::CUDA, "", gpu.sm, gpu.tma});
  impl->written = written_params(*impl->lowered);
  impl->grid = runtime::kernel_grid(*impl->lowered);
  const auto start = std::chrono::steady_clock::now();
  impl->spec = cuda::generate(impl->lowered, gpu);
  const double codegen_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  const jit::JitResult bin = build(impl->spec, arch, options.compiler_options);
  impl->binary = Kernel::Impl::Binary{impl->spec, bin.cubin, {}};
  // A kernel that calls NVSHMEM loads on its rank's device when first called there: its module
  // needs NVSHMEM initialised (nvshmemx_cumodule_init).
  if (!impl->spec.nvshmem) impl->binary.loaded[0] = cuda::LoadedKernel::load(impl->spec, bin.cubin, 0);
  impl->info = CompileInfo{arch, codegen_ms, bin.compile_ms, bin.cache_hit, bin.cache_path, bin.compiled_wrappers};
  impl->gpu_target = gpu;
  impl->compiler_options = options.compiler_options;
  impl->target_reason = cat(name(target), ": ", reason, "; ", build_route(func.node()->body, target, arch));
  return Kernel(impl);
}

}  // namespace

std::string explain_target(const lang::PrimFunc& func, Target asked, const std::string& arch) {
  try {
    const auto [target, reason] = resolve_target(asked, ops::uses_builtins(func.node()->body));
    return cat(name(target), ": ", reason, "; ", build_route(func.node()->body, target, arch));
  } catch (...) {
    detail::rethrow_as_error(cat("explain the target of ", func.name()));
  }
}

namespace {

// Kernels compiled in this process, by what decides the result: the program as printed (checked
// with structural_equal, so a printer that omitted something could not make two programs share an
// entry), the resolved target, the compiler options and the switches the code generator and JIT
// read. At most kCompiledKernels, the least recently used dropped first.
class CompiledKernels {
 public:
  static constexpr std::size_t kCompiledKernels = 256;

  std::optional<Kernel> find(const std::string& key, const lang::PrimFunc& func) {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = entries_.begin(); it != entries_.end(); ++it)
      if (it->key == key && ir::structural_equal(it->func.node(), func.node())) {
        entries_.splice(entries_.begin(), entries_, it);
        return entries_.front().kernel;
      }
    return std::nullopt;
  }

  void add(std::string key, const lang::PrimFunc& func, const Kernel& kernel) {
    std::lock_guard<std::mutex> lock(mu_);
    entries_.push_front(Entry{std::move(key), func, kernel});
    if (entries_.size() > kCompiledKernels) entries_.pop_back();
  }

 private:
  struct Entry {
    std::string key;
    lang::PrimFunc func;
    Kernel kernel;
  };
  std::mutex mu_;
  std::list<Entry> entries_;
};

CompiledKernels& compiled_kernels() {
  static CompiledKernels* cache = new CompiledKernels();  // used until exit, by any thread
  return *cache;
}

std::string memo_key(const lang::PrimFunc& func, const CompileOptions& options, Target target, const std::string& reason) {
  std::string key = cat(name(target), "\n", reason, "\n", env_switch("TILESCALE_TMA", true), checking_thread_level(), "\n",
                        jit::name(jit::default_backend()), "\n");
  for (const auto& o : options.compiler_options) key += o + "\n";
  return key + ir::print(func.node());
}

}  // namespace

Kernel compile(const lang::PrimFunc& func, const CompileOptions& options) {
  try {
    const auto [target, reason] = resolve_target(options.target, ops::uses_builtins(func.node()->body));
    const std::string key = memo_key(func, options, target, reason);
    if (std::optional<Kernel> k = compiled_kernels().find(key, func)) return *k;
    Kernel k = compile_unguarded(func, options, target, reason);
    compiled_kernels().add(key, func, k);
    return k;
  } catch (...) {
    detail::rethrow_as_error(cat("compile ", func.name()));
  }
}

}  // namespace tilescale
