// Compiling kernels that call NVSHMEM (KernelSpec::nvshmem) into loadable cubins, without nvcc:
// the wrapper/LTO route of REFERENCE.md §3, against the installation jit/nvshmem_installation.h
// finds.
//
//   jit::JitResult r = jit::compile_nvshmem_cached({spec.name, spec.source, "sm_90a", {}});
//   // r.cubin: load it, then nvshmemx_cumodule_init on the module
//
// Such a kernel includes device/tilescale/nvshmem_calls.h, never NVSHMEM's headers: it calls
// ts_nvshmem_<builtin> wrappers, declared there. The route:
//   1. NVSHMEM's wrappers: the translation unit that defines them (nvshmem_calls.h with
//      TL_NVSHMEM_DEFINE_WRAPPERS) compiled by NVRTC with NVSHMEM's full headers, -rdc=true -dlto,
//      to LTO IR; once per (NVSHMEM version, hash of its libnvshmem_device.a, arch, compiler,
//      device headers), kept in the JIT's disk cache (cache.h: <dir>/kernels/<key>.ltoir, the same
//      entry format and lock as kernels; with TILESCALE_CACHE=0, compiled every time).
//   2. The kernel: NVRTC with -rdc=true -dlto, to LTO IR.
//   3. nvJitLink -lto -ptx of both: the wrappers the kernel calls are inlined into it, the others
//      dropped; NVSHMEM's library functions stay .extern in the PTX.
//   4. nvJitLink of that PTX with libnvshmem_device.a: the cubin.
// Steps 3 and 4 are two links, not one, because a -lto link that also takes the archive keeps and
// compiles every wrapper, used or not: for simple_shift's kernel that one link takes 2.5 s, the two
// 0.11 s.
// With the nvcc backend (JitRequest::backend, an explicit choice) the kernel and its wrappers are
// one nvcc unit instead (TL_NVSHMEM_DEFINE_WRAPPERS, NVSHMEM's include directory, -rdc=true): a
// relocatable cubin, then step 4 with that cubin.
//
// Measured on the 2-core CPU machine without a GPU, 2026-12-03 (CUDA 13.0, NVSHMEM 3.8.0): a cold
// compile of simple_shift's kernel, the wrappers cached, for sm_90a: NVRTC 46 ms, step 3 54 ms,
// step 4 57 ms, total 158 ms (sm_80: 41 + 32 + 49 = 122 ms). The one-time wrapper compile (step 1):
// 2.7 s for sm_90a, 2.1 s for sm_80; hashing the archive for the key, 20-25 ms once per process.
// The route before (NVRTC with NVSHMEM's full headers for every kernel) took 3.2 s per kernel.
//
// Put with signal: NVSHMEM's own putmem_signal calls do not link from NVRTC-compiled code (3.4.5
// and 3.8.0 alike; nvshmem_calls.h says why), so the wrappers compose them from the put, fence and
// signal_op, which NVSHMEM orders the same way. Every NVSHMEM-level builtin links against both
// layouts (3.4's lib/libnvshmem_device.bc, 3.8's per-arch libnvshmem_device_sm_XX.bc): the link takes
// libnvshmem_device.a, which both ship; nvJitLink takes neither bitcode file (they are plain LLVM
// bitcode, not LTO IR).
#pragma once

#include <string>
#include <vector>

#include "jit/cache.h"

namespace tilescale::jit {

// Why a kernel that calls NVSHMEM cannot be compiled ("" when it can): NVSHMEM not found (the
// search's why_not), no libnvshmem_device.a in it, or a CUDA toolkit without include/cccl. Never
// throws.
std::string nvshmem_unavailable_reason();

// The loadable cubin of req.source (a kernel that calls NVSHMEM) for req.arch, compiled by NVRTC
// with req.options and linked as above (or by nvcc as above when req.backend is NVCC), through the
// disk cache (compile_cached's protocol: an entry per nvshmem_cache_key, compiled once under its
// lock; with caching off, compiled every time). The result says whether the kernel was a hit and
// whether this call compiled the wrappers. CompileError when NVSHMEM, NVRTC or nvJitLink is missing
// ("cannot compile kernel <name>, which calls NVSHMEM, because <why>; <what to do>"), or a step fails
// (a link error names the kernel and the undefined functions). The module still needs
// nvshmemx_cumodule_init after loading.
JitResult compile_nvshmem_cached(const JitRequest& req);

// What identifies the NVSHMEM a kernel is linked with, in every key below.
struct NvshmemIdentity {
  std::string version;         // "3.8.0"
  std::string device_library;  // the path of libnvshmem_device.a and a hash of its contents
  std::string linker;          // nvjitlink_identity()
};
// The identity of find_nvshmem()'s installation, computed once per process (hashing the archive
// reads it: 7 MB). CompileError as compile_nvshmem_cached's when NVSHMEM or nvJitLink is missing.
const NvshmemIdentity& nvshmem_identity();

// The cache key of a kernel that calls NVSHMEM, and of NVSHMEM's wrappers (a request for their
// translation unit): cache_key(req, id) (source, device headers, arch, options, compiler) and
// `nvshmem`, so that a different NVSHMEM never reuses an entry. 32 hex digits.
std::string nvshmem_cache_key(const JitRequest& req, const CompilerIdentity& id, const NvshmemIdentity& nvshmem);

}  // namespace tilescale::jit
