#include "jit/device_headers.h"

#include <algorithm>

#include "jit/hash.h"

// Defined in the file cmake/embed_device_headers.cmake generates into the build tree.
namespace tilescale::jit::generated {
struct HeaderEntry {
  const char* name;
  const char* data;
  unsigned long size;
};
extern const HeaderEntry kDeviceHeaders[];
extern const unsigned long kDeviceHeaderCount;
}  // namespace tilescale::jit::generated

namespace tilescale::jit {

const std::vector<EmbeddedHeader>& device_headers() {
  static const std::vector<EmbeddedHeader> headers = [] {
    std::vector<EmbeddedHeader> v;
    for (unsigned long i = 0; i < generated::kDeviceHeaderCount; ++i) {
      const auto& e = generated::kDeviceHeaders[i];
      v.push_back({std::string_view(e.name), std::string_view(e.data, e.size)});
    }
    std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.include_name < b.include_name; });
    return v;
  }();
  return headers;
}

std::uint64_t device_headers_hash() {
  static const std::uint64_t h = [] {
    Hasher hasher;
    hasher.add(static_cast<std::uint64_t>(device_headers().size()));
    for (const auto& e : device_headers()) hasher.add(e.include_name).add(e.contents);
    return hasher.low();
  }();
  return h;
}

}  // namespace tilescale::jit
