//===- Safetensors.h - safetensors reading and writing ----------*- C++ -*-===//
//
// Reads and writes the safetensors format, the runtime's format for weights
// and checkpoints:
//   [8 bytes: N, little-endian u64] [N bytes: JSON header] [data buffer]
// where the header maps each tensor name to
//   {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}
// (byte offsets relative to the start of the data buffer) and may hold a
// "__metadata__" object of string to string.
//
// Reading validates the whole header before touching the data: the header
// length against the file size, strict JSON, every field's type, known
// dtypes, byte sizes against shapes, and that the tensors' byte ranges
// exactly tile the data buffer (no overlap, no gap, nothing past the end).
// Every error names the file and, where there is one, the tensor.
//
//===----------------------------------------------------------------------===//

#ifndef UOE_FORMATS_SAFETENSORS_H
#define UOE_FORMATS_SAFETENSORS_H

#include "support/DType.h"
#include "support/HostTensor.h"
#include "support/Status.h"

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace uoe::rt {

/// The largest header the reader accepts (as the reference implementation).
inline constexpr uint64_t kMaxSafetensorsHeaderSize = 100u << 20;

/// Where one tensor lives in a safetensors file.
struct SafetensorsEntry {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  /// The tensor's bytes are [begin, end) of the data buffer.
  uint64_t begin = 0;
  uint64_t end = 0;
};

/// The metadata key under which writeSafetensors stores the checksum of
/// the tensor data ("crc32c:0a1b2c3d", support/Checksum.h): the CRC-32C of
/// the tensors' bytes in the order of their offsets. Readers check it when
/// present (files from other tools have none) and take it out of the
/// metadata they return.
inline constexpr std::string_view kSafetensorsChecksumKey = "uoe.checksum";

/// A validated safetensors header.
struct SafetensorsHeader {
  /// Sorted by name.
  std::vector<SafetensorsEntry> entries;
  /// The metadata, without kSafetensorsChecksumKey.
  std::map<std::string, std::string, std::less<>> metadata;
  /// The stored checksum of the data (kSafetensorsChecksumKey), or empty.
  std::string checksum;
  /// File offset of the data buffer: 8 + the header length.
  uint64_t dataStart = 0;

  /// The entry named `name`, or null.
  const SafetensorsEntry *find(std::string_view name) const;
};

/// The tensors of a safetensors file, by name (sorted), with its metadata.
struct SafetensorsContents {
  std::map<std::string, HostTensor, std::less<>> tensors;
  std::map<std::string, std::string, std::less<>> metadata;
  /// The file the contents came from (empty if built in memory); used in
  /// error messages.
  std::string source;

  /// The tensor named `name`, or null.
  const HostTensor *find(std::string_view name) const;
  /// The tensor named `name`; NotFound naming the tensor and the source
  /// otherwise. The pointer lives as long as this object's map entry.
  StatusOr<const HostTensor *> get(std::string_view name) const;
  /// The tensor names, sorted.
  std::vector<std::string> names() const;
};

/// Reads and validates the header of the safetensors file at `path`
/// without reading the data. NotFound / IoError for system failures,
/// DataLoss for a malformed or inconsistent header, Unimplemented for a
/// valid dtype we do not support (e.g. "F8_E4M3"). Thread-safe.
StatusOr<SafetensorsHeader> readSafetensorsHeader(const std::string &path);

/// Reads the whole safetensors file at `path` into memory (each tensor in
/// its own aligned HostTensor). Errors as readSafetensorsHeader, plus
/// DataLoss for bool bytes other than 0 / 1 and for data that do not match
/// the file's checksum. Thread-safe.
StatusOr<SafetensorsContents> readSafetensors(const std::string &path);

/// Writes the named tensors and `metadata` to `path` as a safetensors file,
/// atomically (see writeFileAtomically), with the checksum of the data in
/// the metadata (kSafetensorsChecksumKey; one in `metadata` is replaced). Tensors are laid
/// out by decreasing element size, then by name, so that every tensor is
/// aligned to its element size; the header is padded with spaces to a
/// multiple of 8 bytes. InvalidArgument for a duplicate name, the name
/// "__metadata__", a null tensor, or names / metadata that are not UTF-8.
/// The tensors are only read. Thread-safe.
Status writeSafetensors(
    const std::string &path,
    const std::vector<std::pair<std::string, const HostTensor *>> &tensors,
    const std::map<std::string, std::string, std::less<>> &metadata = {});
/// Writes `contents.tensors` and `contents.metadata`.
Status writeSafetensors(const std::string &path,
                        const SafetensorsContents &contents);

} // namespace uoe::rt

#endif // UOE_FORMATS_SAFETENSORS_H
