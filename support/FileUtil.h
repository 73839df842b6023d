//===- FileUtil.h - whole-file reads and atomic writes ----------*- C++ -*-===//
//
// The file primitives shared by the .npy and safetensors readers and
// writers: positioned reads from a regular file whose size is known up
// front (so that every header can be checked against the real file size
// before anything is allocated), and atomic writes (a temporary file in
// the same directory, fsync, rename), so that a failed or interrupted write
// never leaves a half-written file under the final name.
//
// Every error message names the file and, for system errors, the
// operating system's reason.
//
//===----------------------------------------------------------------------===//

#ifndef UOE_SUPPORT_FILEUTIL_H
#define UOE_SUPPORT_FILEUTIL_H

#include "support/Status.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace uoe::rt {

/// A read-only regular file open for positioned reads. Owns its descriptor
/// (closed on destruction); move-only. readAt is safe to call from several
/// threads at once (it uses pread and no shared offset).
class InputFile {
public:
  /// Opens `path`, which must be a regular file. NotFound if it does not
  /// exist, InvalidArgument if it is not a regular file (e.g. a directory),
  /// IoError for other failures.
  static StatusOr<InputFile> open(const std::string &path);

  InputFile(InputFile &&other) noexcept;
  InputFile &operator=(InputFile &&other) noexcept;
  InputFile(const InputFile &) = delete;
  InputFile &operator=(const InputFile &) = delete;
  ~InputFile();

  const std::string &path() const { return path_; }
  /// Size in bytes at the time of open.
  uint64_t size() const { return size_; }

  /// Reads exactly `size` bytes starting at byte `offset` into `dest`
  /// (which must hold `size` bytes). DataLoss naming the file if the file
  /// ends first, IoError if the system read fails.
  Status readAt(uint64_t offset, void *dest, size_t size) const;

private:
  InputFile(std::string path, int fd, uint64_t size)
      : path_(std::move(path)), fd_(fd), size_(size) {}

  std::string path_;
  int fd_ = -1;
  uint64_t size_ = 0;
};

/// The unsigned integer stored in the `count` (at most 8) bytes at `bytes`,
/// least significant first: the byte order of the headers of our files
/// (.npy, safetensors, the Executable frame).
uint64_t readLittleEndian(const void *bytes, size_t count);

/// Appends the `count` (at most 8) low bytes of `value` to `out`, least
/// significant first.
void appendLittleEndian(std::string &out, uint64_t value, size_t count);

/// Reads the whole regular file `path` into a string (binary-safe). Errors
/// as InputFile::open and InputFile::readAt.
StatusOr<std::string> readFile(const std::string &path);

/// Bytes to write; a view, it does not own them.
struct ByteChunk {
  const void *data;
  size_t size;
};

/// Writes the concatenation of `chunks` to `path` atomically: the bytes go
/// to "<path>.tmp.<pid>.<n>" in the same directory (n distinguishes
/// concurrent writers in one process), which is fsync'ed and renamed over
/// `path`; the directory is then fsync'ed (best effort). On any failure the
/// temporary file is removed and `path` is left as it was (absent or with
/// its old contents). Thread-safe for distinct or identical paths (the last
/// rename wins). The new file gets mode 0666 minus the umask.
Status writeFileAtomically(const std::string &path,
                           const std::vector<ByteChunk> &chunks);
/// Same, with the contents in one piece.
Status writeFileAtomically(const std::string &path, std::string_view contents);

} // namespace uoe::rt

#endif // UOE_SUPPORT_FILEUTIL_H
