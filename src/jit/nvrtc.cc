#include "jit/nvrtc.h"

#include <dlfcn.h>
#include <nvrtc.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <map>

#include "jit/cache.h"
#include "jit/toolkit_library.h"
#include "tilescale/errors.h"

namespace tilescale::jit {

using tilescale::detail::cat;

namespace {

#define TILESCALE_NVRTC_API(X) \
  X(nvrtcVersion)              \
  X(nvrtcGetErrorString)       \
  X(nvrtcCreateProgram)        \
  X(nvrtcDestroyProgram)       \
  X(nvrtcCompileProgram)       \
  X(nvrtcGetProgramLogSize)    \
  X(nvrtcGetProgramLog)        \
  X(nvrtcGetPTXSize)           \
  X(nvrtcGetPTX)               \
  X(nvrtcGetCUBINSize)         \
  X(nvrtcGetCUBIN)             \
  X(nvrtcGetLTOIRSize)         \
  X(nvrtcGetLTOIR)

struct Nvrtc {
#define TILESCALE_NVRTC_MEMBER(symbol) decltype(&::symbol) symbol = nullptr;
  TILESCALE_NVRTC_API(TILESCALE_NVRTC_MEMBER)
#undef TILESCALE_NVRTC_MEMBER
  std::string why_not;   // "" when loaded
  std::string version;   // "13.0"
  std::string identity;  // the version and the library file that was loaded (see nvrtc_identity)
};

Nvrtc load() {
  Nvrtc api;
  std::string first_error;
  void* lib = open_toolkit_library({"libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so"}, first_error);
  if (!lib) {
    api.why_not = cat("libnvrtc could not be loaded (", first_error,
                      "); install the CUDA toolkit's NVRTC or set CUDA_HOME to the toolkit");
    return api;
  }
  std::string missing;
#define TILESCALE_NVRTC_LOAD(symbol)                                          \
  if (void* p = dlsym(lib, #symbol))                                          \
    api.symbol = reinterpret_cast<decltype(api.symbol)>(p);                   \
  else                                                                        \
    missing += cat(missing.empty() ? "" : ", ", #symbol);
  TILESCALE_NVRTC_API(TILESCALE_NVRTC_LOAD)
#undef TILESCALE_NVRTC_LOAD
  if (!missing.empty()) {
    api.why_not = cat("libnvrtc lacks ", missing, "; NVRTC from CUDA 12 or newer is needed");
    return api;
  }
  int major = 0, minor = 0;
  api.nvrtcVersion(&major, &minor);
  api.version = cat(major, ".", minor);
  api.identity = loaded_library_identity("libnvrtc " + api.version, reinterpret_cast<const void*>(api.nvrtcVersion));
  return api;
}

const Nvrtc& nvrtc() {
  static const Nvrtc api = load();
  if (!api.why_not.empty()) throw CompileError("cannot compile CUDA kernels because " + api.why_not);
  return api;
}

void check(nvrtcResult r, const char* call) {
  if (r != NVRTC_SUCCESS)
    throw CompileError(cat("NVRTC error ", nvrtc().nvrtcGetErrorString(r), " in ", call));
}

bool is_virtual(const std::string& arch) { return arch.rfind("compute_", 0) == 0; }

// Destroys the program on every path out.
struct Program {
  nvrtcProgram p = nullptr;
  ~Program() {
    if (p) nvrtc().nvrtcDestroyProgram(&p);
  }
};

}  // namespace

std::string cuda_include_dir() {
  std::vector<std::string> roots;
  for (const char* env : {"CUDA_HOME", "CUDA_PATH"})
    if (const char* root = std::getenv(env); root && *root) roots.push_back(root);
  roots.push_back("/usr/local/cuda");
  for (const auto& r : roots) {
    std::error_code ec;
    if (std::filesystem::exists(r + "/include/cuda_fp16.h", ec)) return r + "/include";
  }
  return "";
}

std::vector<std::string> base_nvrtc_options(const std::string& arch) {
  std::vector<std::string> o = {"-std=c++17", "-default-device", "--gpu-architecture=" + arch};
  if (std::string inc = cuda_include_dir(); !inc.empty()) o.push_back("-I" + inc);
  return o;
}

std::string nvrtc_unavailable_reason() {
  try {
    nvrtc();
    return "";
  } catch (const CompileError& e) {
    return e.what();
  }
}

std::string nvrtc_version() { return nvrtc().version; }
std::string nvrtc_identity() { return nvrtc().identity; }

CompiledBinary compile_nvrtc(const std::string& source, const std::string& name, const std::string& arch,
                             const std::vector<std::string>& options,
                             const std::vector<EmbeddedHeader>& extra_headers) {
  const Nvrtc& api = nvrtc();

  // NVRTC matches in-memory headers by the exact name in the #include, without resolving it
  // relative to the including header. Device headers include each other as "common.h", so each is
  // also registered under its name within tilescale/ (a test checks no toolkit header is shadowed).
  // NVRTC rejects a name given twice: an extra header replaces an embedded one of the same name.
  std::map<std::string, std::string> headers;
  for (const auto* list : {&device_headers(), &extra_headers})
    for (const auto& h : *list) {
      headers[std::string(h.include_name)] = std::string(h.contents);
      if (h.include_name.rfind("tilescale/", 0) == 0) headers[std::string(h.include_name.substr(10))] = std::string(h.contents);
    }
  std::vector<const char*> names_c, texts_c;
  for (const auto& [n, text] : headers) {
    names_c.push_back(n.c_str());
    texts_c.push_back(text.c_str());
  }

  Program prog;
  const std::string file_name = name + ".cu";
  check(api.nvrtcCreateProgram(&prog.p, source.c_str(), file_name.c_str(), static_cast<int>(names_c.size()),
                               texts_c.data(), names_c.data()),
        "nvrtcCreateProgram");

  std::vector<std::string> all = base_nvrtc_options(arch);
  all.insert(all.end(), options.begin(), options.end());
  std::vector<const char*> opts_c;
  for (const auto& o : all) opts_c.push_back(o.c_str());

  const nvrtcResult result = api.nvrtcCompileProgram(prog.p, static_cast<int>(opts_c.size()), opts_c.data());

  CompiledBinary out;
  size_t log_size = 0;
  if (api.nvrtcGetProgramLogSize(prog.p, &log_size) == NVRTC_SUCCESS && log_size > 1) {
    out.log.resize(log_size);
    api.nvrtcGetProgramLog(prog.p, out.log.data());
    while (!out.log.empty() && (out.log.back() == '\0' || out.log.back() == '\n')) out.log.pop_back();
  }

  if (result != NVRTC_SUCCESS) {
    std::string options_line = "nvrtc " + api.version + " options:";
    for (const auto& o : all) options_line += " " + o;
    const std::string saved = save_failed_compile(source, options_line, cat(api.nvrtcGetErrorString(result), "\n", out.log));
    throw CompileError(failed_compile_message("NVRTC", name, arch, saved, out.log));
  }

  if (std::find(options.begin(), options.end(), "-dlto") != options.end()) {
    size_t n = 0;
    check(api.nvrtcGetLTOIRSize(prog.p, &n), "nvrtcGetLTOIRSize");
    out.ltoir.resize(n);
    if (n) check(api.nvrtcGetLTOIR(prog.p, out.ltoir.data()), "nvrtcGetLTOIR");
    return out;
  }
  if (!is_virtual(arch)) {
    size_t n = 0;
    check(api.nvrtcGetCUBINSize(prog.p, &n), "nvrtcGetCUBINSize");
    out.cubin.resize(n);
    if (n) check(api.nvrtcGetCUBIN(prog.p, out.cubin.data()), "nvrtcGetCUBIN");
  }
  // For a real architecture NVRTC may not keep PTX (it reports size 0 or an error): that is fine.
  size_t ptx_size = 0;
  if (api.nvrtcGetPTXSize(prog.p, &ptx_size) == NVRTC_SUCCESS && ptx_size > 1) {
    out.ptx.resize(ptx_size);
    if (api.nvrtcGetPTX(prog.p, out.ptx.data()) != NVRTC_SUCCESS) out.ptx.clear();
    while (!out.ptx.empty() && out.ptx.back() == '\0') out.ptx.pop_back();
  }
  if (is_virtual(arch) && out.ptx.empty())
    throw CompileError(cat("NVRTC produced no PTX for kernel ", name, " and ", arch));
  return out;
}

// The name of the first __global__ function in `source`, for messages; "kernel" when none is found.
// The name is the identifier before the first parenthesis that does not open __launch_bounds__(...).
static std::string first_kernel_name(const std::string& source) {
  size_t from = source.find("__global__");
  while (from != std::string::npos) {
    const size_t paren = source.find('(', from);
    if (paren == std::string::npos) break;
    size_t end = paren;
    while (end > from && source[end - 1] == ' ') --end;
    size_t begin = end;
    while (begin > from && (std::isalnum(static_cast<unsigned char>(source[begin - 1])) || source[begin - 1] == '_')) --begin;
    const std::string name = source.substr(begin, end - begin);
    if (name != "__launch_bounds__") return name.empty() ? "kernel" : name;
    from = source.find(')', paren);
  }
  return "kernel";
}

std::string ptx_for(const std::string& source, const std::string& arch) {
  std::string virt = arch;
  if (virt.rfind("sm_", 0) == 0) virt = "compute_" + virt.substr(3);
  return compile_nvrtc(source, first_kernel_name(source), virt, {}).ptx;
}

}  // namespace tilescale::jit
