//===- CApiCompiler.cpp - the C API's compiler (compiler build) ----------===//
//
// CApiCompiler.h on the compiler: model descriptions go through
// parseModelText / parseModelFile, resolveModel and compileModel as in
// uoe-run, MLIR text through compileMlir, both through the driver's
// compiled-model cache (driver/ExecutableCache.h), uoe-run's: the same
// files and keys, so that a cache directory can be shared between the tool
// and embedders.
//
//===----------------------------------------------------------------------===//

#include "capi/CApiCompiler.h"

#include "driver/CompileMlir.h"
#include "driver/CompileModel.h"
#include "driver/ExecutableCache.h"
#include "driver/OrcLoader.h"
#include "frontend/ModelImporter.h"

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
              const std::string &cudaChip, const std::string &precision,
              bool decoding) {
  CompileArtifacts artifacts;
  artifacts.target.cudaChip = cudaChip;
  artifacts.gradients = gradients;
  artifacts.decoding = decoding;
  artifacts.precision = precision;
  const CompileTarget &target = artifacts.target;
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
    key = compileCacheKey(*model, batch, seq, artifacts);
  }

  // Silent: an embedder decides what to print.
  auto compiled = obtainExecutable(key, cacheDir, [&] {
    return kind == SourceKind::MlirText
               ? compileMlir(source, "<mlir>", target)
               : compileModel(*model, batch, seq, artifacts);
  });
  if (!compiled)
    return toStatus(compiled.takeError(), rt::StatusCode::InvalidArgument);
  return std::move(*compiled);
}

rt::StatusOr<std::unique_ptr<rt::ObjectLoader>> capi::newCpuObjectLoader() {
  return std::unique_ptr<rt::ObjectLoader>(new cpu::OrcLoader());
}
