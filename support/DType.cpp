//===- DType.cpp - tensor element types -----------------------------------===//
//
// Element type tables and the f32 <-> f16 / bf16 conversions. The
// conversions work on bit patterns so that they are exact and independent
// of the host's floating-point environment (no FPU rounding mode, no
// flush-to-zero can change a result).
//
//===----------------------------------------------------------------------===//

#include "support/DType.h"

#include <cstring>

namespace uoe::rt {

namespace {

struct DTypeInfo {
  DType dtype;
  size_t size;
  const char *name;
  const char *safetensorsName;
  const char *npyDescr; // "" when NumPy has no such type.
  bool isFloat;
};

constexpr DTypeInfo kDTypeInfos[] = {
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

constexpr bool tableIsInEnumOrder() {
  for (size_t i = 0; i < sizeof(kDTypeInfos) / sizeof(kDTypeInfos[0]); ++i)
    if (static_cast<size_t>(kDTypeInfos[i].dtype) != i)
      return false;
  return true;
}
static_assert(tableIsInEnumOrder(), "kDTypeInfos must follow enum DType");

const DTypeInfo &info(DType dtype) {
  // The table is in enum order, so the enum value is the index.
  return kDTypeInfos[static_cast<size_t>(dtype)];
}

uint32_t floatBits(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  return bits;
}

float bitsFloat(uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, sizeof(value));
  return value;
}

} // namespace

size_t dtypeSize(DType dtype) { return info(dtype).size; }
const char *dtypeName(DType dtype) { return info(dtype).name; }
const char *safetensorsDTypeName(DType dtype) {
  return info(dtype).safetensorsName;
}
std::string_view npyDescr(DType dtype) { return info(dtype).npyDescr; }
bool isFloatingPoint(DType dtype) { return info(dtype).isFloat; }

std::optional<DType> parseDTypeName(std::string_view name) {
  for (const DTypeInfo &entry : kDTypeInfos)
    if (name == entry.name)
      return entry.dtype;
  return std::nullopt;
}

std::optional<DType> parseSafetensorsDType(std::string_view name) {
  for (const DTypeInfo &entry : kDTypeInfos)
    if (name == entry.safetensorsName)
      return entry.dtype;
  return std::nullopt;
}

bool isKnownUnsupportedSafetensorsDType(std::string_view name) {
  // The dtypes of the safetensors format (v0.5) that we do not implement.
  static constexpr const char *kUnsupported[] = {
      "I16",     "U16",     "U32",     "U64",     "C64", "F8_E4M3",
      "F8_E5M2", "F8_E8M0", "F6_E2M3", "F6_E3M2", "F4"};
  for (const char *unsupported : kUnsupported)
    if (name == unsupported)
      return true;
  return false;
}

float f16BitsToF32(uint16_t bits) {
  uint32_t sign = static_cast<uint32_t>(bits & 0x8000u) << 16;
  uint32_t exponent = (bits >> 10) & 0x1fu;
  uint32_t mantissa = bits & 0x3ffu;
  if (exponent == 0x1f) // Inf or NaN: keep the payload in the top bits.
    return bitsFloat(sign | 0x7f800000u | (mantissa << 13));
  if (exponent != 0) // Normal: rebias the exponent from 15 to 127.
    return bitsFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
  if (mantissa == 0)
    return bitsFloat(sign);
  // Subnormal m * 2^-24: shift the leading one up to the implicit bit
  // position; each shift lowers the f32 exponent, which starts at that of
  // 2^-14 (biased 113).
  uint32_t f32Exponent = 113;
  while ((mantissa & 0x400u) == 0) {
    mantissa <<= 1;
    --f32Exponent;
  }
  mantissa &= 0x3ffu;
  return bitsFloat(sign | (f32Exponent << 23) | (mantissa << 13));
}

uint16_t f32ToF16Bits(float value) {
  uint32_t bits = floatBits(value);
  uint32_t sign = (bits >> 16) & 0x8000u;
  uint32_t magnitude = bits & 0x7fffffffu;

  if (magnitude > 0x7f800000u) // NaN: quiet it, keep the top payload bits.
    return static_cast<uint16_t>(sign | 0x7e00u | ((magnitude >> 13) & 0x3ffu));
  if (magnitude >= 0x47800000u) // >= 65536: infinity (also catches f32 inf).
    return static_cast<uint16_t>(sign | 0x7c00u);

  if (magnitude >= 0x38800000u) {
    // Normal in f16 (>= 2^-14): rebias the exponent, keep the top 10
    // mantissa bits and round on the 13 dropped ones. A carry out of the
    // mantissa correctly bumps the exponent, up to infinity for [65520,
    // 65536).
    uint32_t half =
        (((magnitude >> 23) - 112) << 10) | ((magnitude >> 13) & 0x3ffu);
    uint32_t dropped = magnitude & 0x1fffu;
    if (dropped > 0x1000u || (dropped == 0x1000u && (half & 1u)))
      ++half;
    return static_cast<uint16_t>(sign | half);
  }

  // Below 2^-14: the result is a subnormal k * 2^-24 (or zero). With the
  // f32 value m * 2^(e-150) (m including the implicit bit), k is
  // m * 2^(e-126) rounded, i.e. m shifted right by 126-e bits. Below
  // e = 102 (values < 2^-25) everything rounds to zero; e = 102 still needs
  // the rounding step because values just above 2^-25 round up to 2^-24.
  uint32_t exponent = magnitude >> 23;
  if (exponent < 102)
    return static_cast<uint16_t>(sign);
  uint32_t mantissa = (magnitude & 0x7fffffu) | 0x800000u;
  uint32_t shift = 126 - exponent; // 14..24
  uint32_t result = mantissa >> shift;
  uint32_t dropped = mantissa & ((1u << shift) - 1);
  uint32_t halfway = 1u << (shift - 1);
  if (dropped > halfway || (dropped == halfway && (result & 1u)))
    ++result; // May carry into the smallest normal 0x0400: still correct.
  return static_cast<uint16_t>(sign | result);
}

float bf16BitsToF32(uint16_t bits) {
  return bitsFloat(static_cast<uint32_t>(bits) << 16);
}

uint16_t f32ToBf16Bits(float value) {
  uint32_t bits = floatBits(value);
  if ((bits & 0x7fffffffu) > 0x7f800000u) // NaN: quiet it.
    return static_cast<uint16_t>((bits >> 16) | 0x0040u);
  // Round to nearest even on the 16 dropped bits: adding 0x7fff rounds
  // values above the halfway point up, and the extra lsb turns exact ties
  // up only when the kept part is odd. Carries reach the exponent and, past
  // the largest finite value, infinity, as they should.
  uint32_t lsb = (bits >> 16) & 1u;
  bits += 0x7fffu + lsb;
  return static_cast<uint16_t>(bits >> 16);
}

} // namespace uoe::rt
