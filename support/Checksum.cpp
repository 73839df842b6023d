//===- Checksum.cpp - CRC-32C of file contents ----------------------------===//

#include "support/Checksum.h"

#include <nmmintrin.h>

#include <array>
#include <cstdio>
#include <cstring>

using namespace uoe::rt;

namespace {

constexpr uint32_t kPolynomial = 0x82f63b78u; // Castagnoli, reflected.

std::array<uint32_t, 256> makeTable() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int bit = 0; bit < 8; ++bit)
      c = (c & 1) ? (c >> 1) ^ kPolynomial : c >> 1;
    table[i] = c;
  }
  return table;
}

uint32_t crcTable(uint32_t crc, const uint8_t *p, size_t size) {
  static const std::array<uint32_t, 256> table = makeTable();
  for (size_t i = 0; i < size; ++i)
    crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
  return crc;
}

__attribute__((target("sse4.2"))) uint32_t crcSse42(uint32_t crc,
                                                     const uint8_t *p,
                                                     size_t size) {
  uint64_t c = crc;
  for (; size >= 8; size -= 8, p += 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    c = _mm_crc32_u64(c, word);
  }
  uint32_t c32 = static_cast<uint32_t>(c);
  for (; size > 0; --size, ++p)
    c32 = _mm_crc32_u8(c32, *p);
  return c32;
}

} // namespace

uint32_t uoe::rt::crc32c(uint32_t crc, const void *data, size_t size) {
  static const bool hardware = __builtin_cpu_supports("sse4.2");
  const auto *p = static_cast<const uint8_t *>(data);
  crc = ~crc;
  crc = hardware ? crcSse42(crc, p, size) : crcTable(crc, p, size);
  return ~crc;
}

std::string uoe::rt::checksumToString(uint32_t crc) {
  char text[24];
  std::snprintf(text, sizeof text, "crc32c:%08x", crc);
  return text;
}
