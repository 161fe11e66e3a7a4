// A small, dependency-free 128-bit hash for cache keys and checksums.
//
//   jit::Hasher h;
//   h.add(source).add(arch).add(std::uint64_t{42});
//   std::string key = h.hex();   // 32 hex digits
//
// Two independent 64-bit lanes, each a multiply-rotate over 8-byte words with its own seed and
// prime, finished by the splitmix64 avalanche. Strings are fed with their length first, so
// ("ab", "c") and ("a", "bc") hash differently. Not cryptographic: it guards against accidental
// collisions and torn files, not against an adversary who can write the cache directory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

namespace tilescale::jit {

class Hasher {
 public:
  Hasher& add_bytes(const void* data, std::size_t n) {
    const auto* p = static_cast<const unsigned char*>(data);
    total_ += n;
    while (n > 0) {
      const std::size_t take = n < 8 - fill_ ? n : 8 - fill_;
      std::memcpy(buf_ + fill_, p, take);
      fill_ += take, p += take, n -= take;
      if (fill_ == 8) {
        std::uint64_t w;
        std::memcpy(&w, buf_, 8);
        mix(w);
        fill_ = 0;
      }
    }
    return *this;
  }
  Hasher& add(std::string_view s) {
    add(static_cast<std::uint64_t>(s.size()));
    return add_bytes(s.data(), s.size());
  }
  Hasher& add(const char* s) { return add(std::string_view(s)); }
  Hasher& add(const std::string& s) { return add(std::string_view(s)); }
  Hasher& add(std::uint64_t v) { return add_bytes(&v, sizeof v); }

  // The two lanes; the hasher may keep being fed afterwards.
  std::uint64_t high() const { return finish().first; }
  std::uint64_t low() const { return finish().second; }
  std::string hex() const {
    static const char* digits = "0123456789abcdef";
    auto [a, b] = finish();
    std::string s(32, '0');
    for (int i = 0; i < 16; ++i) {
      s[15 - i] = digits[(a >> (4 * i)) & 15];
      s[31 - i] = digits[(b >> (4 * i)) & 15];
    }
    return s;
  }

 private:
  static constexpr std::uint64_t kP1 = 0x9E3779B185EBCA87ull, kP2 = 0xC2B2AE3D27D4EB4Full;
  std::uint64_t a_ = 0x243F6A8885A308D3ull, b_ = 0x13198A2E03707344ull, total_ = 0;
  unsigned char buf_[8] = {};
  std::size_t fill_ = 0;

  static std::uint64_t rotl(std::uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }
  static std::uint64_t avalanche(std::uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  void mix(std::uint64_t w) {
    a_ = rotl(a_ ^ (w * kP2), 31) * kP1;
    b_ = rotl(b_ + (w * kP1), 27) * kP2 + 0x52DCE729ull;
  }
  std::pair<std::uint64_t, std::uint64_t> finish() const {
    std::uint64_t a = a_, b = b_;
    std::uint64_t tail = 0;
    std::memcpy(&tail, buf_, fill_);
    tail ^= static_cast<std::uint64_t>(fill_) << 56;
    a = rotl(a ^ (tail * kP2), 31) * kP1;
    b = rotl(b + (tail * kP1), 27) * kP2;
    a ^= total_;
    b ^= total_ * kP1;
    const std::uint64_t ha = avalanche(a + b), hb = avalanche(b ^ rotl(a, 17));
    return {ha, hb};
  }
};

inline std::uint64_t hash64(std::string_view s) { return Hasher().add_bytes(s.data(), s.size()).low(); }

}  // namespace tilescale::jit
