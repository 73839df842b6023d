//===- CApiCompiler.cpp - the C API's compiler (compiler build) ----------===//
//
// CApiCompiler.h on the compiler: model descriptions go through
// parseModelText / parseModelFile, resolveModel and compileModel as in
// uoe-run, MLIR text through compileMlirForCpu. The compiled-model cache is
// uoe-run's: `<dir>/<key>.uoex` with the same keys, so that a cache
// directory can be shared between the tool and embedders.
//
//===----------------------------------------------------------------------===//

#include "frontend/capi/CApiCompiler.h"

#include "codegen/CompileMlir.h"
#include "codegen/CompileModel.h"
#include "codegen/cpu/OrcLoader.h"
#include "frontend/ModelImporter.h"
#include "runtime/Executable.h"

#include "llvm/Support/FileSystem.h"

using namespace uoe;
using namespace mlir::uoe;

namespace {

/// The LLVM error `error` as a Status of `code`, with its text.
rt::Status toStatus(llvm::Error error, rt::StatusCode code) {
  return rt::Status(code, llvm::toString(std::move(error)));
}

/// The resolved description from `source` (text or a path).
rt::StatusOr<model::Model> resolvedModel(capi::SourceKind kind,
                                         const std::string &source) {
  std::string name = kind == capi::SourceKind::ModelFile ? source : "<text>";
  if (kind == capi::SourceKind::ModelFile && !llvm::sys::fs::exists(source))
    return rt::notFoundError(source + ": no such file");
  auto parsed = kind == capi::SourceKind::ModelFile
                    ? parseModelFile(source)
                    : parseModelText(source, name);
  if (!parsed)
    return toStatus(parsed.takeError(), rt::StatusCode::InvalidArgument);
  if (llvm::Error err = resolveModel(*parsed))
    return rt::invalidArgumentError(name + ": " +
                                    llvm::toString(std::move(err)));
  return std::move(*parsed);
}

} // namespace

rt::StatusOr<rt::proto::Executable>
capi::compile(SourceKind kind, const std::string &source, int64_t batch,
              int64_t seq, const std::string &cacheDir, bool gradients,
              const std::string &cudaChip) {
  CompileTarget target;
  target.cudaChip = cudaChip;
  std::optional<model::Model> model;
  std::string key;
  if (kind == SourceKind::MlirText) {
    key = compileMlirCacheKey(source, target);
  } else {
    if (batch <= 0 || seq <= 0)
      return rt::invalidArgumentError(
          rt::strCat("batch (", batch, ") and seq (", seq,
                     ") must be positive"));
    UOE_ASSIGN_OR_RETURN(model, resolvedModel(kind, source));
    key = compileCacheKey(*model, batch, seq, gradients, target);
  }

  if (!cacheDir.empty()) {
    // An absent, unreadable or foreign entry is recompiled and replaced.
    auto cached = rt::loadCachedExecutable(cacheDir, key);
    if (cached.ok())
      return std::move(*cached);
  }

  CompileArtifacts artifacts;
  artifacts.gradients = gradients;
  artifacts.target = target;
  auto compiled = kind == SourceKind::MlirText
                      ? compileMlirForCpu(source, "<mlir>", target)
                      : compileModel(*model, batch, seq, artifacts);
  if (!compiled)
    return toStatus(compiled.takeError(), rt::StatusCode::InvalidArgument);
  // The cache is an optimisation: failing to fill it is not an error.
  if (!cacheDir.empty())
    rt::storeCachedExecutable(cacheDir, *compiled).ignoreError();
  return std::move(*compiled);
}

rt::StatusOr<std::unique_ptr<rt::ObjectLoader>> capi::newCpuObjectLoader() {
  return std::unique_ptr<rt::ObjectLoader>(new cpu::OrcLoader());
}
