//===- ExecutableCache.h - load or compile, and cache ----------*- C++ -*-===//
//
// The compiled-model cache of a JIT session: an Executable is looked up
// under its cache key (compileCacheKey, compileMlirCacheKey,
// trainingCacheKey) and compiled only when it is not there, then stored.
// The files are the runtime's (`<dir>/<key>.uoex`, formats/Executable.h),
// so that uoe-run, the C API and Python share one cache directory.
//
//===----------------------------------------------------------------------===//

#ifndef UOE_DRIVER_EXECUTABLECACHE_H
#define UOE_DRIVER_EXECUTABLECACHE_H

#include "formats/executable.pb.h"

#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <string>

namespace mlir::uoe {

/// `$XDG_CACHE_HOME/uoe`, else `~/.cache/uoe`, else "" (no cache).
std::string defaultCacheDir();

/// Where obtainExecutable says what it does: nothing when `os` is null;
/// otherwise lines starting with "`tool`: " that name `what` (e.g. "tiny
/// for [1, 16]").
struct CacheLog {
  llvm::raw_ostream *os = nullptr;
  std::string tool;
  std::string what;
};

/// The Executable cached under `key` in the compiled-model cache
/// `cacheDir` (none if empty) when it is there, else what `compile` makes,
/// then stored there. An absent, unreadable or foreign entry is compiled
/// again and replaced; a failed store is not an error (the cache is an
/// optimisation). With a `log`: "compiled-model cache hit (PATH)", or
/// "compiling WHAT ..." before and "compiled WHAT in S s (cache miss)"
/// after, and a warning for an ignored entry or a failed store.
/// Thread-safe when `compile` is (entries are written atomically).
llvm::Expected<::uoe::rt::proto::Executable> obtainExecutable(
    const std::string &key, const std::string &cacheDir,
    llvm::function_ref<llvm::Expected<::uoe::rt::proto::Executable>()>
        compile,
    const CacheLog &log = {});

} // namespace mlir::uoe

#endif // UOE_DRIVER_EXECUTABLECACHE_H
