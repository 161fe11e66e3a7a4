#include "jit/nvjitlink.h"

#include <dlfcn.h>
#include <nvJitLink.h>

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
  X(GetErrorLog, __nvJitLinkGetErrorLog_13_0)

struct NvJitLink {
#define TILESCALE_NVJITLINK_MEMBER(member, symbol) decltype(&::symbol) member = nullptr;
  TILESCALE_NVJITLINK_API(TILESCALE_NVJITLINK_MEMBER)
#undef TILESCALE_NVJITLINK_MEMBER
  std::string why_not;  // "" when loaded
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
  if (!missing.empty()) api.why_not = cat("libnvJitLink lacks ", missing, "; nvJitLink from CUDA 13 is needed");
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

}  // namespace

std::string nvjitlink_unavailable_reason() { return loaded().why_not; }

std::vector<char> link_device_code(const std::vector<LinkInput>& inputs, const std::string& arch,
                                   const std::vector<std::string>& options) {
  const NvJitLink& api = nvjitlink();
  std::vector<std::string> all = {"-arch=" + arch};
  all.insert(all.end(), options.begin(), options.end());
  std::vector<const char*> argv;
  for (const auto& o : all) argv.push_back(o.c_str());
  Link link;
  if (api.Create(&link.h, static_cast<unsigned>(argv.size()), argv.data()) != NVJITLINK_SUCCESS)
    throw CompileError(cat("cannot link device code for ", arch, " because nvJitLink refused the options (", [&] {
                         std::string s;
                         for (const auto& o : all) s += (s.empty() ? "" : " ") + o;
                         return s;
                       }(), ")"));
  auto fail = [&](const std::string& doing) -> CompileError {
    std::string log = link.log();
    return CompileError(cat("cannot link device code for ", arch, " because nvJitLink failed ", doing,
                            log.empty() ? "" : ":\n", log));
  };
  for (const auto& in : inputs) {
    nvJitLinkResult r = NVJITLINK_SUCCESS;
    switch (in.kind) {
      case LinkInput::Kind::Cubin:
        r = api.AddData(link.h, NVJITLINK_INPUT_CUBIN, in.data.data(), in.data.size(), in.name.c_str());
        break;
      case LinkInput::Kind::Library:
        r = api.AddFile(link.h, NVJITLINK_INPUT_ANY, in.name.c_str());
        break;
    }
    if (r != NVJITLINK_SUCCESS) throw fail(cat("to add ", in.name));
  }
  if (api.Complete(link.h) != NVJITLINK_SUCCESS) throw fail("to link");
  std::size_t size = 0;
  if (api.GetLinkedCubinSize(link.h, &size) != NVJITLINK_SUCCESS) throw fail("to give the linked cubin's size");
  std::vector<char> cubin(size);
  if (api.GetLinkedCubin(link.h, cubin.data()) != NVJITLINK_SUCCESS) throw fail("to give the linked cubin");
  return cubin;
}

}  // namespace tilescale::jit
