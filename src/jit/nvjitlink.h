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
// CompileError saying so. Link errors are a CompileError naming the inputs and quoting nvJitLink's
// log; when functions or variables are left undefined, it names them first:
//   cannot link k, /path/libdevice.a for sm_90a because nothing defines plus_one; every function
//   the code calls must be in one of the inputs; nvJitLink's log:
//   error   : Undefined reference to 'plus_one' in 'k'
//
// Link-time optimisation: inputs of kind LtoIr (NVRTC with -rdc=true -dlto) are optimised together
// with the option -lto. link_to_ptx stops after that step and gives the PTX; jit/nvshmem.h links a
// kernel in two such steps because a link that mixes LTO IR with a library of ordinary relocatable
// code keeps every external function of the LTO IR, used or not.
#pragma once

#include <string>
#include <vector>

namespace tilescale::jit {

struct LinkInput {
  enum class Kind {
    Cubin,    // relocatable device code (NVRTC or nvcc with -rdc=true)
    LtoIr,    // LTO IR (NVRTC with -rdc=true -dlto); needs the option -lto
    Ptx,      // PTX text, compiled by nvJitLink as relocatable code
    Library,  // a static device library (libnvshmem_device.a), by path
  };
  Kind kind;
  std::string name;        // for messages (the kernel's name...); for Library, the file's path
  std::vector<char> data;  // Cubin, LtoIr, Ptx
};

// The linked cubin of `inputs` for `arch` ("sm_90a"); `options` are nvJitLink's ("-lto"...).
// CompileError when nvJitLink cannot be loaded or the link fails (above).
std::vector<char> link_device_code(const std::vector<LinkInput>& inputs, const std::string& arch,
                                   const std::vector<std::string>& options);
// The PTX of `inputs` (LTO IR, optimised together: nvJitLink's -lto -ptx) for `arch`; functions that
// no input defines stay declared .extern in it, for a later link to resolve. CompileError as above.
std::string link_to_ptx(const std::vector<LinkInput>& inputs, const std::string& arch);

// Why nvJitLink cannot be used ("" when it can). Never throws.
std::string nvjitlink_unavailable_reason();
// The exact build of nvJitLink, for cache keys: "libnvJitLink 13.0 at <path> (<size> bytes, modified
// <time>)" (toolkit_library.h). CompileError when it cannot be loaded.
std::string nvjitlink_identity();

}  // namespace tilescale::jit
