// Overflow-checked size arithmetic (element counts and byte counts of tensors and buffers) and the
// one parse of a whole number from text (command lines, environment variables).
//
//   auto n = checked_product(shape, bytes(dtype));   // nullopt when it exceeds 2^63-1
//   if (!n) throw RuntimeError(cat("cannot make a tensor of ", describe(shape), " because ..."));
//
// Every place that multiplies extents into a count goes through these, so that a huge size is a
// clear error naming the value instead of a wrapped count and a short buffer.
#pragma once

#include <charconv>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace tilescale {

// a * b, or nullopt when it does not fit in int64.
inline std::optional<std::int64_t> checked_mul(std::int64_t a, std::int64_t b) {
  std::int64_t out = 0;
  if (__builtin_mul_overflow(a, b, &out)) return std::nullopt;
  return out;
}

// a + b, or nullopt when it does not fit in int64.
inline std::optional<std::int64_t> checked_add(std::int64_t a, std::int64_t b) {
  std::int64_t out = 0;
  if (__builtin_add_overflow(a, b, &out)) return std::nullopt;
  return out;
}

// scale times the product of `extents` (each >= 0), or nullopt when any step exceeds int64. A zero
// extent makes the product 0 whatever the others are.
inline std::optional<std::int64_t> checked_product(const std::vector<std::int64_t>& extents, std::int64_t scale = 1) {
  for (std::int64_t e : extents)
    if (e == 0) return 0;
  std::optional<std::int64_t> n = scale;
  for (std::int64_t e : extents)
    if (!(n = checked_mul(*n, e))) return std::nullopt;
  return n;
}

// `text` as a whole decimal number from lo to hi, or nullopt: empty, not a number, trailing
// characters (spaces and a leading '+' included), or out of range.
inline std::optional<std::int64_t> parse_integer(std::string_view text, std::int64_t lo, std::int64_t hi) {
  std::int64_t v = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc() || ptr != end || v < lo || v > hi) return std::nullopt;
  return v;
}

}  // namespace tilescale
