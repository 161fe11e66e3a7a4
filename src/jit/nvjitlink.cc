#include "jit/nvjitlink.h"

#include <dlfcn.h>
#include <nvJitLink.h>

#include <algorithm>
#include <cstring>

#include "jit/toolkit_library.h"
#include "tilescale/errors.h"

namespace tilescale::jit {

using tilescale::detail::cat;

namespace {

// CUDA 13's versioned entry points (nvJitLink.h maps nvJitLinkCreate and the rest onto them).
#define TILESCALE_NVJITLINK_API(X)                                  \
  X(Create, __nvJitLinkCreate_13_0)                                 \
  X(Destroy, __nvJitLinkDestroy_13_0)                               \
  X(AddData, __nvJitLinkAddData_13_0)                               \
  X(AddFile, __nvJitLinkAddFile_13_0)                               \
  X(Complete, __nvJitLinkComplete_13_0)                             \
  X(GetLinkedCubinSize, __nvJitLinkGetLinkedCubinSize_13_0)         \
  X(GetLinkedCubin, __nvJitLinkGetLinkedCubin_13_0)                 \
  X(GetErrorLogSize, __nvJitLinkGetErrorLogSize_13_0)               \
  X(GetErrorLog, __nvJitLinkGetErrorLog_13_0)                       \
  X(GetLinkedPtxSize, __nvJitLinkGetLinkedPtxSize_13_0)             \
  X(GetLinkedPtx, __nvJitLinkGetLinkedPtx_13_0)                     \
  X(Version, nvJitLinkVersion)

struct NvJitLink {
#define TILESCALE_NVJITLINK_MEMBER(member, symbol) decltype(&::symbol) member = nullptr;
  TILESCALE_NVJITLINK_API(TILESCALE_NVJITLINK_MEMBER)
#undef TILESCALE_NVJITLINK_MEMBER
  std::string why_not;   // "" when loaded
  std::string identity;  // see nvjitlink_identity
};

NvJitLink load() {
  NvJitLink api;
  std::string first_error;
  void* lib = open_toolkit_library({"libnvJitLink.so.13", "libnvJitLink.so"}, first_error);
  if (!lib) {
    api.why_not = cat("libnvJitLink could not be loaded (", first_error,
                      "); install the CUDA toolkit's nvJitLink (CUDA 13) or set CUDA_HOME to the toolkit");
    return api;
  }
  std::string missing;
#define TILESCALE_NVJITLINK_LOAD(member, symbol)                       \
  if (void* p = dlsym(lib, #symbol))                                   \
    api.member = reinterpret_cast<decltype(api.member)>(p);            \
  else                                                                 \
    missing += cat(missing.empty() ? "" : ", ", #symbol);
  TILESCALE_NVJITLINK_API(TILESCALE_NVJITLINK_LOAD)
#undef TILESCALE_NVJITLINK_LOAD
  if (!missing.empty()) {
    api.why_not = cat("libnvJitLink lacks ", missing, "; nvJitLink from CUDA 13 is needed");
    return api;
  }
  unsigned major = 0, minor = 0;
  api.Version(&major, &minor);
  api.identity = loaded_library_identity(cat("libnvJitLink ", major, ".", minor), reinterpret_cast<const void*>(api.Version));
  return api;
}

const NvJitLink& loaded() {
  static const NvJitLink api = load();
  return api;
}

const NvJitLink& nvjitlink() {
  if (!loaded().why_not.empty()) throw CompileError("cannot link device code because " + loaded().why_not);
  return loaded();
}

// Destroys the link on every path out.
struct Link {
  nvJitLinkHandle h = nullptr;
  ~Link() {
    if (h) nvjitlink().Destroy(&h);
  }
  std::string log() const {
    std::size_t n = 0;
    if (nvjitlink().GetErrorLogSize(h, &n) != NVJITLINK_SUCCESS || n <= 1) return "";
    std::string out(n, '\0');
    nvjitlink().GetErrorLog(h, out.data());
    out.resize(n - 1);
    return out;
  }
};

// The names nvJitLink's log reports undefined ("Undefined reference to 'x' in 'k'", "Unresolved
// extern function 'x'"), each once, in order.
std::string undefined_symbols(const std::string& log) {
  std::vector<std::string> symbols;
  for (const char* marker : {"Undefined reference to '", "Unresolved extern function '"})
    for (std::size_t at = log.find(marker); at != std::string::npos; at = log.find(marker, at)) {
      at += std::strlen(marker);
      std::string symbol = log.substr(at, log.find('\'', at) - at);
      if (std::find(symbols.begin(), symbols.end(), symbol) == symbols.end()) symbols.push_back(std::move(symbol));
    }
  std::string out;
  for (const auto& symbol : symbols) out += cat(out.empty() ? "" : ", ", symbol);
  return out;
}

// Runs the link of `inputs` up to nvJitLinkComplete; the caller takes the output from `link`.
void run_link(Link& link, const std::vector<LinkInput>& inputs, const std::string& arch,
              const std::vector<std::string>& options) {
  const NvJitLink& api = nvjitlink();
  std::vector<std::string> all = {"-arch=" + arch};
  all.insert(all.end(), options.begin(), options.end());
  std::vector<const char*> argv;
  for (const auto& o : all) argv.push_back(o.c_str());
  std::string what;
  for (const auto& in : inputs) what += cat(what.empty() ? "" : ", ", in.name);
  if (api.Create(&link.h, static_cast<unsigned>(argv.size()), argv.data()) != NVJITLINK_SUCCESS)
    throw CompileError(cat("cannot link ", what, " for ", arch, " because nvJitLink refused the options (", [&] {
                         std::string s;
                         for (const auto& o : all) s += (s.empty() ? "" : " ") + o;
                         return s;
                       }(), ")"));
  auto fail = [&](const std::string& doing) -> CompileError {
    const std::string log = link.log(), undefined = undefined_symbols(log);
    if (!undefined.empty())
      return CompileError(cat("cannot link ", what, " for ", arch, " because nothing defines ", undefined,
                              "; every function the code calls must be in one of the inputs; nvJitLink's log:\n", log));
    return CompileError(cat("cannot link ", what, " for ", arch, " because nvJitLink failed ", doing, log.empty() ? "" : ":\n", log));
  };
  for (const auto& in : inputs) {
    nvJitLinkResult r = NVJITLINK_SUCCESS;
    switch (in.kind) {
      case LinkInput::Kind::Cubin:
      case LinkInput::Kind::LtoIr:
        r = api.AddData(link.h, in.kind == LinkInput::Kind::Cubin ? NVJITLINK_INPUT_CUBIN : NVJITLINK_INPUT_LTOIR,
                        in.data.data(), in.data.size(), in.name.c_str());
        break;
      case LinkInput::Kind::Ptx: {
        const std::string text(in.data.begin(), in.data.end());  // nvJitLink reads PTX up to its NUL
        r = api.AddData(link.h, NVJITLINK_INPUT_PTX, text.c_str(), text.size() + 1, in.name.c_str());
        break;
      }
      case LinkInput::Kind::Library:
        r = api.AddFile(link.h, NVJITLINK_INPUT_ANY, in.name.c_str());
        break;
    }
    if (r != NVJITLINK_SUCCESS) throw fail(cat("to add ", in.name));
  }
  if (api.Complete(link.h) != NVJITLINK_SUCCESS) throw fail("to link");
}

}  // namespace

std::string nvjitlink_unavailable_reason() { return loaded().why_not; }
std::string nvjitlink_identity() { return nvjitlink().identity; }

std::vector<char> link_device_code(const std::vector<LinkInput>& inputs, const std::string& arch,
                                   const std::vector<std::string>& options) {
  Link link;
  run_link(link, inputs, arch, options);
  std::size_t size = 0;
  if (nvjitlink().GetLinkedCubinSize(link.h, &size) != NVJITLINK_SUCCESS || size == 0)
    throw CompileError(cat("cannot link device code for ", arch, " because nvJitLink gave no cubin"));
  std::vector<char> cubin(size);
  if (nvjitlink().GetLinkedCubin(link.h, cubin.data()) != NVJITLINK_SUCCESS)
    throw CompileError(cat("cannot link device code for ", arch, " because nvJitLink gave no cubin"));
  return cubin;
}

std::string link_to_ptx(const std::vector<LinkInput>& inputs, const std::string& arch) {
  Link link;
  run_link(link, inputs, arch, {"-lto", "-ptx"});
  std::size_t size = 0;
  if (nvjitlink().GetLinkedPtxSize(link.h, &size) != NVJITLINK_SUCCESS || size <= 1)
    throw CompileError(cat("cannot link device code for ", arch, " because nvJitLink gave no PTX"));
  std::string ptx(size, '\0');
  if (nvjitlink().GetLinkedPtx(link.h, ptx.data()) != NVJITLINK_SUCCESS)
    throw CompileError(cat("cannot link device code for ", arch, " because nvJitLink gave no PTX"));
  ptx.resize(size - 1);
  return ptx;
}

}  // namespace tilescale::jit
