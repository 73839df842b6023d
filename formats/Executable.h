//===- Executable.h - loading, saving and checking Executables -*- C++ -*-===//
//
// Reads and writes `formats/executable.proto` messages and checks the
// invariants the runtime relies on (format version, every entry point names
// its function, tensor specs are well formed) so that a corrupt or
// foreign `.uoex` file is an error, never a crash.
//
//===----------------------------------------------------------------------===//

#ifndef UOE_FORMATS_EXECUTABLE_H
#define UOE_FORMATS_EXECUTABLE_H

#include "support/Status.h"
#include "formats/executable.pb.h"

#include <string>
#include <string_view>

namespace uoe::rt {

/// The Executable format this runtime reads and writes.
inline constexpr uint32_t kFormatVersion = 2;

/// Checks an Executable's invariants; InvalidArgument naming the problem.
Status validateExecutable(const proto::Executable &executable);

/// The bytes of a `.uoex` file: a 24-byte header (the magic "UOEX", the
/// frame version 1, the payload's size and its CRC-32C, support/Checksum.h;
/// little-endian) followed by the serialised Executable, so that a flipped
/// bit or a truncated file is found on load. An Executable holds native
/// code: loading one runs its code, so load only Executables you made.
std::string serializeExecutable(const proto::Executable &executable);

/// Checks the header and the checksum of `bytes`, parses and validates the
/// Executable in them. DataLoss naming `source` (a path, or a description
/// of where the bytes came from) for anything else than such bytes.
StatusOr<proto::Executable> parseExecutable(std::string_view bytes,
                                            const std::string &source);

/// Reads and validates a `.uoex` file. NotFound / IoError / DataLoss.
StatusOr<proto::Executable> loadExecutable(const std::string &path);

/// Writes `executable` to `path` atomically (temporary file, fsync, rename).
Status saveExecutable(const std::string &path,
                      const proto::Executable &executable);

/// The compiled-model cache (uoe-run, the C API): the Executable whose
/// `cache_key` is `key` lives in `<dir>/<key>.uoex`.
std::string cachedExecutablePath(const std::string &dir,
                                 const std::string &key);

/// The cache entry for `key` in `dir`: NotFound when there is none,
/// FailedPrecondition for a file another user owns (loading it would run
/// their code), another error when the file is unreadable, corrupt or holds
/// an Executable of another key (callers then recompile and replace it).
StatusOr<proto::Executable> loadCachedExecutable(const std::string &dir,
                                                 const std::string &key);

/// Stores `executable` as the entry for its `cache_key` in `dir`, creating
/// the folder and any missing parents with mode 0700; atomic like
/// saveExecutable.
Status storeCachedExecutable(const std::string &dir,
                             const proto::Executable &executable);

/// The entry point named `name`, or NotFound listing the ones there are.
StatusOr<const proto::EntryPoint *>
findEntryPoint(const proto::Executable &executable, const std::string &name);

} // namespace uoe::rt

#endif // UOE_FORMATS_EXECUTABLE_H
