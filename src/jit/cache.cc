#include "jit/cache.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>

#include "jit/device_headers.h"
#include "jit/entry_lock.h"
#include "jit/hash.h"
#include "jit/nvcc.h"
#include "jit/nvrtc.h"
#include "support/env.h"
#include "tilescale/errors.h"

#ifndef TILESCALE_VERSION
#define TILESCALE_VERSION "unknown"
#endif

namespace tilescale::jit {

using tilescale::detail::cat;
namespace fs = std::filesystem;

namespace {

constexpr char kMagic[8] = {'T', 'S', 'C', 'U', 'B', 'I', 'N', '1'};
constexpr std::size_t kHeaderBytes = 8 + 8 + 8;  // magic, payload length, checksum

}  // namespace

bool cache_enabled() { return env_switch("TILESCALE_CACHE", true); }

namespace {

std::uint64_t checksum(const std::string& key, const char* data, std::size_t n) {
  return Hasher().add(key).add_bytes(data, n).low();
}

// The file's bytes, read in one block; "" when it cannot be read (reading a directory throws from
// the stream buffer).
std::string read_file(const fs::path& p) {
  try {
    std::ifstream in(p, std::ios::binary | std::ios::ate);
    const std::streamoff size = in ? static_cast<std::streamoff>(in.tellg()) : -1;
    if (size < 0) return {};
    std::string bytes(static_cast<std::size_t>(size), '\0');
    in.seekg(0);
    if (!in.read(bytes.data(), size)) return {};
    return bytes;
  } catch (const std::ios_base::failure&) {
    return {};
  }
}

// A unique name for a temporary file beside `target`: pid, a counter and the time.
fs::path temp_beside(const fs::path& target) {
  static std::atomic<std::uint64_t> counter{0};
  const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
  return target.parent_path() /
         cat(".", target.filename().string(), ".tmp.", ::getpid(), ".", counter++, ".", static_cast<std::uint64_t>(now));
}

}  // namespace

bool write_atomic(const std::string& target_name, const std::string& bytes) {
  const fs::path target(target_name);
  std::error_code ec;
  fs::create_directories(target.parent_path(), ec);
  const fs::path tmp = temp_beside(target);
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return false;
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) {
      out.close();
      fs::remove(tmp, ec);
      return false;
    }
  }
  fs::rename(tmp, target, ec);
  if (ec) {
    fs::remove(tmp, ec);
    return false;
  }
  return true;
}

namespace {

// The cubin in entry `path` for `key`, or nullopt when there is none; an entry that fails its
// checks is deleted.
std::optional<std::vector<char>> read_entry(const fs::path& path, const std::string& key) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return std::nullopt;
  // Something else at the entry's path (a directory...) is left alone; the kernel is compiled and
  // not cached.
  if (!fs::is_regular_file(path, ec)) return std::nullopt;
  const std::string bytes = read_file(path);
  bool ok = bytes.size() >= kHeaderBytes && std::memcmp(bytes.data(), kMagic, 8) == 0;
  std::uint64_t length = 0, sum = 0;
  if (ok) {
    std::memcpy(&length, bytes.data() + 8, 8);
    std::memcpy(&sum, bytes.data() + 16, 8);
    ok = length == bytes.size() - kHeaderBytes && length > 0 &&
         checksum(key, bytes.data() + kHeaderBytes, length) == sum;
  }
  if (!ok) {
    fs::remove(path, ec);
    return std::nullopt;
  }
  return std::vector<char>(bytes.begin() + kHeaderBytes, bytes.end());
}

bool write_entry(const fs::path& path, const std::string& key, const std::vector<char>& cubin) {
  std::string bytes(kMagic, 8);
  const std::uint64_t length = cubin.size(), sum = checksum(key, cubin.data(), cubin.size());
  bytes.append(reinterpret_cast<const char*>(&length), 8);
  bytes.append(reinterpret_cast<const char*>(&sum), 8);
  bytes.append(cubin.data(), cubin.size());
  return write_atomic(path, bytes);
}

std::string first_lines(const std::string& text, int n) {
  std::string out;
  std::stringstream ss(text);
  int count = 0;
  for (std::string line; std::getline(ss, line);) {
    if (count == n) {
      out += "\n...";
      break;
    }
    out += (count++ ? "\n" : "") + line;
  }
  return out;
}

}  // namespace

const char* name(Backend b) { return b == Backend::NVCC ? "nvcc" : "nvrtc"; }

Backend default_backend() {
  const char* v = std::getenv("TILESCALE_JIT");
  if (!v || !*v || std::string(v) == "nvrtc") return Backend::NVRTC;
  if (std::string(v) == "nvcc") return Backend::NVCC;
  throw CompileError(cat("cannot use TILESCALE_JIT=", v, " because it is not a known compiler; use nvrtc or nvcc"));
}

std::string cache_dir() {
  if (const char* d = std::getenv("TILESCALE_CACHE_DIR"); d && *d) return d;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return cat(x, "/tilescale");
  if (const char* h = std::getenv("HOME"); h && *h) return cat(h, "/.cache/tilescale");
  return (fs::temp_directory_path() / "tilescale-cache").string();
}

std::string cache_entry_path(const std::string& key, const std::string& suffix) {
  return (fs::path(cache_dir()) / "kernels" / (key + suffix)).string();
}

std::string hash_include_dir(const std::string& dir) {
  Hasher h;
  h.add(dir);
  std::error_code ec;
  if (dir.empty() || !fs::is_directory(dir, ec)) return h.add("no directory").hex();
  std::vector<fs::path> top, nested;
  for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
    if (it->is_regular_file(ec)) (it.depth() == 0 ? top : nested).push_back(it->path());
  std::sort(top.begin(), top.end());
  std::sort(nested.begin(), nested.end());
  for (const auto& p : top) h.add(fs::relative(p, dir, ec).string()).add(read_file(p));
  for (const auto& p : nested) {
    const auto size = fs::file_size(p, ec);
    const auto mtime = fs::last_write_time(p, ec).time_since_epoch().count();
    h.add(fs::relative(p, dir, ec).string()).add(static_cast<std::uint64_t>(size)).add(static_cast<std::uint64_t>(mtime));
  }
  return h.hex();
}

namespace {

// hash_include_dir, once per directory and process.
std::string include_dir_hash_cached(const std::string& dir) {
  static std::mutex mu;
  static std::map<std::string, std::string> hashes;
  std::lock_guard<std::mutex> lock(mu);
  auto it = hashes.find(dir);
  if (it == hashes.end()) it = hashes.emplace(dir, hash_include_dir(dir)).first;
  return it->second;
}

}  // namespace

std::string library_revision() { return cat(TILESCALE_VERSION, "+", source_revision()); }

CompilerIdentity compiler_identity(const JitRequest& req) {
  CompilerIdentity id;
  if (req.backend == Backend::NVRTC) {
    id.compiler = nvrtc_identity();
    id.fixed_options = base_nvrtc_options(req.arch);
    id.toolkit_headers = include_dir_hash_cached(cuda_include_dir());
  } else {
    id.compiler = cat(nvcc_path(), "\n", nvcc_version());
    id.fixed_options = nvcc_fixed_options(req.arch);
    id.toolkit_headers = include_dir_hash_cached(nvcc_include_dir());
  }
  id.library_revision = library_revision();
  return id;
}

std::string cache_key(const JitRequest& req, const CompilerIdentity& id) {
  Hasher h;
  h.add("tilescale-kernel-cache-v2").add(name(req.backend));
  h.add(id.compiler).add(id.toolkit_headers).add(id.library_revision);
  h.add(static_cast<std::uint64_t>(id.fixed_options.size()));
  for (const auto& o : id.fixed_options) h.add(o);
  h.add(req.arch).add(device_headers_hash());
  h.add(static_cast<std::uint64_t>(req.options.size()));
  for (const auto& o : req.options) h.add(o);
  h.add(req.source);
  return h.hex();
}

std::string cache_key(const JitRequest& req) { return cache_key(req, compiler_identity(req)); }

CachedBytes cached_entry(const std::string& path, const std::string& key,
                         const std::function<std::vector<char>()>& produce) {
  CachedBytes out;
  std::optional<EntryLock> lock;  // held from the second look until the entry is written
  if (!path.empty()) {
    auto hit = [&](std::vector<char> bytes) {
      out.bytes = std::move(bytes);
      out.hit = true;
      out.path = path;
      return std::move(out);
    };
    if (auto bytes = read_entry(path, key)) return hit(std::move(*bytes));
    // Another process or thread may be producing this entry: wait for it, then look again.
    lock.emplace(path);
    if (lock->held())
      if (auto bytes = read_entry(path, key)) return hit(std::move(*bytes));
  }
  out.bytes = produce();
  if (!path.empty() && write_entry(path, key, out.bytes)) out.path = path;
  return out;
}

JitResult compile_cached(const JitRequest& req) {
  const auto start = std::chrono::steady_clock::now();
  const std::string key = cache_enabled() ? cache_key(req) : "";
  CachedBytes entry = cached_entry(key.empty() ? "" : cache_entry_path(key), key, [&] {
    CompiledBinary bin = req.backend == Backend::NVCC ? compile_nvcc(req.source, req.name, req.arch, req.options)
                                                      : compile_nvrtc(req.source, req.name, req.arch, req.options);
    if (bin.cubin.empty())
      throw CompileError(cat("cannot cache kernel ", req.name, " for ", req.arch,
                             " because the compiler produced no cubin; compile_cached needs a real architecture (sm_XX)"));
    return std::move(bin.cubin);
  });
  JitResult result;
  result.cubin = std::move(entry.bytes);
  result.cache_hit = entry.hit;
  result.cache_path = entry.path;
  result.compile_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return result;
}

std::string save_failed_compile(const std::string& source, const std::string& options_line, const std::string& log) {
  const std::string stem = Hasher().add(source).add(options_line).hex();
  std::error_code ec;
  for (const fs::path& dir : {fs::path(cache_dir()) / "failed", fs::temp_directory_path() / "tilescale-failed"}) {
    const fs::path cu = dir / (stem + ".cu"), lg = dir / (stem + ".log");
    if (write_atomic(cu, source) && write_atomic(lg, options_line + "\n\n" + log + "\n")) return cu.string();
  }
  return "(nowhere: neither the cache directory nor the temporary directory is writable)";
}

std::string failed_compile_message(const std::string& compiler, const std::string& name, const std::string& arch,
                                   const std::string& saved_cu, const std::string& log) {
  std::string where = saved_cu;
  if (saved_cu.size() > 3 && saved_cu.compare(saved_cu.size() - 3, 3, ".cu") == 0)
    where = cat(saved_cu, " and ", saved_cu.substr(0, saved_cu.size() - 3), ".log");
  return cat(compiler, " failed to compile kernel ", name, " for ", arch, "; source and log saved to ", where, ":\n",
             first_lines(log, 20));
}

}  // namespace tilescale::jit
