//===- FileUtil.cpp - whole-file reads and atomic writes ------------------===//
//
// POSIX implementation of InputFile and writeFileAtomically. System calls
// are retried on EINTR and on short transfers; large transfers are split
// because Linux moves at most about 2 GiB per read/write call.
//
//===----------------------------------------------------------------------===//

#include "support/FileUtil.h"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace uoe::rt {

namespace {

/// Largest transfer per read/write call (Linux caps one call near 2 GiB).
constexpr size_t kMaxTransfer = size_t(1) << 30;

// strerror_r comes in two flavours (XSI returns int, GNU returns char *);
// these overloads accept either. strerror itself is not thread-safe.
[[maybe_unused]] const char *pickError(int result, const char *buffer) {
  return result == 0 ? buffer : "unknown error";
}
[[maybe_unused]] const char *pickError(const char *result, const char *) {
  return result;
}

std::string errnoText(int error) {
  char buffer[256] = {0};
  return pickError(strerror_r(error, buffer, sizeof(buffer)), buffer);
}

/// A Status for a failed system call on `path`: NotFound for ENOENT, IoError
/// otherwise.
Status systemError(int error, std::string_view what, const std::string &path) {
  std::string message =
      strCat("cannot ", what, " '", path, "': ", errnoText(error));
  if (error == ENOENT)
    return notFoundError(std::move(message));
  return ioError(std::move(message));
}

/// Closes `fd`, retrying nothing: after EINTR the descriptor is gone on
/// Linux anyway. Returns the errno or 0.
int closeFd(int fd) { return ::close(fd) == 0 ? 0 : errno; }

Status writeAll(int fd, const void *data, size_t size,
                const std::string &path) {
  const char *bytes = static_cast<const char *>(data);
  while (size > 0) {
    ssize_t written =
        ::write(fd, bytes, size < kMaxTransfer ? size : kMaxTransfer);
    if (written < 0) {
      if (errno == EINTR)
        continue;
      return systemError(errno, "write", path);
    }
    bytes += written;
    size -= static_cast<size_t>(written);
  }
  return okStatus();
}

std::string directoryOf(const std::string &path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos)
    return ".";
  if (slash == 0)
    return "/";
  return path.substr(0, slash);
}

/// Makes a completed rename durable. Best effort: some file systems refuse
/// to open or fsync directories, and the data itself is already safe.
void syncDirectory(const std::string &directory) {
  int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return;
  (void)::fsync(fd);
  (void)closeFd(fd);
}

/// Writes, flushes and closes the temporary file `tmpPath`.
Status writeTemporary(const std::string &tmpPath,
                      const std::vector<ByteChunk> &chunks) {
  int fd =
      ::open(tmpPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0)
    return systemError(errno, "create", tmpPath);
  for (const ByteChunk &chunk : chunks) {
    Status status = writeAll(fd, chunk.data, chunk.size, tmpPath);
    if (!status.ok()) {
      (void)closeFd(fd);
      return status;
    }
  }
  if (::fsync(fd) != 0) {
    int error = errno;
    (void)closeFd(fd);
    return systemError(error, "fsync", tmpPath);
  }
  // close can report a deferred write error (e.g. on NFS): it counts.
  if (int error = closeFd(fd))
    return systemError(error, "close", tmpPath);
  return okStatus();
}

} // namespace

//===----------------------------------------------------------------------===//
// InputFile
//===----------------------------------------------------------------------===//

StatusOr<InputFile> InputFile::open(const std::string &path) {
  int fd;
  do {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0)
    return systemError(errno, "open", path);
  struct stat info;
  if (::fstat(fd, &info) != 0) {
    int error = errno;
    (void)closeFd(fd);
    return systemError(error, "stat", path);
  }
  if (!S_ISREG(info.st_mode)) {
    (void)closeFd(fd);
    return invalidArgumentError(strCat("'", path, "' is not a regular file"));
  }
  return InputFile(path, fd, static_cast<uint64_t>(info.st_size));
}

InputFile::InputFile(InputFile &&other) noexcept
    : path_(std::move(other.path_)), fd_(other.fd_), size_(other.size_) {
  other.fd_ = -1;
}

InputFile &InputFile::operator=(InputFile &&other) noexcept {
  if (this != &other) {
    if (fd_ >= 0)
      (void)closeFd(fd_);
    path_ = std::move(other.path_);
    fd_ = other.fd_;
    size_ = other.size_;
    other.fd_ = -1;
  }
  return *this;
}

InputFile::~InputFile() {
  if (fd_ >= 0)
    (void)closeFd(fd_);
}

Status InputFile::readAt(uint64_t offset, void *dest, size_t size) const {
  char *bytes = static_cast<char *>(dest);
  uint64_t position = offset;
  size_t remaining = size;
  while (remaining > 0) {
    size_t request = remaining < kMaxTransfer ? remaining : kMaxTransfer;
    ssize_t got = ::pread(fd_, bytes, request, static_cast<off_t>(position));
    if (got < 0) {
      if (errno == EINTR)
        continue;
      return systemError(errno, "read", path_);
    }
    if (got == 0)
      return dataLossError(strCat(path_, ": unexpected end of file: needed ",
                                  size, " bytes at offset ", offset,
                                  " but the file ends at byte ", position));
    bytes += got;
    position += static_cast<uint64_t>(got);
    remaining -= static_cast<size_t>(got);
  }
  return okStatus();
}

//===----------------------------------------------------------------------===//
// Whole files
//===----------------------------------------------------------------------===//

uint64_t readLittleEndian(const void *bytes, size_t count) {
  const auto *b = static_cast<const unsigned char *>(bytes);
  uint64_t value = 0;
  for (size_t i = 0; i < count; ++i)
    value |= static_cast<uint64_t>(b[i]) << (8 * i);
  return value;
}

void appendLittleEndian(std::string &out, uint64_t value, size_t count) {
  for (size_t i = 0; i < count; ++i)
    out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

StatusOr<std::string> readFile(const std::string &path) {
  UOE_ASSIGN_OR_RETURN(InputFile file, InputFile::open(path));
  if (file.size() > std::string().max_size())
    return outOfRangeError(strCat(path, ": file of ", file.size(),
                                  " bytes is too large to read into memory"));
  std::string contents(static_cast<size_t>(file.size()), '\0');
  UOE_RETURN_IF_ERROR(file.readAt(0, contents.data(), contents.size()));
  return contents;
}

Status writeFileAtomically(const std::string &path,
                           const std::vector<ByteChunk> &chunks) {
  if (path.empty())
    return invalidArgumentError("cannot write a file with an empty path");
  static std::atomic<uint64_t> sequence{0};
  std::string tmpPath =
      strCat(path, ".tmp.", ::getpid(), ".",
             sequence.fetch_add(1, std::memory_order_relaxed));
  Status status = writeTemporary(tmpPath, chunks);
  if (status.ok() && ::rename(tmpPath.c_str(), path.c_str()) != 0)
    status = systemError(errno, "rename the temporary file over", path);
  if (!status.ok()) {
    (void)::unlink(tmpPath.c_str());
    return status.withContext(strCat("writing '", path, "'"));
  }
  syncDirectory(directoryOf(path));
  return okStatus();
}

Status writeFileAtomically(const std::string &path, std::string_view contents) {
  return writeFileAtomically(path,
                             {ByteChunk{contents.data(), contents.size()}});
}

} // namespace uoe::rt
