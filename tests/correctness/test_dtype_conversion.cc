// Value conversions (round_to, store_double, load_as_double): the rules every backend follows.
#include <cmath>
#include <cstring>

#include "test_util.h"

namespace tilescale::test {
namespace {

constexpr double kInf = INFINITY;

double via_storage(DataType t, double v) {
  unsigned char buf[8] = {};
  store_double(t, v, buf);
  return load_as_double(t, buf);
}

// round_to and a store/load round trip agree.
void expect_rounds(DataType t, double v, double expected) {
  const double r = round_to(t, v), s = via_storage(t, v);
  if (std::isnan(expected)) {
    EXPECT_TRUE(std::isnan(r)) << name(t) << " round_to(" << v << ") = " << r;
    EXPECT_TRUE(std::isnan(s)) << name(t) << " stored " << v << " reads " << s;
  } else {
    EXPECT_EQ(r, expected) << name(t) << " round_to(" << v << ")";
    EXPECT_EQ(s, expected) << name(t) << " stored " << v;
  }
}

TEST(Float16, LargestFiniteAndOverflow) {
  EXPECT_EQ(max_finite(DataType::Float16), 65504);
  expect_rounds(DataType::Float16, 65504, 65504);
  expect_rounds(DataType::Float16, 65519.99, 65504);  // below the midpoint to 65536
  expect_rounds(DataType::Float16, 65520, kInf);      // the midpoint: ties to even → overflow
  expect_rounds(DataType::Float16, -65520, -kInf);
  expect_rounds(DataType::Float16, 1e6, kInf);
  expect_rounds(DataType::Float16, kInf, kInf);
  expect_rounds(DataType::Float16, -kInf, -kInf);
}

TEST(Float16, Subnormals) {
  const double tiny = std::ldexp(1.0, -24);  // smallest subnormal
  expect_rounds(DataType::Float16, tiny, tiny);
  expect_rounds(DataType::Float16, 3 * tiny, 3 * tiny);
  expect_rounds(DataType::Float16, std::ldexp(1.0, -14), std::ldexp(1.0, -14));  // smallest normal
  expect_rounds(DataType::Float16, tiny / 2, 0);                 // tie between 0 and tiny: even (0)
  expect_rounds(DataType::Float16, tiny * 0.51, tiny);
  expect_rounds(DataType::Float16, tiny * 1.5, 2 * tiny);        // tie between 1 and 2 steps: even
  expect_rounds(DataType::Float16, tiny * 2.5, 2 * tiny);
  expect_rounds(DataType::Float16, tiny / 4, 0);
  EXPECT_TRUE(std::signbit(round_to(DataType::Float16, -tiny / 4))) << "-0 keeps its sign";
}

TEST(Float16, RoundsToNearestEven) {
  expect_rounds(DataType::Float16, 1 + std::ldexp(1.0, -11), 1);                        // tie → even
  expect_rounds(DataType::Float16, 1 + 3 * std::ldexp(1.0, -11), 1 + std::ldexp(1.0, -9));  // tie → even
  expect_rounds(DataType::Float16, 2049, 2048);
  expect_rounds(DataType::Float16, 2051, 2052);
  expect_rounds(DataType::Float16, 0.1, 0.0999755859375);
}

TEST(BFloat16, RoundsToNearestEven) {
  expect_rounds(DataType::BFloat16, 1 + std::ldexp(1.0, -8), 1);                     // tie → even
  expect_rounds(DataType::BFloat16, 1 + 3 * std::ldexp(1.0, -8), 1 + std::ldexp(1.0, -6));
  expect_rounds(DataType::BFloat16, 1 + std::ldexp(1.0, -8) + std::ldexp(1.0, -20), 1 + std::ldexp(1.0, -7));
  expect_rounds(DataType::BFloat16, 256.5, 256);
  expect_rounds(DataType::BFloat16, 257, 256);   // spacing 2 at 256: tie → even
  expect_rounds(DataType::BFloat16, 259, 260);
  expect_rounds(DataType::BFloat16, 3.4e38, kInf);  // above bf16's largest finite (3.3895e38) midpoint
  expect_rounds(DataType::BFloat16, 3.389e38, max_finite(DataType::BFloat16));
  EXPECT_NEAR(max_finite(DataType::BFloat16), 3.3895313892515355e38, 1e30);
  expect_rounds(DataType::BFloat16, std::ldexp(1.0, -133), std::ldexp(1.0, -133));  // subnormal
}

TEST(Float8E4M3, LargestFiniteAndSaturation) {
  EXPECT_EQ(max_finite(DataType::Float8E4M3), 448);
  expect_rounds(DataType::Float8E4M3, 448, 448);
  expect_rounds(DataType::Float8E4M3, 449, 448);
  expect_rounds(DataType::Float8E4M3, 480, 448);  // past the midpoint to the next binade: saturates
  expect_rounds(DataType::Float8E4M3, 1e6, 448);
  expect_rounds(DataType::Float8E4M3, -1e6, -448);
  expect_rounds(DataType::Float8E4M3, kInf, 448);  // satfinite: no infinity in e4m3
  expect_rounds(DataType::Float8E4M3, -kInf, -448);
  expect_rounds(DataType::Float8E4M3, 416, 416);
  expect_rounds(DataType::Float8E4M3, 400, 384);  // spacing 32 above 256: tie → even (384 = 1.5·256)
  expect_rounds(DataType::Float8E4M3, 432, 448);  // tie between 416 (odd) and 448 (even)
  expect_rounds(DataType::Float8E4M3, 0.1, 0.1015625);
  expect_rounds(DataType::Float8E4M3, std::ldexp(1.0, -9), std::ldexp(1.0, -9));  // smallest subnormal
  expect_rounds(DataType::Float8E4M3, std::ldexp(1.0, -11), 0);
}

TEST(Float8E5M2, LargestFiniteAndSaturation) {
  EXPECT_EQ(max_finite(DataType::Float8E5M2), 57344);
  expect_rounds(DataType::Float8E5M2, 57344, 57344);
  expect_rounds(DataType::Float8E5M2, 60000, 57344);
  expect_rounds(DataType::Float8E5M2, 1e6, 57344);
  expect_rounds(DataType::Float8E5M2, -1e6, -57344);
  expect_rounds(DataType::Float8E5M2, kInf, 57344);
  expect_rounds(DataType::Float8E5M2, 1.125, 1);   // spacing 0.25: tie → even
  expect_rounds(DataType::Float8E5M2, 1.375, 1.5);
  expect_rounds(DataType::Float8E5M2, std::ldexp(1.0, -16), std::ldexp(1.0, -16));  // smallest subnormal
}

TEST(NaN, StaysNaNInEveryFloatType) {
  const double nan = std::nan("");
  for (DataType t : {DataType::Float16, DataType::BFloat16, DataType::Float32, DataType::Float64,
                     DataType::Float8E4M3, DataType::Float8E5M2})
    expect_rounds(t, nan, nan);
}

TEST(FloatToInt, TruncatesTowardZeroAndSaturates) {
  expect_rounds(DataType::Int8, 2.9, 2);
  expect_rounds(DataType::Int8, -2.9, -2);
  expect_rounds(DataType::Int8, 127.9, 127);
  expect_rounds(DataType::Int8, 300.7, 127);
  expect_rounds(DataType::Int8, -300, -128);
  expect_rounds(DataType::Int8, std::nan(""), 0);
  expect_rounds(DataType::Int8, kInf, 127);
  expect_rounds(DataType::UInt8, -5, 0);
  expect_rounds(DataType::UInt8, 255.5, 255);
  expect_rounds(DataType::UInt8, 1000, 255);
  expect_rounds(DataType::Int16, -40000, -32768);
  expect_rounds(DataType::Int32, 3e10, 2147483647);
  expect_rounds(DataType::Int32, -3e10, -2147483648.0);
  expect_rounds(DataType::UInt32, 5e9, 4294967295.0);
  expect_rounds(DataType::Int64, 1e30, double(std::numeric_limits<std::int64_t>::max()));
  expect_rounds(DataType::Int64, -1e30, double(std::numeric_limits<std::int64_t>::min()));
  expect_rounds(DataType::Bool, 0, 0);
}

TEST(IntegerWrap, TwosComplement) {
  EXPECT_EQ(wrap_to(DataType::Int8, 200), -56);
  EXPECT_EQ(wrap_to(DataType::Int8, -129), 127);
  EXPECT_EQ(wrap_to(DataType::UInt8, -1), 255);
  EXPECT_EQ(wrap_to(DataType::Int16, 40000), 40000 - 65536);
  EXPECT_EQ(wrap_to(DataType::Int32, 2147483648LL), -2147483648LL);
  EXPECT_EQ(wrap_to(DataType::UInt32, -1), 4294967295LL);
  unsigned char buf[8];
  store_int(DataType::Int8, 200, buf);
  EXPECT_EQ(load_as_int(DataType::Int8, buf), -56);
  store_int(DataType::UInt16, 70000, buf);
  EXPECT_EQ(load_as_int(DataType::UInt16, buf), 70000 - 65536);
}

TEST(StorageLayout, Float16AndBFloat16Bits) {
  unsigned char buf[2];
  std::uint16_t bits16;
  store_double(DataType::Float16, 1.0, buf);
  std::memcpy(&bits16, buf, 2);
  EXPECT_EQ(bits16, 0x3C00);
  store_double(DataType::Float16, -65504, buf);
  std::memcpy(&bits16, buf, 2);
  EXPECT_EQ(bits16, 0xFBFF);
  store_double(DataType::BFloat16, 1.0, buf);
  std::memcpy(&bits16, buf, 2);
  EXPECT_EQ(bits16, 0x3F80);
  unsigned char b8;
  store_double(DataType::Float8E4M3, 448, &b8);
  EXPECT_EQ(b8, 0x7E);
  store_double(DataType::Float8E5M2, 57344, &b8);
  EXPECT_EQ(b8, 0x7B);
  store_double(DataType::Float8E4M3, -1.0, &b8);
  EXPECT_EQ(b8, 0xB8);
}

TEST(Float32, RoundsLikeAFloatCast) {
  expect_rounds(DataType::Float32, 0.1, double(0.1f));
  expect_rounds(DataType::Float32, 1 + std::ldexp(1.0, -24), 1);
  expect_rounds(DataType::Float32, 1e39, kInf);
  expect_rounds(DataType::Float64, 0.1, 0.1);
}

}  // namespace
}  // namespace tilescale::test
