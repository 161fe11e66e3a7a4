// Compiling generated CUDA C++ with NVRTC, loaded at run time.
//
//   jit::CompiledBinary b = jit::compile_nvrtc(spec.source, spec.name, "sm_90a", {});
//   // b.cubin: the SASS binary for cuModuleLoadData
//
// libnvrtc is opened with dlopen the first time it is needed (libnvrtc.so.13, .so.12, .so, then
// the same under $CUDA_HOME/lib64 and /usr/local/cuda/lib64), so the library builds and runs without
// it; the entry points are listed once, in nvrtc.cc. NVRTC needs no GPU: compile-only tests run
// anywhere it can be loaded.
//
// Every compilation gets: -std=c++17, -default-device (functions without an execution-space
// annotation are __device__), --gpu-architecture=<arch>, -I<toolkit include dir> (for cuda_fp16.h,
// cuda_bf16.h, cuda_fp8.h), then the caller's options in order (e.g. --use_fast_math, -lineinfo).
// The device headers (device_headers.h) are handed over in memory, so the source includes them as
// "tilescale/xxx.h".
//
// When NVRTC rejects the source, the source and the log (with the options) are saved under the
// cache directory (failed/<hash>.cu and .log, see cache.h) and CompileError says where:
//   NVRTC failed to compile kernel gemm for sm_90a; source and log saved to
//   /home/u/.cache/tilescale/failed/3fa….cu and …log:
//   <first lines of the log>
#pragma once

#include <string>
#include <vector>

#include "jit/device_headers.h"

namespace tilescale::jit {

struct CompiledBinary {
  std::vector<char> cubin;  // empty when `arch` was a virtual architecture ("compute_90a") or with -dlto
  std::vector<char> ltoir;  // with -dlto (and -rdc=true): the LTO IR that nvJitLink links (nvjitlink.h)
  std::string ptx;          // the PTX, when the compiler produced it (always for compute_XX)
  std::string log;          // warnings, if any
};

// Compiles `source` for `arch`: "sm_80", "sm_90a" (cubin, plus PTX where NVRTC keeps it) or
// "compute_90a" (PTX only); with the option -dlto, LTO IR instead of a cubin. `name` is the kernel's name, for messages. `extra_headers` are handed to
// NVRTC beside the embedded device headers (tests use them); the caller keeps them alive.
// CompileError when NVRTC rejects the source or cannot be loaded.
CompiledBinary compile_nvrtc(const std::string& source, const std::string& name, const std::string& arch,
                             const std::vector<std::string>& options,
                             const std::vector<EmbeddedHeader>& extra_headers = {});

// The PTX of `source` for `arch` (an "sm_XX[a]" is turned into "compute_XX[a]"), for
// `tilescale dump --ptx`.
std::string ptx_for(const std::string& source, const std::string& arch = "compute_90a");

// Why NVRTC cannot be used ("" when it can). Never throws.
std::string nvrtc_unavailable_reason();
// "13.0"; CompileError when NVRTC cannot be loaded.
std::string nvrtc_version();
// The exact build of NVRTC, for the cache key: the version and the loaded library file with its size
// and modification time, "libnvrtc 13.0 at /usr/local/cuda-13.0/lib64/libnvrtc.so.13.0.88 (… bytes,
// modified …)". CompileError when NVRTC cannot be loaded.
std::string nvrtc_identity();
// The CUDA toolkit's include directory ($CUDA_HOME/include, $CUDA_PATH/include,
// /usr/local/cuda/include: the first that has cuda_fp16.h), or "" when none is found.
std::string cuda_include_dir();

// The options every compilation of `arch` gets before the caller's own (see above); shared with
// the cache key so that a change here changes every key.
std::vector<std::string> base_nvrtc_options(const std::string& arch);

}  // namespace tilescale::jit
