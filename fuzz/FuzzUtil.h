//===- FuzzUtil.h - helpers shared by the fuzz targets ----------*- C++ -*-===//
//
// Some parsers read a path, not bytes: each fuzzer process writes its input
// to a temporary file (in a directory made once per process, overwritten
// for every input, removed at exit) and hands them the path.
//
//===----------------------------------------------------------------------===//

#ifndef UOE_FUZZ_FUZZUTIL_H
#define UOE_FUZZ_FUZZUTIL_H

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <string>

#include "support/HostTensor.h"

#include <fcntl.h>
#include <unistd.h>

namespace uoe::fuzz {

namespace detail {
// Both live until after the exit handler below (never destroyed: a static
// object would be destroyed before a handler registered while building it).
inline std::set<std::string> &writtenFiles() {
  static std::set<std::string> &files = *new std::set<std::string>;
  return files;
}
} // namespace detail

/// A per-process temporary directory under $TMPDIR (or /tmp), removed at
/// normal exit with the files `writeScratchFile` put there. A crash skips
/// the clean-up: scripts/fuzz.sh points TMPDIR at a folder it removes.
inline const std::string &scratchDir() {
  static const std::string &dir = *new std::string([] {
    const char *base = std::getenv("TMPDIR");
    std::string pattern =
        std::string(base && *base ? base : "/tmp") + "/uoe-fuzz.XXXXXX";
    if (!::mkdtemp(pattern.data())) {
      std::perror("uoe fuzz: mkdtemp");
      std::abort();
    }
    std::atexit([] {
      for (const std::string &file : detail::writtenFiles())
        ::unlink(file.c_str());
      ::rmdir(scratchDir().c_str());
    });
    return pattern;
  }());
  return dir;
}

/// Writes `data` to the file `name` in the scratch directory (replacing
/// what an earlier input left there) and returns its path. Aborts on an
/// I/O error: that is the harness failing, not the parser. The file stays
/// open and is overwritten in place (pwrite, then ftruncate to the new
/// size): closing a file truncated to zero makes ext4 write it back to the
/// disk at once, which slowed fuzzing tenfold.
inline std::string writeScratchFile(const std::string &name,
                                    const uint8_t *data, size_t size) {
  static std::map<std::string, int> &open = *new std::map<std::string, int>;
  std::string path = scratchDir() + "/" + name;
  auto [it, added] = open.try_emplace(name, -1);
  if (added) {
    detail::writtenFiles().insert(path);
    it->second = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (it->second < 0) {
      std::perror("uoe fuzz: open");
      std::abort();
    }
  }
  int fd = it->second;
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::pwrite(fd, data + done, size - done, static_cast<off_t>(done));
    if (n <= 0) {
      std::perror("uoe fuzz: write");
      std::abort();
    }
    done += static_cast<size_t>(n);
  }
  if (::ftruncate(fd, static_cast<off_t>(size)) != 0) {
    std::perror("uoe fuzz: ftruncate");
    std::abort();
  }
  return path;
}

/// With UOE_FUZZ_VERBOSE set, prints what a parser answered (to see what
/// a seed or a crash input does: `UOE_FUZZ_VERBOSE=1 ./npy_fuzzer FILE`).
inline void report(const char *what, const rt::Status &status) {
  static const bool verbose = std::getenv("UOE_FUZZ_VERBOSE") != nullptr;
  if (verbose)
    std::fprintf(stderr, "%s: %s\n", what,
                 status.ok() ? "ok" : status.toString().c_str());
}

/// Keeps `value` alive: the optimiser cannot drop what computes it.
template <typename T> inline void keep(const T &value) {
  asm volatile("" : : "r"(&value) : "memory");
}

/// Reads every byte of `tensor` (so ASan checks that the storage is as
/// large as the shape says) and its type string, and converts a small one
/// to f32 as the runtime does with inputs; returns a sum of it all.
inline uint64_t touchTensor(const rt::HostTensor &tensor) {
  uint64_t sum = tensor.typeString().size() + tensor.numElements();
  const auto *bytes = static_cast<const uint8_t *>(tensor.rawData());
  for (size_t i = 0, n = tensor.sizeInBytes(); i < n; ++i)
    sum += bytes[i];
  if (tensor.numElements() <= (1 << 16)) {
    rt::StatusOr<rt::HostTensor> f32 = tensor.toF32();
    if (f32.ok())
      sum += f32->sizeInBytes();
  }
  keep(sum);
  return sum;
}

} // namespace uoe::fuzz

#endif // UOE_FUZZ_FUZZUTIL_H
