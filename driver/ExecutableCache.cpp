//===- ExecutableCache.cpp - load or compile, and cache ------------------===//
//
// See ExecutableCache.h.
//
//===----------------------------------------------------------------------===//

#include "driver/ExecutableCache.h"

#include "formats/Executable.h"

#include "llvm/Support/FormatVariadic.h"

#include <chrono>
#include <cstdlib>

namespace rt = ::uoe::rt;

std::string mlir::uoe::defaultCacheDir() {
  if (const char *xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg)
    return std::string(xdg) + "/uoe";
  if (const char *home = std::getenv("HOME"); home && *home)
    return std::string(home) + "/.cache/uoe";
  return "";
}

llvm::Expected<rt::proto::Executable> mlir::uoe::obtainExecutable(
    const std::string &key, const std::string &cacheDir,
    llvm::function_ref<llvm::Expected<rt::proto::Executable>()> compile,
    const CacheLog &log) {
  auto say = [&]() -> llvm::raw_ostream & {
    return *log.os << log.tool << ": ";
  };
  if (!cacheDir.empty()) {
    auto cached = rt::loadCachedExecutable(cacheDir, key);
    if (cached.ok()) {
      if (log.os)
        say() << "compiled-model cache hit ("
              << rt::cachedExecutablePath(cacheDir, key) << ")\n";
      return std::move(*cached);
    }
    if (log.os && cached.status().code() != rt::StatusCode::NotFound)
      say() << "ignoring the cache entry (" << cached.status().toString()
            << ")\n";
  }
  // Compiling can take a while: say so before, not only after.
  if (log.os)
    say() << "compiling " << log.what << " ...\n";
  auto start = std::chrono::steady_clock::now();
  auto exe = compile();
  if (!exe)
    return exe.takeError();
  double seconds = std::chrono::duration<double>(
                       std::chrono::steady_clock::now() - start)
                       .count();
  if (log.os)
    say() << llvm::formatv("compiled {0} in {1:f2} s (cache miss)\n",
                           log.what, seconds);
  if (!cacheDir.empty()) {
    rt::Status s = rt::storeCachedExecutable(cacheDir, *exe);
    if (log.os && !s.ok())
      say() << "warning: cannot write the cache: " << s.toString() << "\n";
  }
  return exe;
}
