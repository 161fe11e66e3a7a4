// Element types of tensors, buffers and expressions.
//
// The names follow TileLang ("float16", "bfloat16", "float8_e4m3"...). Narrow floating types are
// storage types: arithmetic on them rounds to the type after every operation, exactly as the GPU's
// native half/bfloat16 instructions do, so the CPU backend and the GPU agree bit for bit on
// element-wise code and within rounding on reductions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tilescale {

enum class DataType : std::uint8_t {
  Bool,
  Int8, Int16, Int32, Int64,
  UInt8, UInt16, UInt32, UInt64,
  Float16, BFloat16, Float32, Float64,
  Float8E4M3, Float8E5M2,
};

int bits(DataType t);
inline int bytes(DataType t) { return bits(t) == 1 ? 1 : bits(t) / 8; }
bool is_float(DataType t);
bool is_integer(DataType t);  // signed or unsigned integers, not bool
bool is_signed(DataType t);   // signed integers and floats
inline bool is_bool(DataType t) { return t == DataType::Bool; }

// "float16", "int32", "float8_e4m3"... and back; parse_dtype also accepts "half", "bf16", "fp16",
// "fp32", "float", "int", "e4m3", "e5m2".
const char* name(DataType t);
std::optional<DataType> parse_dtype(std::string_view s);

// The C/CUDA spelling used by generated code ("half_t", "bfloat16_t", "float"...).
const char* c_type(DataType t);

// Value conversions. Floats round to nearest even; conversions to 8-bit floats saturate to the
// largest finite value (the GPU's .satfinite); float → integer truncates toward zero and saturates
// (cvt.rzi.sat), NaN becomes 0.
double round_to(DataType t, double v);
double max_finite(DataType t);  // largest finite value of a float type (65504 for float16)          // v as stored in t, read back as double
std::int64_t wrap_to(DataType t, std::int64_t v);  // integer v as stored in t (two's complement)
double load_as_double(DataType t, const void* p);
std::int64_t load_as_int(DataType t, const void* p);
void store_double(DataType t, double v, void* p);
void store_int(DataType t, std::int64_t v, void* p);

}  // namespace tilescale
