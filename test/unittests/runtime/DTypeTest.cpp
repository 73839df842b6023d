//===- DTypeTest.cpp - tests of element types and 16-bit floats -----------===//
//
// The dtype tables, and the f16 / bf16 conversions checked against
// independent references: a value formula for every one of the 65536 bit
// patterns, a nearest-value search (ties to even) over the sorted f16
// values for f32 -> f16, exhaustive ties and near-ties between all adjacent
// pairs of f16 values, and, where the compiler has _Float16, the compiler's
// own conversion.
//
//===----------------------------------------------------------------------===//

#include "support/DType.h"

#include "gtest/gtest.h"

#include <cfloat>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

namespace uoe::rt {
namespace {

uint32_t bitsOf(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, 4);
  return bits;
}
float floatOf(uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, 4);
  return value;
}

TEST(DTypeTest, Tables) {
  struct Row {
    DType dtype;
    size_t size;
    const char *name, *safetensors, *npy;
    bool isFloat;
  };
  const Row rows[] = {
      {DType::F32, 4, "f32", "F32", "<f4", true},
      {DType::F16, 2, "f16", "F16", "<f2", true},
      {DType::BF16, 2, "bf16", "BF16", "", true},
      {DType::F64, 8, "f64", "F64", "<f8", true},
      {DType::I64, 8, "i64", "I64", "<i8", false},
      {DType::I32, 4, "i32", "I32", "<i4", false},
      {DType::I8, 1, "i8", "I8", "|i1", false},
      {DType::U8, 1, "u8", "U8", "|u1", false},
      {DType::Bool, 1, "bool", "BOOL", "|b1", false},
  };
  ASSERT_EQ(std::size(rows), std::size(kAllDTypes));
  for (const Row &row : rows) {
    SCOPED_TRACE(row.name);
    EXPECT_EQ(dtypeSize(row.dtype), row.size);
    EXPECT_STREQ(dtypeName(row.dtype), row.name);
    EXPECT_STREQ(safetensorsDTypeName(row.dtype), row.safetensors);
    EXPECT_EQ(npyDescr(row.dtype), row.npy);
    EXPECT_EQ(isFloatingPoint(row.dtype), row.isFloat);
    EXPECT_EQ(parseDTypeName(row.name), row.dtype);
    EXPECT_EQ(parseSafetensorsDType(row.safetensors), row.dtype);
    EXPECT_FALSE(isKnownUnsupportedSafetensorsDType(row.safetensors));
  }
}

TEST(DTypeTest, UnknownNames) {
  EXPECT_EQ(parseDTypeName("F32"), std::nullopt); // Case matters.
  EXPECT_EQ(parseDTypeName("float32"), std::nullopt);
  EXPECT_EQ(parseDTypeName(""), std::nullopt);
  EXPECT_EQ(parseSafetensorsDType("f32"), std::nullopt);
  EXPECT_EQ(parseSafetensorsDType("F8_E4M3"), std::nullopt);
  EXPECT_TRUE(isKnownUnsupportedSafetensorsDType("F8_E4M3"));
  EXPECT_TRUE(isKnownUnsupportedSafetensorsDType("I16"));
  EXPECT_FALSE(isKnownUnsupportedSafetensorsDType("F33"));
}

//===----------------------------------------------------------------------===//
// f16
//===----------------------------------------------------------------------===//

/// The value of an f16 bit pattern from the IEEE formula, in double.
double f16Reference(uint16_t bits) {
  int sign = bits >> 15, exponent = (bits >> 10) & 31, mantissa = bits & 1023;
  double magnitude;
  if (exponent == 31)
    magnitude = mantissa ? std::numeric_limits<double>::quiet_NaN()
                         : std::numeric_limits<double>::infinity();
  else if (exponent == 0)
    magnitude = std::ldexp(mantissa, -24);
  else
    magnitude = std::ldexp(1024 + mantissa, exponent - 25);
  return sign ? -magnitude : magnitude;
}

TEST(F16Test, ToF32ExhaustiveMatchesFormula) {
  for (uint32_t bits = 0; bits < 65536; ++bits) {
    float value = f16BitsToF32(static_cast<uint16_t>(bits));
    double expected = f16Reference(static_cast<uint16_t>(bits));
    if (std::isnan(expected)) {
      ASSERT_TRUE(std::isnan(value)) << bits;
      // Sign and payload survive.
      EXPECT_EQ(bitsOf(value) >> 31, bits >> 15) << bits;
      EXPECT_EQ((bitsOf(value) >> 13) & 1023, bits & 1023) << bits;
    } else {
      ASSERT_EQ(static_cast<double>(value), expected) << "bits " << bits;
      ASSERT_EQ(std::signbit(value), (bits >> 15) != 0) << bits; // -0
    }
  }
}

TEST(F16Test, RoundTripExhaustive) {
  for (uint32_t bits = 0; bits < 65536; ++bits) {
    uint16_t back = f32ToF16Bits(f16BitsToF32(static_cast<uint16_t>(bits)));
    bool isNan = (bits & 0x7c00) == 0x7c00 && (bits & 0x3ff) != 0;
    if (isNan) {
      EXPECT_EQ(back & 0x7c00, 0x7c00) << bits;
      EXPECT_NE(back & 0x3ff, 0) << bits;
      EXPECT_NE(back & 0x200, 0) << "NaN not quiet: " << bits;
      EXPECT_EQ(back >> 15, bits >> 15) << bits;
    } else {
      ASSERT_EQ(back, bits);
    }
  }
}

TEST(F16Test, TiesRoundToEvenBetweenEveryAdjacentPair) {
  // Every midpoint of two adjacent finite f16 values needs 12 significant
  // bits, so it is exact in f32; its f32 neighbours are just off the tie.
  for (uint32_t low = 0; low < 0x7bff; ++low) {
    double a = f16Reference(static_cast<uint16_t>(low));
    double b = f16Reference(static_cast<uint16_t>(low + 1));
    float mid = static_cast<float>((a + b) / 2);
    ASSERT_EQ(static_cast<double>(mid), (a + b) / 2);
    uint16_t even = (low & 1) ? low + 1 : low;
    for (uint16_t sign : {0, 0x8000}) {
      float m = sign ? -mid : mid;
      ASSERT_EQ(f32ToF16Bits(m), even | sign) << "tie above " << low;
      float below = std::nextafter(mid, 0.0f),
            above = std::nextafter(mid, 1e9f);
      ASSERT_EQ(f32ToF16Bits(sign ? -below : below), low | sign) << low;
      ASSERT_EQ(f32ToF16Bits(sign ? -above : above), (low + 1) | sign) << low;
    }
  }
}

TEST(F16Test, OverflowUnderflowAndSpecials) {
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(f32ToF16Bits(65504.0f), 0x7bff);
  EXPECT_EQ(f32ToF16Bits(std::nextafter(65520.0f, 0.0f)), 0x7bff);
  EXPECT_EQ(f32ToF16Bits(65520.0f), 0x7c00); // Tie with 2^16 goes to even.
  EXPECT_EQ(f32ToF16Bits(1e6f), 0x7c00);
  EXPECT_EQ(f32ToF16Bits(FLT_MAX), 0x7c00);
  EXPECT_EQ(f32ToF16Bits(-FLT_MAX), 0xfc00);
  EXPECT_EQ(f32ToF16Bits(inf), 0x7c00);
  EXPECT_EQ(f32ToF16Bits(-inf), 0xfc00);
  EXPECT_EQ(f32ToF16Bits(0.0f), 0x0000);
  EXPECT_EQ(f32ToF16Bits(-0.0f), 0x8000);
  EXPECT_EQ(f32ToF16Bits(std::ldexp(1.0f, -14)), 0x0400); // Smallest normal.
  EXPECT_EQ(f32ToF16Bits(std::ldexp(1.0f, -24)), 0x0001); // Smallest subnormal.
  EXPECT_EQ(f32ToF16Bits(std::ldexp(1.0f, -25)), 0x0000); // Tie: to even 0.
  EXPECT_EQ(f32ToF16Bits(std::nextafter(std::ldexp(1.0f, -25), 1.0f)), 0x0001);
  EXPECT_EQ(f32ToF16Bits(std::ldexp(3.0f, -26)), 0x0001); // 0.75 ulp: 1.
  EXPECT_EQ(f32ToF16Bits(std::ldexp(3.0f, -25)), 0x0002); // Tie 1.5: to 2.
  EXPECT_EQ(f32ToF16Bits(std::ldexp(5.0f, -25)), 0x0002); // Tie 2.5: to 2.
  EXPECT_EQ(f32ToF16Bits(-std::ldexp(1.0f, -30)), 0x8000);
  EXPECT_EQ(f32ToF16Bits(floatOf(1)), 0x0000); // f32 subnormal.
  // A subnormal that rounds up into the smallest normal.
  EXPECT_EQ(f32ToF16Bits(std::nextafter(std::ldexp(1.0f, -14), 0.0f)), 0x0400);
  EXPECT_EQ(f32ToF16Bits(1.0f), 0x3c00);
  EXPECT_EQ(f32ToF16Bits(-2.0f), 0xc000);
  // 1 + 2^-11 is the tie between 1 and 1 + 2^-10: to even (1).
  EXPECT_EQ(f32ToF16Bits(1.0f + std::ldexp(1.0f, -11)), 0x3c00);
  EXPECT_EQ(f32ToF16Bits(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02);

  uint16_t nan = f32ToF16Bits(std::numeric_limits<float>::quiet_NaN());
  EXPECT_EQ(nan & 0x7e00, 0x7e00);
  uint16_t signalling = f32ToF16Bits(floatOf(0x7f800001)); // Payload lost.
  EXPECT_EQ(signalling, 0x7e00); // Still a NaN, not infinity.
  EXPECT_EQ(f32ToF16Bits(floatOf(0xffc00000)) & 0xfe00, 0xfe00);
}

/// f32 -> f16 by searching the sorted f16 values for the nearest one.
uint16_t f16Nearest(float value, const std::vector<double> &positive) {
  uint16_t sign = std::signbit(value) ? 0x8000 : 0;
  double magnitude = std::fabs(static_cast<double>(value));
  if (magnitude >= 65520.0)
    return sign | 0x7c00;
  // positive[i] is the value of bits i, increasing for i in [0, 0x7bff].
  auto it = std::upper_bound(positive.begin(), positive.end(), magnitude);
  size_t upper = static_cast<size_t>(it - positive.begin());
  size_t lower = upper - 1; // positive[0] = 0 <= magnitude.
  if (upper == positive.size() || positive[lower] == magnitude)
    return sign | static_cast<uint16_t>(lower);
  double down = magnitude - positive[lower], up = positive[upper] - magnitude;
  if (down < up || (down == up && (lower & 1) == 0))
    return sign | static_cast<uint16_t>(lower);
  return sign | static_cast<uint16_t>(upper);
}

TEST(F16Test, FromF32MatchesNearestValueSearch) {
  std::vector<double> positive;
  for (uint32_t bits = 0; bits <= 0x7bff; ++bits)
    positive.push_back(f16Reference(static_cast<uint16_t>(bits)));
  std::mt19937 rng(1234);
  std::uniform_int_distribution<uint32_t> anyBits;
  // Exponents where f16 is not trivially 0 or infinity get most samples.
  std::uniform_int_distribution<uint32_t> nearRange(0x32000000u, 0x47900000u);
  auto check = [&](uint32_t bits) {
    float value = floatOf(bits);
    if (std::isnan(value))
      return;
    ASSERT_EQ(f32ToF16Bits(value), f16Nearest(value, positive))
        << "f32 bits 0x" << std::hex << bits;
  };
  for (int i = 0; i < 200000; ++i)
    check(anyBits(rng));
  for (int i = 0; i < 400000; ++i)
    check(nearRange(rng) | (i & 1 ? 0x80000000u : 0u));
  for (uint64_t bits = 0; bits < (uint64_t(1) << 32); bits += 4099)
    check(static_cast<uint32_t>(bits));
}

#ifdef __FLT16_MAX__
TEST(F16Test, AgreesWithCompilerFloat16) {
  std::mt19937 rng(99);
  std::uniform_int_distribution<uint32_t> anyBits;
  for (int i = 0; i < 500000; ++i) {
    float value = floatOf(anyBits(rng));
    if (std::isnan(value))
      continue;
    _Float16 half = static_cast<_Float16>(value);
    uint16_t expected;
    std::memcpy(&expected, &half, 2);
    ASSERT_EQ(f32ToF16Bits(value), expected) << value;
  }
  for (uint32_t bits = 0; bits < 65536; ++bits) {
    _Float16 half;
    uint16_t pattern = static_cast<uint16_t>(bits);
    std::memcpy(&half, &pattern, 2);
    float expected = static_cast<float>(half);
    if (!std::isnan(expected)) {
      ASSERT_EQ(bitsOf(f16BitsToF32(pattern)), bitsOf(expected)) << bits;
    }
  }
}
#endif

//===----------------------------------------------------------------------===//
// bf16
//===----------------------------------------------------------------------===//

TEST(Bf16Test, ToF32ExhaustiveIsUpperHalf) {
  for (uint32_t bits = 0; bits < 65536; ++bits) {
    float value = bf16BitsToF32(static_cast<uint16_t>(bits));
    ASSERT_EQ(bitsOf(value), bits << 16);
  }
  EXPECT_EQ(bf16BitsToF32(0x3f80), 1.0f);
  EXPECT_EQ(bf16BitsToF32(0xc040), -3.0f);
}

TEST(Bf16Test, RoundTripExhaustive) {
  for (uint32_t bits = 0; bits < 65536; ++bits) {
    uint16_t back = f32ToBf16Bits(bf16BitsToF32(static_cast<uint16_t>(bits)));
    bool isNan = (bits & 0x7f80) == 0x7f80 && (bits & 0x7f) != 0;
    if (isNan) {
      EXPECT_EQ(back & 0x7fc0, 0x7fc0) << bits; // Quiet NaN.
      EXPECT_EQ(back >> 15, bits >> 15);
    } else {
      ASSERT_EQ(back, bits);
    }
  }
}

/// f32 -> bf16 by comparing the distances to the two candidates in double.
uint16_t bf16Nearest(float value) {
  uint32_t bits = bitsOf(value);
  uint32_t lower = bits & 0xffff0000u;
  if (lower == bits)
    return static_cast<uint16_t>(bits >> 16);
  uint32_t upper = lower + 0x10000u; // Next magnitude, same sign.
  auto magnitude = [](uint32_t pattern) {
    // The pattern after the largest finite one is infinity; as a rounding
    // target it sits at 2^128.
    if ((pattern & 0x7fffffffu) == 0x7f800000u)
      return std::ldexp(1.0, 128);
    return std::fabs(static_cast<double>(floatOf(pattern)));
  };
  double x = std::fabs(static_cast<double>(value));
  double down = x - magnitude(lower), up = magnitude(upper) - x;
  if (down < up || (down == up && ((lower >> 16) & 1) == 0))
    return static_cast<uint16_t>(lower >> 16);
  return static_cast<uint16_t>(upper >> 16);
}

TEST(Bf16Test, FromF32MatchesNearestValue) {
  std::mt19937 rng(4321);
  std::uniform_int_distribution<uint32_t> anyBits;
  for (int i = 0; i < 500000; ++i) {
    uint32_t bits = anyBits(rng);
    // Every eighth sample is an exact tie.
    if (i % 8 == 0)
      bits = (bits & 0xffff0000u) | 0x8000u;
    float value = floatOf(bits);
    if (std::isnan(value))
      continue;
    ASSERT_EQ(f32ToBf16Bits(value), bf16Nearest(value))
        << "f32 bits 0x" << std::hex << bits;
  }
}

TEST(Bf16Test, TiesOverflowAndSpecials) {
  EXPECT_EQ(f32ToBf16Bits(floatOf(0x3f808000)), 0x3f80); // Tie, even below.
  EXPECT_EQ(f32ToBf16Bits(floatOf(0x3f818000)), 0x3f82); // Tie, even above.
  EXPECT_EQ(f32ToBf16Bits(floatOf(0x3f808001)), 0x3f81);
  EXPECT_EQ(f32ToBf16Bits(floatOf(0x3f807fff)), 0x3f80);
  EXPECT_EQ(f32ToBf16Bits(FLT_MAX), 0x7f80);
  EXPECT_EQ(f32ToBf16Bits(-FLT_MAX), 0xff80);
  EXPECT_EQ(f32ToBf16Bits(floatOf(0x7f7f7fff)), 0x7f7f); // Largest finite.
  EXPECT_EQ(f32ToBf16Bits(std::numeric_limits<float>::infinity()), 0x7f80);
  EXPECT_EQ(f32ToBf16Bits(-0.0f), 0x8000);
  EXPECT_EQ(f32ToBf16Bits(floatOf(0x00008000)), 0x0000); // Subnormal tie.
  EXPECT_EQ(f32ToBf16Bits(floatOf(0x00018000)), 0x0002);
  EXPECT_EQ(f32ToBf16Bits(floatOf(0x7f800001)), 0x7fc0); // sNaN: quiet NaN.
  EXPECT_EQ(f32ToBf16Bits(floatOf(0xff800001)), 0xffc0);
  EXPECT_EQ(f32ToBf16Bits(floatOf(0x7fffffff)), 0x7fff); // No carry to inf.
}

} // namespace
} // namespace uoe::rt
