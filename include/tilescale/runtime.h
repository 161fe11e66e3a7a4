// Compiling tile programs and calling them.
//
//   tilescale::Kernel k = tilescale::compile(func, tilescale::Target::Auto);
//   k(A, B, C);                       // tensors in the order of the prim_func's parameters
//
// compile runs the pass pipeline (src/pipeline.cc) for the target and returns a callable kernel.
// A call checks every argument against the signature (count, dtype, rank, shape, symbolic
// dimensions bound consistently and fitting their type, device, no stride 0 in a tensor the kernel
// writes) and the grid the shapes give (no negative extent), and raises RuntimeError naming the
// parameter or grid dimension before anything runs, the same on every backend.
//
// compile, a call, generate_cuda and generate_ptx raise only tilescale::Error (errors.h): what the
// environment throws (out of memory, a failed file operation) arrives as a RuntimeError saying what
// was being done (detail::rethrow_as_error).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tilescale/lang.h"
#include "tilescale/tensor.h"

namespace tilescale {

enum class Target {
  Auto,  // CUDA when a CUDA device and backend are available, the CPU backend otherwise; the CPU
         // backend for distributed kernels (compile those for world.target(): tilescale/dist.h)
  CPU,   // the reference executor
  CUDA,
};
const char* name(Target t);
Target parse_target(const std::string& s);  // "auto", "cpu", "cuda"; CompileError otherwise

// Why Target::Auto resolves to the CPU backend here ("" when it resolves to CUDA).
std::string why_not_cuda();

// How a CUDA kernel was built (empty for the CPU backend).
struct CompileInfo {
  std::string arch;         // "sm_90a"
  double codegen_ms = 0;    // passes and code generation are in compile(); this is the generator
  double jit_ms = 0;        // NVRTC compile on a cache miss; on a hit, reading the cache entry (and
                            // waiting for another process or thread that was compiling it)
  bool cache_hit = false;
  std::string cache_path;   // the on-disk cache entry
};

// A parameter of a compiled kernel; symbolic dimensions have extent -1.
struct ParamInfo {
  std::string name;
  std::vector<std::int64_t> shape;
  DataType dtype;
};

class Kernel {
 public:
  struct Impl;
  explicit Kernel(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

  const std::string& name() const;
  Target target() const;
  // The program as the backend received it, after the pipeline.
  std::string lowered_ir() const;
  const std::string& cuda_source() const;  // "" for the CPU backend
  std::vector<ParamInfo> params() const;
  const CompileInfo& compile_info() const;

  // Runs the kernel; on CUDA it is launched on `stream` (a CUstream; null: the default stream, or
  // for a distributed kernel the calling rank's stream) and returns without waiting for it. A
  // distributed CUDA kernel runs as the rank whose code calls it (inside World::run of a local or
  // ipc world; RuntimeError elsewhere).
  void call(const std::vector<Tensor>& args, void* stream = nullptr) const;
  template <typename... Tensors>
  void operator()(const Tensors&... args) const {
    call(std::vector<Tensor>{args...});
  }

 private:
  std::shared_ptr<const Impl> impl_;
};

struct CompileOptions {
  Target target = Target::Auto;
  std::vector<std::string> compiler_options = {};  // extra NVRTC/nvcc options, e.g. "--use_fast_math"
};
Kernel compile(const lang::PrimFunc& func, const CompileOptions& options = {});
inline Kernel compile(const lang::PrimFunc& func, Target target) { return compile(func, CompileOptions{target}); }

// The CUDA C++ tilescale generates for `func` for `arch` ("sm_80", "sm_90a"), and the PTX NVRTC makes
// of it. Neither needs a GPU. TILESCALE_TMA=0 applies as it does to compile().
std::string generate_cuda(const lang::PrimFunc& func, const std::string& arch);
std::string generate_ptx(const lang::PrimFunc& func, const std::string& arch);

}  // namespace tilescale
