//===- Checksum.h - CRC-32C of file contents --------------------*- C++ -*-===//
//
// The checksum our files carry so that a flipped bit is found on load
// (Executables, formats/Executable.h; safetensors files we write,
// formats/Safetensors.h): CRC-32C (Castagnoli), with the SSE4.2 crc32
// instruction where the CPU has it and a table elsewhere (same values).
//
//===----------------------------------------------------------------------===//

#ifndef UOE_SUPPORT_CHECKSUM_H
#define UOE_SUPPORT_CHECKSUM_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace uoe::rt {

/// Extends the CRC-32C `crc` (0 to start) with `size` bytes at `data`.
uint32_t crc32c(uint32_t crc, const void *data, size_t size);

inline uint32_t crc32c(uint32_t crc, std::string_view bytes) {
  return crc32c(crc, bytes.data(), bytes.size());
}

/// "crc32c:0a1b2c3d": how a checksum is written into metadata.
std::string checksumToString(uint32_t crc);

} // namespace uoe::rt

#endif // UOE_SUPPORT_CHECKSUM_H
