//===- CApiRuntimeOnly.cpp - the C API without a compiler ----------------===//
//
// CApiCompiler.h for the runtime-only build (-DUOE_BUILD_COMPILER=OFF):
// nothing can be compiled (an Unimplemented error that says so), and CPU
// object code is linked into the process by the runtime's own ELF loader
// (runtime/ElfObjectLoader.h) instead of LLVM's ORC. Loading, saving,
// inspecting and running Executables works as in the compiler build.
//
//===----------------------------------------------------------------------===//

#include "capi/CApiCompiler.h"

#include "runtime/ElfObjectLoader.h"

using namespace uoe;

rt::StatusOr<rt::proto::Executable>
capi::compile(SourceKind kind, const std::string &source, int64_t batch,
              int64_t seq, const std::string &cacheDir, bool gradients,
              const std::string &cudaChip, const std::string &precision,
              bool decoding) {
  return rt::unimplementedError(
      "this runtime-only build of uoe has no compiler; compile with a "
      "compiler build and load the saved .uoex here");
}

rt::StatusOr<std::unique_ptr<rt::ObjectLoader>> capi::newCpuObjectLoader() {
  return std::unique_ptr<rt::ObjectLoader>(
      std::make_unique<rt::ElfObjectLoader>());
}
