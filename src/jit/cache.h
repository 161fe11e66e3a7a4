// The on-disk kernel cache, and the JIT's front door.
//
//   jit::JitRequest req{spec.name, spec.source, cuda::arch_for_device(0), {}};
//   jit::JitResult r = jit::compile_cached(req);   // r.cubin, r.cache_hit, r.compile_ms
//
// The key is a 128-bit hash (hash.h) of everything that changes the binary: the generated source,
// the embedded device headers' hash, the target arch, every compile option, and the compiler's
// identity (CompilerIdentity below): the backend (nvrtc or nvcc) in its exact build, the options it
// always gets, the toolkit headers it reads and tilescale's own source revision. An entry is one
// file, <dir>/kernels/<key>.cubin (NVSHMEM's wrappers: <key>.ltoir, jit/nvshmem.h):
// an 8-byte magic, the payload length, a checksum of key and payload, then the cubin. Writes go to a
// temporary file in the same directory and are renamed into place, so a reader sees a whole entry
// or none; an entry that fails its checks is deleted and recompiled, never trusted.
//
// Compile once: when several processes (the ranks of a distributed run) or threads ask for the same
// missing entry at the same time, one compiles and the others wait for it and then read what it
// wrote (their results are hits). A miss takes the entry's lock (entry_lock.h: flock on
// <dir>/kernels/<key>.cubin.lock, deleted again when released) and looks again before compiling; the
// lock is dropped when the entry is written, or when its holder fails or dies. When the lock cannot
// be taken (a read-only cache directory, a file system without flock) the kernel is compiled without
// it: never an error, at worst two compiles of the same entry.
//
// Environment:
//   TILESCALE_CACHE_DIR   the directory (default $XDG_CACHE_HOME/tilescale, else ~/.cache/tilescale)
//   TILESCALE_CACHE=0     compile every time and write nothing (a switch: support/env.h)
//   TILESCALE_JIT=nvcc    compile with nvcc instead of NVRTC (default "nvrtc")
// When the directory cannot be created or written, kernels are compiled without caching.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace tilescale::jit {

enum class Backend { NVRTC, NVCC };
const char* name(Backend b);  // "nvrtc", "nvcc"
// From TILESCALE_JIT ("nvrtc" when unset); CompileError for any other value.
Backend default_backend();

struct JitRequest {
  std::string name;                  // the kernel's name, for messages
  std::string source;                // CUDA C++
  std::string arch;                  // "sm_80", "sm_90a"
  std::vector<std::string> options;  // extra compiler options, in order (e.g. "--use_fast_math")
  Backend backend = default_backend();
};

struct JitResult {
  std::vector<char> cubin;
  bool cache_hit = false;
  // Wall time of compile_cached: the compile on a miss; the read on a hit, with the wait for another
  // process or thread that was compiling the entry.
  double compile_ms = 0;
  std::string cache_path;  // the entry's file ("" when caching is off or the directory is unusable)
  // compile_nvshmem_cached (jit/nvshmem.h) only: this call compiled NVSHMEM's wrappers (they were
  // not in the cache); false when it took them from the cache, or when the kernel was a hit.
  bool compiled_wrappers = false;
};

// The cubin for `req`, from the cache when a valid entry exists, else compiled (with the backend's
// CompileError on failure) and stored, under the entry's lock (above). Anything at the entry's path
// that is not a valid entry file (a corrupt entry, a directory) is never trusted: the kernel is
// compiled.
JitResult compile_cached(const JitRequest& req);

// What decides the binary besides the request itself; each field goes into the key.
struct CompilerIdentity {
  // The exact compiler build: nvrtc_identity() (version, library file, its size and time), or
  // nvcc's path and the whole output of `nvcc --version`.
  std::string compiler;
  // The options every compilation of the arch gets (base_nvrtc_options, nvcc_fixed_options).
  std::vector<std::string> fixed_options;
  // hash_include_dir of the toolkit include directory the compiler reads cuda_fp16.h & co. from
  // (cuda_include_dir() for NVRTC, nvcc_include_dir() for nvcc), computed once per process.
  std::string toolkit_headers;
  // library_revision().
  std::string library_revision;
};
// The identity for `req`'s backend and arch. Loads the backend (CompileError when it cannot be).
CompilerIdentity compiler_identity(const JitRequest& req);

// The cache key of `req` with `id`: 32 hex digits.
std::string cache_key(const JitRequest& req, const CompilerIdentity& id);
// The cache key of `req` with compiler_identity(req).
std::string cache_key(const JitRequest& req);

// A hash of an include directory as a compiler sees it: the contents of the files directly in it
// (cuda_fp16.h, cuda_fp16.hpp, cuda_bf16.h, ...: what generated code includes), and the path, size
// and modification time of every file below it (crt/, cccl/, ...; reading all of those would cost
// more than it tells). A missing directory hashes as such. Not cached: see CompilerIdentity.
std::string hash_include_dir(const std::string& dir);
// tilescale's version and its source revision, "0.1.0+<32 hex digits>".
std::string library_revision();
// A hash of the contents of tilescale's sources (src/, include/, device/, the CMake files), made at
// build time by cmake/source_revision.cmake (so a build from a tarball without .git has one too).
const char* source_revision();

// The cache directory as configured now (it may not exist yet).
std::string cache_dir();
// False when TILESCALE_CACHE turns caching off; RuntimeError when it is neither on nor off.
bool cache_enabled();
// Writes `bytes` to `target` atomically (a temporary file in the same directory, then rename),
// creating the directory; false when that fails.
bool write_atomic(const std::string& target, const std::string& bytes);
// The file compile_cached uses for `key` (whether or not it exists): <dir>/kernels/<key><suffix>.
std::string cache_entry_path(const std::string& key, const std::string& suffix = ".cubin");

// The entry protocol of compile_cached, for every binary the JIT keeps (kernels, NVSHMEM's
// wrappers): the payload of the valid entry at `path` for `key`, else produce()'s, written there
// under the entry's lock (above). With caching off (an empty `path`), produce()'s, written nowhere.
struct CachedBytes {
  std::vector<char> bytes;
  bool hit = false;
  std::string path;  // the entry's file when it was read or written, else ""
};
// `path` is cache_entry_path(key, ...) or "" (caching off); produce() throws to fail.
CachedBytes cached_entry(const std::string& path, const std::string& key,
                         const std::function<std::vector<char>()>& produce);

// Saves a failed compilation for the user to inspect: <cache dir>/failed/<hash>.cu (the source as
// compiled, so the log's line numbers match) and .log (the command or options, then the log).
// Returns the .cu path; falls back to the system's temporary directory when the cache directory is
// not writable.
std::string save_failed_compile(const std::string& source, const std::string& options_line, const std::string& log);

// "NVRTC failed to compile kernel <name> for <arch>; source and log saved to <cu> and <log>:\n<first
// lines of the log>", shared by the backends.
std::string failed_compile_message(const std::string& compiler, const std::string& name, const std::string& arch,
                                   const std::string& saved_cu, const std::string& log);

}  // namespace tilescale::jit
