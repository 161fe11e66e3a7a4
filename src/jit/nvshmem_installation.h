// Finding NVSHMEM: the one installation whose headers kernels that call NVSHMEM compile against,
// whose device library they link with, and whose host library the `nvshmem` transport loads.
//
//   const jit::NvshmemSearch& s = jit::find_nvshmem();
//   if (!s.installation) std::puts(s.why_not.c_str());
//   else link_with(s.installation->device_archive, s.installation->host_library);
//
// Where it looks, in order; the first place that has NVSHMEM is taken:
//   1. $NVSHMEM_HOME, an installation laid out as NVSHMEM's tarball is (include/ and lib/ below it).
//      When it is set, it is the only place looked at: a broken NVSHMEM_HOME is an error naming
//      what it lacks, never passed over for something else.
//   2. The pip wheel nvidia-nvshmem-cu13 (or -cu12), found WITHOUT running python: for each
//      directory on PATH, in PATH order, that holds a python3 or python3.N, its nvidia/nvshmem under
//        <dir>/../lib/python3.*/site-packages   <dir>/../lib/python3.*/dist-packages
//        <dir>/../lib/python3/dist-packages     <dir>/../local/lib/python3.*/dist-packages
//      (a virtual environment's, the system's, Debian's and pip-as-root's), then under the user
//      site-packages $HOME/.local/lib/python3.*/site-packages. Each set of python3.* directories is
//      taken in name order.
//   3. Only when the file system shows none: `python3 -c 'import nvidia.nvshmem'` (a pyenv shim,
//      or a site-packages elsewhere), through support/python_module.h.
// A place counts when it has everything below; one that lacks some of it is passed over, and what
// it lacks is in why_not when nothing is found.
//
// Nothing is hard-coded per version: the layout is probed. NVSHMEM 3.4 ships one device bitcode
// library, lib/libnvshmem_device.bc; 3.8 ships one per architecture, lib/libnvshmem_device_sm_XX.bc
// (and its transports as .so.7). Both ship lib/libnvshmem_device.a, the library nvJitLink links
// (REFERENCE.md §3). The version comes from include/non_abi/nvshmem_version.h (or, in older
// releases, include/nvshmem_version.h): NVSHMEM_VENDOR_MAJOR/MINOR/PATCH_VERSION.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace tilescale::jit {

struct NvshmemInstallation {
  std::string root;           // the directory holding include/ and lib/
  std::string include_dir;    // <root>/include, holding nvshmem.h
  std::string version;        // "3.8.0"
  std::string host_library;   // <root>/lib/libnvshmem_host.so.3 (the highest .so.N shipped)
  std::string device_archive;  // <root>/lib/libnvshmem_device.a; "" when not shipped
  std::string device_bitcode;  // <root>/lib/libnvshmem_device.bc, for every arch (3.4); "" when not shipped
  std::vector<int> device_bitcode_sms;  // XX of each <root>/lib/libnvshmem_device_sm_XX.bc (3.8), ascending
  std::string found_by;  // how it was found: "NVSHMEM_HOME", "the site-packages of /usr/bin/python3", ...
};

// The outcome of a search: an installation, or why none was taken (installation empty).
struct NvshmemSearch {
  std::optional<NvshmemInstallation> installation;
  // "" when found; else the reason and the remedy, "<why>; <do this>", e.g.
  //   NVSHMEM_HOME=/opt/nvshmem has no include/nvshmem.h, no lib/libnvshmem_host.so.N; point
  //   NVSHMEM_HOME at an NVSHMEM installation (the directory holding include/ and lib/), or unset
  //   it to use the pip wheel nvidia-nvshmem-cu13
  std::string why_not;
};

// Searches as above, reading NVSHMEM_HOME, PATH and HOME through `getenv` (nullptr or "" for an unset
// variable) and asking `python_module_dir` ("nvidia.nvshmem" → its directory, "" when python cannot
// import it) as the last resort, so that tests run it on fake trees. Never throws for what it finds.
NvshmemSearch find_nvshmem_from(const std::function<const char*(const char*)>& getenv,
                                const std::function<std::string(const std::string&)>& python_module_dir);

// find_nvshmem_from(std::getenv, support/python_module.h), searched once per process.
const NvshmemSearch& find_nvshmem();

// The device bitcode library to link for `arch` ("sm_90a"): the one for every arch (3.4), else the
// per-arch one for the newest sm_XX not above arch's (3.8: sm_90a takes sm_90, sm_86 takes sm_80).
// RuntimeError when the installation has none that fits: "cannot link NVSHMEM for sm_70 because
// NVSHMEM 3.8.0 at <root> ships device bitcode for sm_75, sm_80, ... only; compile for one of them".
std::string nvshmem_device_bitcode(const NvshmemInstallation& nvshmem, const std::string& arch);

// One line for `tilescale doctor`: "3.8.0 at <root> (found by <found_by>; host library
// libnvshmem_host.so.3; device library libnvshmem_device.a; device bitcode for sm_75, sm_80, ...)".
std::string describe(const NvshmemInstallation& nvshmem);

}  // namespace tilescale::jit
