//===- Version.h - the compiler's version and build -------------*- C++ -*-===//
//
// Recorded in every Executable and part of every cache key, so that a
// rebuilt compiler never reuses another one's output.
//
//===----------------------------------------------------------------------===//

#ifndef UOE_DRIVER_VERSION_H
#define UOE_DRIVER_VERSION_H

namespace mlir::uoe {

/// The compiler's version, recorded in Executables and cache keys.
inline constexpr const char *kCompilerVersion = "uoe 0.1";

/// The version and build of this compiler, e.g. "uoe 0.1 (build
/// 3f9a0c2e1b7d6a54)": the build is a hash of the compiler's sources
/// (cmake/UoEBuildId.cmake).
const char *compilerIdentity();

} // namespace mlir::uoe

#endif // UOE_DRIVER_VERSION_H
