// The device headers (device/tilescale/*.h), embedded into the library at build time.
//
// Generated kernels include them as `#include "tilescale/copy.h"`; the JIT hands them to NVRTC in
// memory (nvrtcCreateProgram's headers/includeNames) or writes them to a temporary include folder
// for nvcc, so a compiled tilescale needs no source tree at run time. The CMake step that embeds
// them is cmake/embed_device_headers.cmake; it re-runs when a header changes or is added.
//
// Generated code includes them as "tilescale/xxx.h"; the headers include one another either so or
// by the bare name ("common.h", resolved beside the including header as nvcc does; NVRTC gets every
// header under both names). A bare name must not be that of a CUDA toolkit header (a test checks).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace tilescale::jit {

struct EmbeddedHeader {
  std::string_view include_name;  // "tilescale/common.h"
  std::string_view contents;
};

// Every embedded header, sorted by include name (empty when device/tilescale/ had no headers).
const std::vector<EmbeddedHeader>& device_headers();
// A hash of every include name and its contents: part of every kernel's cache key.
std::uint64_t device_headers_hash();

}  // namespace tilescale::jit
