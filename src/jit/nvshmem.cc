#include "jit/nvshmem.h"

#include <chrono>
#include <filesystem>
#include <fstream>

#include "jit/hash.h"
#include "jit/nvcc.h"
#include "jit/nvjitlink.h"
#include "jit/nvrtc.h"
#include "jit/nvshmem_installation.h"
#include "tilescale/errors.h"

namespace tilescale::jit {

using tilescale::detail::cat;

namespace {

constexpr const char* kWrapperSource = "#define TL_NVSHMEM_DEFINE_WRAPPERS\n#include \"tilescale/nvshmem_calls.h\"\n";

// The installation, or CompileError "cannot compile <what>, which calls NVSHMEM, because <why>".
const NvshmemInstallation& usable_nvshmem(const std::string& what) {
  if (std::string why = nvshmem_unavailable_reason(); !why.empty())
    throw CompileError(cat("cannot compile ", what, ", which calls NVSHMEM, because ", why));
  return *find_nvshmem().installation;
}

// NVSHMEM's wrappers for `arch` as LTO IR, and whether this call compiled them.
std::pair<std::vector<char>, bool> wrappers(const std::string& arch, const NvshmemInstallation& nvshmem) {
  const JitRequest req{"nvshmem_wrappers", kWrapperSource, arch,
                       {"-rdc=true", "-dlto", "-I" + nvshmem.include_dir, "-I" + cuda_include_dir() + "/cccl"},
                       Backend::NVRTC};
  const std::string key = cache_enabled() ? nvshmem_cache_key(req, compiler_identity(req), nvshmem_identity()) : "";
  CachedBytes entry = cached_entry(key.empty() ? "" : cache_entry_path(key, ".ltoir"), key,
                                   [&] { return compile_nvrtc(req.source, req.name, arch, req.options).ltoir; });
  return {std::move(entry.bytes), !entry.hit};
}

std::vector<char> compile_and_link(const JitRequest& req, bool& compiled_wrappers) {
  const NvshmemInstallation& nvshmem = usable_nvshmem("kernel " + req.name);
  const LinkInput archive{LinkInput::Kind::Library, nvshmem.device_archive, {}};
  if (req.backend == Backend::NVCC) {
    std::vector<std::string> options = {"-rdc=true", "-DTL_NVSHMEM_DEFINE_WRAPPERS", "-I" + nvshmem.include_dir};
    options.insert(options.end(), req.options.begin(), req.options.end());
    CompiledBinary unit = compile_nvcc(req.source, req.name, req.arch, options);
    return link_device_code({{LinkInput::Kind::Cubin, req.name, std::move(unit.cubin)}, archive}, req.arch, {});
  }
  std::vector<std::string> options = {"-rdc=true", "-dlto"};
  options.insert(options.end(), req.options.begin(), req.options.end());
  CompiledBinary unit = compile_nvrtc(req.source, req.name, req.arch, options);
  auto [wrapper_ir, compiled] = wrappers(req.arch, nvshmem);
  compiled_wrappers = compiled;
  const std::string ptx = link_to_ptx({{LinkInput::Kind::LtoIr, req.name, std::move(unit.ltoir)},
                                       {LinkInput::Kind::LtoIr, "NVSHMEM's wrappers", std::move(wrapper_ir)}},
                                      req.arch);
  return link_device_code({{LinkInput::Kind::Ptx, req.name, std::vector<char>(ptx.begin(), ptx.end())}, archive}, req.arch,
                          {});
}

std::string hash_file(const std::string& path) {
  Hasher h;
  h.add(path);
  std::ifstream in(path, std::ios::binary);
  std::vector<char> chunk(1 << 20);
  while (in.read(chunk.data(), static_cast<std::streamsize>(chunk.size())) || in.gcount() > 0)
    h.add_bytes(chunk.data(), static_cast<std::size_t>(in.gcount()));
  return h.hex();
}

}  // namespace

std::string nvshmem_unavailable_reason() {
  const NvshmemSearch& search = find_nvshmem();
  if (!search.installation) return search.why_not;
  const NvshmemInstallation& nvshmem = *search.installation;
  if (nvshmem.device_archive.empty())
    return cat("NVSHMEM ", nvshmem.version, " at ", nvshmem.root,
               " ships no lib/libnvshmem_device.a, the device library kernels are linked with; use an NVSHMEM "
               "that ships it (the nvidia-nvshmem-cu12/-cu13 wheels do)");
  std::error_code ec;
  if (!std::filesystem::exists(cuda_include_dir() + "/cccl/cuda/std/cstdint", ec))
    return "the CUDA toolkit has no include/cccl (libcu++), which NVSHMEM's device headers need; set CUDA_HOME to a "
           "CUDA 13 toolkit";
  return nvjitlink_unavailable_reason();
}

const NvshmemIdentity& nvshmem_identity() {
  static const NvshmemIdentity id = [] {
    const NvshmemInstallation& nvshmem = usable_nvshmem("a kernel");
    return NvshmemIdentity{nvshmem.version, hash_file(nvshmem.device_archive), nvjitlink_identity()};
  }();
  return id;
}

std::string nvshmem_cache_key(const JitRequest& req, const CompilerIdentity& id, const NvshmemIdentity& nvshmem) {
  return Hasher()
      .add("tilescale-nvshmem-kernel-v1")
      .add(cache_key(req, id))
      .add(nvshmem.version)
      .add(nvshmem.device_library)
      .add(nvshmem.linker)
      .hex();
}

JitResult compile_nvshmem_cached(const JitRequest& req) {
  const auto start = std::chrono::steady_clock::now();
  usable_nvshmem("kernel " + req.name);
  const std::string key = cache_enabled() ? nvshmem_cache_key(req, compiler_identity(req), nvshmem_identity()) : "";
  JitResult result;
  CachedBytes entry = cached_entry(key.empty() ? "" : cache_entry_path(key), key,
                                   [&] { return compile_and_link(req, result.compiled_wrappers); });
  result.cubin = std::move(entry.bytes);
  result.cache_hit = entry.hit;
  result.cache_path = entry.path;
  result.compile_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace tilescale::jit
