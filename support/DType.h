//===- DType.h - tensor element types ---------------------------*- C++ -*-===//
//
// The element types the runtime stores and exchanges (f32, f16, bf16, f64,
// i64, i32, i8, u8, bool), their sizes and their names in our own text
// ("f32"), in safetensors headers ("F32") and in NumPy .npy headers ("<f4"),
// plus exact conversions between f32 and the 16-bit float formats.
//
// f16 and bf16 values are handled as raw bit patterns (uint16_t): C++17 has
// no portable 16-bit float type. Conversions to f32 are exact; conversions
// from f32 round to nearest, ties to even, as IEEE 754 and NumPy do.
//
//===----------------------------------------------------------------------===//

#ifndef UOE_SUPPORT_DTYPE_H
#define UOE_SUPPORT_DTYPE_H

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace uoe::rt {

/// An element type. Values are stored little-endian; bool is one byte that
/// is 0 or 1.
enum class DType : uint8_t { F32, F16, BF16, F64, I64, I32, I8, U8, Bool };

/// Every DType, in declaration order (for tests and tables).
inline constexpr DType kAllDTypes[] = {DType::F32, DType::F16, DType::BF16,
                                       DType::F64, DType::I64, DType::I32,
                                       DType::I8,  DType::U8,  DType::Bool};

/// Size of one element in bytes (1, 2, 4 or 8).
size_t dtypeSize(DType dtype);

/// Our own lower-case name: "f32", "f16", "bf16", "f64", "i64", "i32", "i8",
/// "u8", "bool". Never null.
const char *dtypeName(DType dtype);
/// Inverse of dtypeName; nullopt for any other string.
std::optional<DType> parseDTypeName(std::string_view name);

/// The safetensors name: "F32", "F16", "BF16", "F64", "I64", "I32", "I8",
/// "U8", "BOOL". Never null.
const char *safetensorsDTypeName(DType dtype);
/// Inverse of safetensorsDTypeName; nullopt for other strings, including
/// safetensors types we do not support (e.g. "F8_E4M3", "I16").
std::optional<DType> parseSafetensorsDType(std::string_view name);
/// True for the safetensors dtype names that exist in the format but that
/// the runtime does not support ("I16", "U16", "U32", "U64", "F8_E4M3",
/// "F8_E5M2", ...), to tell "unsupported" from "garbage" in errors.
bool isKnownUnsupportedSafetensorsDType(std::string_view name);

/// The little-endian NumPy descr ("<f4", "<f2", "<f8", "<i8", "<i4", "|i1",
/// "|u1", "|b1"); empty for BF16, which NumPy has no type for.
std::string_view npyDescr(DType dtype);

/// True for F32, F16, BF16, F64.
bool isFloatingPoint(DType dtype);

/// The f32 value of an IEEE binary16 bit pattern. Exact for every pattern;
/// NaNs stay NaNs with their sign and payload bits.
float f16BitsToF32(uint16_t bits);
/// The binary16 bit pattern nearest to `value`, ties to even. Values of
/// magnitude >= 65520 become infinities; results below 2^-14 become
/// subnormals or zero; NaNs become quiet NaNs with the same sign.
uint16_t f32ToF16Bits(float value);

/// The f32 value of a bfloat16 bit pattern (its upper 16 bits). Exact.
float bf16BitsToF32(uint16_t bits);
/// The bfloat16 bit pattern nearest to `value`, ties to even; overflow
/// gives infinities; NaNs become quiet NaNs with the same sign.
uint16_t f32ToBf16Bits(float value);

} // namespace uoe::rt

#endif // UOE_SUPPORT_DTYPE_H
