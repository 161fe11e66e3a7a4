// Linking relocatable device code into one loadable cubin with nvJitLink, loaded at run time: the
// step a kernel that calls a device library (NVSHMEM's libnvshmem_device) needs after NVRTC.
//
//   jit::CompiledBinary k = jit::compile_nvrtc(source, "k", "sm_90a", {"-rdc=true"});
//   std::vector<char> cubin = jit::link_device_code(
//       {{jit::LinkInput::Kind::Cubin, "k", k.cubin}, {jit::LinkInput::Kind::Library, "/path/libnvshmem_device.a"}},
//       "sm_90a", {});
//
// libnvJitLink is opened with dlopen the first time it is needed (libnvJitLink.so.13, then under
// the toolkit, as NVRTC is: toolkit_library.h); it needs no GPU, so link tests run anywhere it
// loads. The entry points are CUDA 13's (nvJitLink versions its symbols): an older library is a
// CompileError saying so. Link errors (an undefined symbol...) are a CompileError quoting
// nvJitLink's log.
#pragma once

#include <string>
#include <vector>

namespace tilescale::jit {

struct LinkInput {
  enum class Kind {
    Cubin,    // relocatable device code (NVRTC with -rdc=true)
    Library,  // a static device library (libnvshmem_device.a), by path
  };
  Kind kind;
  std::string name;        // for messages; for Library, the file's path
  std::vector<char> data;  // Cubin
};

// The linked cubin of `inputs` for `arch` ("sm_90a"); `options` are nvJitLink's. CompileError when nvJitLink cannot be loaded or the link fails.
std::vector<char> link_device_code(const std::vector<LinkInput>& inputs, const std::string& arch,
                                   const std::vector<std::string>& options);

// Why nvJitLink cannot be used ("" when it can). Never throws.
std::string nvjitlink_unavailable_reason();

}  // namespace tilescale::jit
