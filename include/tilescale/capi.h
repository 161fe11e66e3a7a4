// A C ABI over compiling and calling tile programs, for code that is not C++ (C, Rust, Go, Python
// through ctypes) in the same process, owning the memory and the stream.
//
// The programs are those registered by name (tilescale/programs.h): a C++ engine registers its own
// programs, and C code compiles one by name and sizes and calls it on bare pointers:
//
//   // C++, once (e.g. at start-up):
//   tilescale::register_program("scale", {{"N", 1024}}, build_scale);   // tilescale/programs.h
//   // C:
//   ts_kernel* k = ts_program_create("scale", "N=4096", "cpu");
//   if (!k) { fprintf(stderr, "%s\n", ts_last_error()); return 1; }
//   void* args[2] = {a, b};
//   if (ts_kernel_call(k, args, 2, NULL) != 0) fprintf(stderr, "%s\n", ts_last_error());
//   ts_kernel_destroy(k);
//
// A C++ engine can also hand a kernel it compiled itself to C code: tilescale::to_c_kernel below.
//
// Where the functions are. They are part of libtilescale (the installed package's
// tilescale::tilescale), with default visibility: a program that links it calls them from its C
// files, and an executable built with -rdynamic (CMake: ENABLE_EXPORTS) or a shared library that
// keeps them exported offers them to code it loads (the linker takes them from the static library
// only when something refers to one: -Wl,--undefined=ts_program_create does).
// libtilescale_capi.so (CMake target tilescale_capi, installed beside libtilescale.a) is the
// library ready for ctypes: it exports only the ts_* functions, and has every single-GPU built-in
// example ("gemm", "flash_attention"... as `tilescale list` names them) registered as a program
// when it is loaded. From Python:
//
//   lib = ctypes.CDLL("build/libtilescale_capi.so")
//   lib.ts_program_create.restype = ctypes.c_void_p
//   k = lib.ts_program_create(b"flash_attention", b"B=4,H=32,S=4096,D=128,causal=1,bf16=1", b"cuda")
//   if not k: raise RuntimeError(lib.ts_last_error().decode())
//   ptrs = (ctypes.c_void_p * 4)(q.data_ptr(), k_.data_ptr(), v.data_ptr(), o.data_ptr())
//   if lib.ts_kernel_call(k, ptrs, 4, torch.cuda.current_stream().cuda_stream) != 0: ...
//   lib.ts_kernel_destroy(k)
//
// What a call trusts. The kernel's parameters have the shapes and dtypes the program was built with
// (ts_kernel_param_*); ts_kernel_call wraps each pointer as a contiguous tensor of exactly that
// parameter's shape and dtype, on cuda:0 for a CUDA kernel and in host memory for a CPU one. It
// cannot see what the pointer really holds: the caller checks shapes, dtypes, contiguity and device
// before calling. A scalar parameter (ts_kernel_param_is_scalar) takes a pointer to its value in
// host memory, of the parameter's dtype: an int32_t for "int32", an int64_t for "int64", a float for
// "float32"; the value is read during the call, e.g. from Python
//   n = ctypes.c_int32(100); ptrs[3] = ctypes.cast(ctypes.pointer(n), ctypes.c_void_p)
// A CUDA kernel is launched on `stream` (a CUstream/cudaStream_t; null: the legacy default stream)
// in the device's primary context, the one the CUDA runtime (and so torch) uses,
// and the call returns without waiting for it.
//
// Errors never cross the ABI as exceptions: a function that fails returns null or non-zero and
// ts_last_error() says why (the message of the tilescale::CompileError, RuntimeError or
// InternalError behind it). The message is per thread and lasts until that thread's next call.
#pragma once

#include <stdint.h>

#if defined(__GNUC__)
#define TS_CAPI_EXPORT __attribute__((visibility("default")))
#else
#define TS_CAPI_EXPORT
#endif

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ts_kernel ts_kernel;  // a compiled program; opaque

// Builds the registered program called `name` (tilescale::register_program) with its default sizes
// overridden by `sizes` ("M=256,N=128", the syntax of `tilescale run --size` and
// tilescale::parse_sizes; null or "" keeps the defaults) and compiles it for `target` ("cuda", "cpu"
// or "auto"; null: "auto"). Compiling for CUDA runs NVRTC (or reads the on-disk cache) and loads the
// binary on device 0. Returns null on any error (an unknown name's lists the registered ones).
TS_CAPI_EXPORT ts_kernel* ts_program_create(const char* name, const char* sizes, const char* target);

// The registered programs' names, sorted and separated by commas ("elementwise_add,gemm"; "" when
// none is). The string is the calling thread's and lasts until its next call of ts_program_names.
TS_CAPI_EXPORT const char* ts_program_names(void);

// The kernel's parameters, in call order: name ("Q"), dtype ("bfloat16", as tilescale names types),
// whether it is a scalar (1) or a tensor (0), rank and extents (a scalar has rank 0). Out-of-range
// indices give null / -1.
TS_CAPI_EXPORT int ts_kernel_num_params(const ts_kernel* kernel);
TS_CAPI_EXPORT const char* ts_kernel_param_name(const ts_kernel* kernel, int index);
TS_CAPI_EXPORT const char* ts_kernel_param_dtype(const ts_kernel* kernel, int index);
TS_CAPI_EXPORT int ts_kernel_param_is_scalar(const ts_kernel* kernel, int index);
TS_CAPI_EXPORT int ts_kernel_param_rank(const ts_kernel* kernel, int index);
TS_CAPI_EXPORT int64_t ts_kernel_param_dim(const ts_kernel* kernel, int index, int dim);

// One line about the kernel: "flash_attention [B=4 ...] on cuda (sm_90a), NVRTC 812.0 ms" (or
// "cache hit ... ms", or "on cpu"); the sizes are there for a kernel from ts_program_create.
TS_CAPI_EXPORT const char* ts_kernel_describe(const ts_kernel* kernel);

// Calls the kernel on `num_args` pointers, one per parameter in order: a tensor's data, or a scalar's
// value (see "What a call trusts").
// Returns 0 on success (the launch was queued, for CUDA), non-zero on error.
TS_CAPI_EXPORT int ts_kernel_call(const ts_kernel* kernel, void* const* args, int num_args, void* stream);

// Frees the kernel (null is allowed). Work already launched is not waited for.
TS_CAPI_EXPORT void ts_kernel_destroy(ts_kernel* kernel);

// Why the calling thread's last failed call failed ("" when none has).
TS_CAPI_EXPORT const char* ts_last_error(void);

#ifdef __cplusplus
}  // extern "C"

#include "tilescale/runtime.h"

namespace tilescale {
// A handle for C code on a kernel the C++ side compiled itself: the C functions above take it,
// and ts_kernel_destroy frees it (the kernel lives on while C++ holds it too).
TS_CAPI_EXPORT ts_kernel* to_c_kernel(Kernel kernel);
}  // namespace tilescale
#endif
