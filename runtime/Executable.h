//===- Executable.h - loading, saving and checking Executables -*- C++ -*-===//
//
// Reads and writes `runtime/executable.proto` messages and checks the
// invariants the runtime relies on (format version, every step names an
// existing kernel, tensor specs are well formed) so that a corrupt or
// foreign `.uoex` file is an error, never a crash.
//
//===----------------------------------------------------------------------===//

#ifndef UOE_RUNTIME_EXECUTABLE_H
#define UOE_RUNTIME_EXECUTABLE_H

#include "runtime/Status.h"
#include "runtime/executable.pb.h"

#include <string>

namespace uoe::rt {

/// The Executable format this runtime reads and writes.
inline constexpr uint32_t kFormatVersion = 1;

/// Checks an Executable's invariants; InvalidArgument naming the problem.
Status validateExecutable(const proto::Executable &executable);

/// Reads and validates a `.uoex` file. NotFound / IoError / DataLoss.
StatusOr<proto::Executable> loadExecutable(const std::string &path);

/// Writes `executable` to `path` atomically (temporary file, fsync, rename).
Status saveExecutable(const std::string &path,
                      const proto::Executable &executable);

/// The compiled-model cache (uoe-run, the C API): the Executable whose
/// `cache_key` is `key` lives in `<dir>/<key>.uoex`.
std::string cachedExecutablePath(const std::string &dir,
                                 const std::string &key);

/// The cache entry for `key` in `dir`: NotFound when there is none, another
/// error when the file is unreadable or holds an Executable of another key
/// (callers then recompile and replace it).
StatusOr<proto::Executable> loadCachedExecutable(const std::string &dir,
                                                 const std::string &key);

/// Stores `executable` as the entry for its `cache_key` in `dir`, creating
/// the folder; atomic like saveExecutable.
Status storeCachedExecutable(const std::string &dir,
                             const proto::Executable &executable);

/// The entry point named `name`, or NotFound listing the ones there are.
StatusOr<const proto::EntryPoint *>
findEntryPoint(const proto::Executable &executable, const std::string &name);

} // namespace uoe::rt

#endif // UOE_RUNTIME_EXECUTABLE_H
