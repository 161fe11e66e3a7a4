#include "tilescale/dtype.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "tilescale/errors.h"

namespace tilescale {
namespace {

struct Info {
  DataType type;
  const char* name;
  const char* c_type;
  int bits;
};

constexpr Info kInfo[] = {
    {DataType::Bool, "bool", "bool", 8},
    {DataType::Int8, "int8", "signed char", 8},
    {DataType::Int16, "int16", "short", 16},
    {DataType::Int32, "int32", "int", 32},
    {DataType::Int64, "int64", "long long", 64},
    {DataType::UInt8, "uint8", "unsigned char", 8},
    {DataType::UInt16, "uint16", "unsigned short", 16},
    {DataType::UInt32, "uint32", "unsigned int", 32},
    {DataType::UInt64, "uint64", "unsigned long long", 64},
    {DataType::Float16, "float16", "half_t", 16},
    {DataType::BFloat16, "bfloat16", "bfloat16_t", 16},
    {DataType::Float32, "float32", "float", 32},
    {DataType::Float64, "float64", "double", 64},
    {DataType::Float8E4M3, "float8_e4m3", "fp8_e4m3_t", 8},
    {DataType::Float8E5M2, "float8_e5m2", "fp8_e5m2_t", 8},
};

const Info& info(DataType t) {
  const auto& i = kInfo[static_cast<int>(t)];
  TS_ICHECK(i.type == t, "dtype table out of order");
  return i;
}

// Largest finite value of a format with `e` exponent and `m` mantissa bits. With infinity, the
// largest exponent field is reserved; without (e4m3), only the all-ones pattern is (NaN).
double format_max(int e, int m, bool has_inf) {
  const int bias = (1 << (e - 1)) - 1;
  const int max_exp_field = has_inf ? (1 << e) - 2 : (1 << e) - 1;
  const std::uint32_t max_mant = has_inf ? (1u << m) - 1 : (1u << m) - 2;
  return std::ldexp(1.0 + double(max_mant) / (1 << m), max_exp_field - bias);
}

// A binary floating format with `e` exponent bits and `m` mantissa bits, IEEE-like (subnormals).
// Encodes `v` rounding to nearest even. `max_finite` saturates (fp8 satfinite); when `has_inf`
// is false the format has no infinity (e4m3: the all-ones pattern is NaN).
std::uint32_t encode_float(double v, int e, int m, bool has_inf, bool saturate) {
  const std::uint32_t sign = std::signbit(v) ? 1u : 0u;
  const int bias = (1 << (e - 1)) - 1;
  const std::uint32_t sign_bit = sign << (e + m);
  if (std::isnan(v)) return sign_bit | (((1u << e) - 1) << m) | ((1u << m) - 1);
  double a = std::fabs(v);
  const double max_finite = format_max(e, m, has_inf);
  if (std::isinf(a) && !saturate) {
    return has_inf ? sign_bit | (((1u << e) - 1) << m) : sign_bit | (((1u << e) - 1) << m) | ((1u << m) - 1);
  }
  // Scale to an integer count of the smallest subnormal step, round half to even.
  const int min_exp = 1 - bias;  // exponent of the smallest normal
  int exp;
  std::frexp(a, &exp);           // a = f * 2^exp, f in [0.5, 1)
  int unbiased = exp - 1;
  if (unbiased < min_exp) unbiased = min_exp;
  const double step = std::ldexp(1.0, unbiased - m);
  double q = std::nearbyint(a / step);  // default rounding mode: to nearest even
  double r = q * step;
  if (r > max_finite || std::isinf(a)) {
    if (saturate) r = max_finite;
    else if (has_inf) return sign_bit | (((1u << e) - 1) << m);
    else return sign_bit | (((1u << e) - 1) << m) | ((1u << m) - 1);
  }
  if (r == 0) return sign_bit;
  int rexp;
  double rf = std::frexp(r, &rexp);  // r = rf * 2^rexp
  int ue = rexp - 1;
  if (ue < min_exp) {  // subnormal
    auto mant = static_cast<std::uint32_t>(std::ldexp(r, m - min_exp));
    return sign_bit | mant;
  }
  auto mant = static_cast<std::uint32_t>(std::ldexp(rf * 2.0 - 1.0, m));
  return sign_bit | (std::uint32_t(ue + bias) << m) | mant;
}

double decode_float(std::uint32_t bits_, int e, int m, bool has_inf) {
  const int bias = (1 << (e - 1)) - 1;
  const bool neg = (bits_ >> (e + m)) & 1;
  const std::uint32_t ef = (bits_ >> m) & ((1u << e) - 1);
  const std::uint32_t mf = bits_ & ((1u << m) - 1);
  double v;
  if (ef == (1u << e) - 1 && (has_inf || mf == (1u << m) - 1)) {
    v = (has_inf && mf == 0) ? std::numeric_limits<double>::infinity() : std::numeric_limits<double>::quiet_NaN();
  } else if (ef == 0) {
    v = std::ldexp(double(mf), 1 - bias - m);
  } else {
    v = std::ldexp(1.0 + double(mf) / (1 << m), int(ef) - bias);
  }
  return neg ? -v : v;
}

struct FloatFormat {
  int e, m;
  bool has_inf, saturate;
};

std::optional<FloatFormat> narrow_format(DataType t) {
  switch (t) {
    case DataType::Float16: return FloatFormat{5, 10, true, false};
    case DataType::BFloat16: return FloatFormat{8, 7, true, false};
    case DataType::Float8E4M3: return FloatFormat{4, 3, false, true};
    case DataType::Float8E5M2: return FloatFormat{5, 2, true, true};
    default: return std::nullopt;
  }
}

std::int64_t saturating_trunc(double v, DataType t) {
  if (std::isnan(v)) return 0;
  v = std::trunc(v);
  const int b = bits(t);
  if (is_signed(t)) {
    const double lo = -std::ldexp(1.0, b - 1), hi = std::ldexp(1.0, b - 1) - 1;
    if (v <= lo) return b == 64 ? std::numeric_limits<std::int64_t>::min() : std::int64_t(lo);
    if (v >= hi) return b == 64 ? std::numeric_limits<std::int64_t>::max() : std::int64_t(hi);
    return std::int64_t(v);
  }
  if (v <= 0) return 0;
  const double hi = std::ldexp(1.0, b) - 1;
  if (v >= hi) return b == 64 ? std::int64_t(-1) : std::int64_t(hi);
  return b == 64 ? std::int64_t(std::uint64_t(v)) : std::int64_t(v);
}

}  // namespace

int bits(DataType t) { return info(t).bits; }
const char* name(DataType t) { return info(t).name; }
const char* c_type(DataType t) { return info(t).c_type; }

bool is_float(DataType t) { return t >= DataType::Float16; }
bool is_integer(DataType t) { return t >= DataType::Int8 && t <= DataType::UInt64; }
bool is_signed(DataType t) { return (t >= DataType::Int8 && t <= DataType::Int64) || is_float(t); }

std::optional<DataType> parse_dtype(std::string_view s) {
  for (const auto& i : kInfo)
    if (s == i.name) return i.type;
  struct Alias { const char* name; DataType t; };
  static constexpr Alias aliases[] = {
      {"half", DataType::Float16},    {"fp16", DataType::Float16},      {"bf16", DataType::BFloat16},
      {"float", DataType::Float32},   {"fp32", DataType::Float32},      {"double", DataType::Float64},
      {"fp64", DataType::Float64},    {"int", DataType::Int32},         {"e4m3", DataType::Float8E4M3},
      {"e5m2", DataType::Float8E5M2}, {"float8_e4m3fn", DataType::Float8E4M3},
  };
  for (const auto& a : aliases)
    if (s == a.name) return a.t;
  return std::nullopt;
}

std::int64_t wrap_to(DataType t, std::int64_t v) {
  switch (t) {
    case DataType::Bool: return v != 0;
    case DataType::Int8: return std::int8_t(v);
    case DataType::Int16: return std::int16_t(v);
    case DataType::Int32: return std::int32_t(v);
    case DataType::UInt8: return std::uint8_t(v);
    case DataType::UInt16: return std::uint16_t(v);
    case DataType::UInt32: return std::uint32_t(v);
    default: return v;  // 64-bit: the bits are the value
  }
}

// Fast paths for the common 16-bit floats (the generic coder is exact but slow for big tensors).
// float16 goes through the compiler's _Float16 where it has one (correctly rounded from double);
// bfloat16 rounds the float's bits to nearest even when v is exactly a float (no double rounding).
std::optional<std::uint16_t> fast_encode16(DataType t, double v) {
#ifdef __FLT16_MANT_DIG__
  if (t == DataType::Float16) {
    const _Float16 h = static_cast<_Float16>(v);
    std::uint16_t raw;
    std::memcpy(&raw, &h, 2);
    return raw;
  }
#endif
  if (t == DataType::BFloat16 && !std::isnan(v) && double(float(v)) == v) {
    const float f = float(v);
    std::uint32_t u;
    std::memcpy(&u, &f, 4);
    u += 0x7FFF + ((u >> 16) & 1);
    return static_cast<std::uint16_t>(u >> 16);
  }
  return std::nullopt;
}

std::optional<double> fast_decode16(DataType t, std::uint16_t raw) {
#ifdef __FLT16_MANT_DIG__
  if (t == DataType::Float16) {
    _Float16 h;
    std::memcpy(&h, &raw, 2);
    return static_cast<double>(h);
  }
#endif
  if (t == DataType::BFloat16) {
    const std::uint32_t u = std::uint32_t(raw) << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
  }
  return std::nullopt;
}

double round_to(DataType t, double v) {
  if (t == DataType::Float64) return v;
  if (t == DataType::Float32) return double(float(v));
  if (auto raw = fast_encode16(t, v)) return *fast_decode16(t, *raw);
  if (auto f = narrow_format(t)) return decode_float(encode_float(v, f->e, f->m, f->has_inf, f->saturate), f->e, f->m, f->has_inf);
  if (t == DataType::Bool) return v != 0;
  const std::int64_t i = saturating_trunc(v, t);
  return t == DataType::UInt64 ? double(std::uint64_t(i)) : double(i);
}

double max_finite(DataType t) {
  if (t == DataType::Float64) return std::numeric_limits<double>::max();
  if (t == DataType::Float32) return std::numeric_limits<float>::max();
  auto f = narrow_format(t);
  TS_ICHECK(f, "max_finite of ", name(t));
  return format_max(f->e, f->m, f->has_inf);
}

double load_as_double(DataType t, const void* p) {
  switch (t) {
    case DataType::Float64: { double d; std::memcpy(&d, p, 8); return d; }
    case DataType::Float32: { float f; std::memcpy(&f, p, 4); return f; }
    case DataType::UInt64: { std::uint64_t u; std::memcpy(&u, p, 8); return double(u); }
    default: break;
  }
  if (auto f = narrow_format(t)) {
    std::uint32_t raw = 0;
    std::memcpy(&raw, p, bytes(t));
    if (auto d = fast_decode16(t, static_cast<std::uint16_t>(raw))) return *d;
    return decode_float(raw, f->e, f->m, f->has_inf);
  }
  return double(load_as_int(t, p));
}

std::int64_t load_as_int(DataType t, const void* p) {
  if (is_float(t)) return saturating_trunc(load_as_double(t, p), DataType::Int64);
  std::int64_t raw = 0;
  std::memcpy(&raw, p, bytes(t));  // little endian: the low bytes hold the value
  return wrap_to(t == DataType::Bool ? DataType::UInt8 : t, raw);
}

void store_double(DataType t, double v, void* p) {
  switch (t) {
    case DataType::Float64: std::memcpy(p, &v, 8); return;
    case DataType::Float32: { float f = float(v); std::memcpy(p, &f, 4); return; }
    default: break;
  }
  if (auto raw16 = fast_encode16(t, v)) {
    std::memcpy(p, &*raw16, 2);
    return;
  }
  if (auto f = narrow_format(t)) {
    std::uint32_t raw = encode_float(v, f->e, f->m, f->has_inf, f->saturate);
    std::memcpy(p, &raw, bytes(t));
    return;
  }
  if (t == DataType::Bool) return store_int(t, v != 0, p);
  store_int(t, saturating_trunc(v, t), p);
}

void store_int(DataType t, std::int64_t v, void* p) {
  if (is_float(t)) return store_double(t, double(v), p);
  if (t == DataType::Bool) v = v != 0;
  std::memcpy(p, &v, bytes(t));  // little endian: the low bytes are the wrapped value
}

}  // namespace tilescale
