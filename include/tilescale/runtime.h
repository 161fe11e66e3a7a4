// Compiling tile programs and calling them.
//
//   tilescale::Kernel k = tilescale::compile(func, tilescale::Target::Auto);
//   k(A, B, C);                       // tensors in the order of the prim_func's parameters
//   k(A, B, 100, 0.5f);               // a kernel that also takes scalars (T::ScalarParam)
//
// compile runs the pass pipeline (src/pipeline.cc) for the target and returns a callable kernel.
// A call checks every argument against the signature (count, a tensor for each tensor parameter and
// a number for each scalar one; tensors: dtype, rank, shape, symbolic dimensions bound consistently
// and fitting their type, device, no stride 0 in a tensor the kernel writes; scalars: the kind and
// range of the declared type) and the grid the arguments give (no negative extent), and raises
// RuntimeError naming the parameter or grid dimension before anything runs, the same on every
// backend.
//
// compile, a call, generate_cuda and generate_ptx raise only tilescale::Error (errors.h): what the
// environment throws (out of memory, a failed file operation) arrives as a RuntimeError saying what
// was being done (detail::rethrow_as_error).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "tilescale/lang.h"
#include "tilescale/tensor.h"

namespace tilescale {

enum class Target {
  Auto,     // On the thread of a rank inside World::run of a GPU world: that world's target
            // (world.target()). Elsewhere CUDA when a CUDA device and backend are available, else
            // the CPU backend; the CPU backend for distributed kernels. TILESCALE_TARGET (cpu, cuda
            // or nvshmem) overrides this choice; an explicit target overrides TILESCALE_TARGET.
  CPU,      // the reference executor
  CUDA,     // NVRTC (nvcc with TILESCALE_JIT=nvcc); distributed kernels run on the ranks of local,
            // ipc and nvshmem worlds, their NVSHMEM-level builtins by tilescale's own implementation
            // over the mapped peer heaps (device/tilescale/dist_shmem.h)
  NVSHMEM,  // CUDA whose NVSHMEM-level builtins are NVSHMEM's device calls: relocatable code linked
            // with NVSHMEM's device library by nvJitLink; a kernel that calls NVSHMEM runs only on
            // the ranks of an nvshmem world (one without NVSHMEM-level builtins is a CUDA kernel)
};
const char* name(Target t);
Target parse_target(const std::string& s);  // "auto", "cpu", "cuda", "nvshmem"; CompileError otherwise

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
  // A kernel that calls NVSHMEM (Target::NVSHMEM): jit_ms includes compiling tilescale's NVSHMEM
  // wrappers, which happens once per NVSHMEM and arch (then cached).
  bool compiled_nvshmem_wrappers = false;
};

// A parameter of a compiled kernel: a tensor (symbolic dimensions have extent -1) or a scalar
// (T::ScalarParam: int32, int64 or float32, no shape).
struct ParamInfo {
  std::string name;
  std::vector<std::int64_t> shape;
  DataType dtype;
  bool scalar = false;
};

// One argument of a call: a Tensor for a tensor parameter, a number for a scalar parameter. C++
// numbers convert implicitly, so a call reads k(A, B, n, 0.5f). The value is checked against the
// parameter when the kernel is called (RuntimeError naming it): an integer for int32 and int64, in
// the type's range; for float32 a floating-point value (rounded to float32; a finite one beyond
// float32's range is refused) or an integer that float32 holds exactly.
class Arg {
 public:
  enum class Kind { Tensor, Int, Float };
  Arg(Tensor t) : kind_(Kind::Tensor), tensor_(std::move(t)) {}  // NOLINT
  template <typename I, std::enable_if_t<std::is_integral_v<I> && !std::is_same_v<I, bool>, int> = 0>
  Arg(I v) : kind_(Kind::Int), int_(static_cast<std::int64_t>(v)), above_int64_(std::is_unsigned_v<I> && int_ < 0) {}  // NOLINT
  Arg(float v) : kind_(Kind::Float), float_(v) {}   // NOLINT
  Arg(double v) : kind_(Kind::Float), float_(v) {}  // NOLINT

  Kind kind() const { return kind_; }
  const Tensor& tensor() const { return tensor_; }      // Kind::Tensor
  std::int64_t int_value() const { return int_; }       // Kind::Int (see above_int64)
  bool above_int64() const { return above_int64_; }     // an unsigned value beyond 2^63 - 1
  double float_value() const { return float_; }         // Kind::Float
  std::string describe() const;  // "float16[256, 128] on cpu", "the integer 7", "the float 0.5"

 private:
  Kind kind_;
  Tensor tensor_;
  std::int64_t int_ = 0;
  bool above_int64_ = false;
  double float_ = 0;
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
  // The target it was compiled for, why, and how it was built: explain_target's text.
  const std::string& target_reason() const;
  std::vector<ParamInfo> params() const;
  const CompileInfo& compile_info() const;
  // Whether it is a distributed CUDA kernel: one that runs as a rank of a GPU world (see call).
  bool distributed() const;

  // Runs the kernel; on CUDA it is launched on `stream` (a CUstream of the device's primary context;
  // null: the default stream, or for a distributed kernel the calling rank's stream) and returns
  // without waiting for it. A CUDA kernel runs on the device of its first CUDA tensor argument
  // (device 0 without one; every tensor must be there). A distributed CUDA kernel runs as the rank
  // whose code calls it, on the rank's device (inside World::run of a GPU world; RuntimeError
  // elsewhere, and for a kernel that calls NVSHMEM on a world that is not nvshmem); launched on
  // another stream than the rank's, it is joined to the rank's stream, so World::barrier waits for it.
  void call(const std::vector<Arg>& args, void* stream = nullptr) const;
  void call(std::initializer_list<Arg> args, void* stream = nullptr) const { call(std::vector<Arg>(args), stream); }
  void call(const std::vector<Tensor>& args, void* stream = nullptr) const;  // a tensor-only call
  template <typename... Args>
  void operator()(const Args&... args) const {
    call(std::vector<Arg>{Arg(args)...});
  }

 private:
  std::shared_ptr<const Impl> impl_;
};

struct CompileOptions {
  Target target = Target::Auto;
  std::vector<std::string> compiler_options = {};  // extra NVRTC/nvcc options, e.g. "--use_fast_math"
};
// Compiling a program again in the same process (the same program, structurally, for the same
// resolved target, options and switches) returns the kernel compiled the first time, without
// running the pipeline (the last 256 are kept); a new process finds the binary in the disk cache.
Kernel compile(const lang::PrimFunc& func, const CompileOptions& options = {});
inline Kernel compile(const lang::PrimFunc& func, Target target) { return compile(func, CompileOptions{target}); }

// What compile(func, asked) takes, without compiling: the target, why, and how the kernel is built
// for `arch`, e.g.
//   nvshmem: auto chose it (the target of the calling rank's world); NVRTC (relocatable, against
//   tilescale's NVSHMEM wrappers) + nvJitLink with NVSHMEM 3.4.5's device library for sm_90a,
//   nvshmemx_cumodule_init when loaded
//   cpu: auto chose it (libcuda.so.1 could not be loaded ...); the CPU backend
// CompileError for a TILESCALE_TARGET that is not a target. `tilescale dump <example> --info`.
std::string explain_target(const lang::PrimFunc& func, Target asked, const std::string& arch);

// The CUDA C++ tilescale generates for `func` for `arch` ("sm_80", "sm_90a"), and the PTX NVRTC makes
// of it. Neither needs a GPU. TILESCALE_TMA=0 applies as it does to compile().
std::string generate_cuda(const lang::PrimFunc& func, const std::string& arch);
std::string generate_ptx(const lang::PrimFunc& func, const std::string& arch);

}  // namespace tilescale
