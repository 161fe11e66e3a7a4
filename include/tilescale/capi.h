// A C ABI over building, compiling and calling the example programs, for other runtimes in the same
// process (Python through ctypes, say) that own the memory and the stream.
//
// Library: libtilescale_capi.so (CMake target tilescale_capi). Example, from Python:
//
//   lib = ctypes.CDLL("build/libtilescale_capi.so")
//   k = lib.ts_example_create(b"flash_attention", b"B=4,H=32,S=4096,D=128,causal=1,bf16=1", b"cuda")
//   if not k: raise RuntimeError(lib.ts_last_error().decode())
//   ptrs = (ctypes.c_void_p * 4)(q.data_ptr(), k_.data_ptr(), v.data_ptr(), o.data_ptr())
//   if lib.ts_kernel_call(k, ptrs, 4, torch.cuda.current_stream().cuda_stream) != 0: ...
//   lib.ts_kernel_destroy(k)
//
// What a call trusts. The kernel's parameters have the shapes and dtypes the example built it with
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

// Builds the example called `example` ("gemm", "flash_attention"... as `tilescale list` names
// them) with its default sizes overridden by `sizes` ("M=256,N=128", the syntax of `tilescale run
// --size`; null or "" keeps the defaults) and compiles it for `target` ("cuda", "cpu" or "auto";
// null: "auto"). Compiling for CUDA runs NVRTC (or reads the on-disk cache) and loads the binary on
// device 0. Returns null on any error.
TS_CAPI_EXPORT ts_kernel* ts_example_create(const char* example, const char* sizes, const char* target);

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
// "cache hit ... ms", or "on cpu").
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
#endif
