//===- CApiRuntimeOnly.cpp - the C API without a compiler ----------------===//
//
// CApiCompiler.h for the runtime-only build (-DUOE_BUILD_COMPILER=OFF):
// nothing can be compiled, and CPU object code cannot be linked into the
// process without LLVM's JIT linker (the runtime has no loader of its own
// yet), so both are Unimplemented errors that say so. Loading, saving and
// inspecting Executables works as in the compiler build.
//
//===----------------------------------------------------------------------===//

#include "frontend/capi/CApiCompiler.h"

using namespace uoe;

rt::StatusOr<rt::proto::Executable>
capi::compile(SourceKind kind, const std::string &source, int64_t batch,
              int64_t seq, const std::string &cacheDir) {
  return rt::unimplementedError(
      "this runtime-only build of uoe has no compiler; compile with a "
      "compiler build and load the saved .uoex here");
}

rt::StatusOr<std::unique_ptr<rt::ObjectLoader>> capi::newCpuObjectLoader() {
  return rt::unimplementedError(
      "this runtime-only build cannot load CPU object code; run CPU "
      "executables with a compiler build of uoe (libuoe_c with LLVM)");
}
