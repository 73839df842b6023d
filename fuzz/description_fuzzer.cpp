//===- description_fuzzer.cpp - fuzzes the model-description importer ----===//
//
// The input is a model description (frontend/model.proto, Protobuf text
// format), as `uoe-compile` and `uoe-run` read it, through the importer's
// steps (frontend/ModelImporter.h):
//
//   parseModelText -> resolveModel -> modelParameters -> importModel
//
// An error (a text-format error, a field that resolveModel refuses, a
// shape that importModel refuses) is fine; a crash, a sanitizer report, a
// leak or a timeout is a bug, and so is a broken promise of the importer:
//
//  - a resolved model's weights (modelParameters) have non-empty, distinct
//    names and positive sizes, and at most kMaxModelParameters in all;
//  - importModel never fails with an "internal error" (@forward not using
//    every weight, or not verifying), and the module it returns verifies.
//
// Only small models are imported (under 1e6 weights, d_model under 4096,
// at most 64 layers: the IR grows with the layers), for batch 1 and
// min(8, max_positions) tokens, once with every layer inline and once with
// the blocks outlined, in a fresh single-threaded MLIRContext whose
// diagnostics are swallowed (UOE_FUZZ_VERBOSE=1 prints them and what each
// step answered).
//
//===----------------------------------------------------------------------===//

#include "frontend/ModelImporter.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>

using namespace mlir;
namespace model = ::uoe::model;

namespace {

const bool verbose = std::getenv("UOE_FUZZ_VERBOSE") != nullptr;

constexpr int64_t kMaxImportParameters = 1000000;
constexpr int64_t kMaxImportDModel = 4096;
constexpr int64_t kMaxImportLayers = 64;

/// Consumes `err`; with UOE_FUZZ_VERBOSE, prints it. Returns its message.
std::string report(const char *what, llvm::Error err) {
  std::string message = err ? llvm::toString(std::move(err)) : "";
  if (verbose)
    std::fprintf(stderr, "%s: %s\n", what,
                 message.empty() ? "ok" : message.c_str());
  return message;
}

[[noreturn]] void fail(const std::string &message) {
  std::fprintf(stderr, "description_fuzzer: %s\n", message.c_str());
  std::abort();
}

/// Checks modelParameters' promises; returns the number of weights.
int64_t checkParameters(const std::vector<mlir::uoe::ParamSpec> &params) {
  std::set<std::string> names;
  int64_t total = 0;
  for (const mlir::uoe::ParamSpec &p : params) {
    if (p.name.empty())
      fail("modelParameters lists a weight without a name");
    if (!names.insert(p.name).second)
      fail("modelParameters lists the weight '" + p.name + "' twice");
    if (p.shape.empty())
      fail("modelParameters gives the weight '" + p.name + "' no shape");
    int64_t n = 1;
    for (int64_t dim : p.shape) {
      if (dim <= 0)
        fail("modelParameters gives the weight '" + p.name +
             "' a size of " + std::to_string(dim));
      if (__builtin_mul_overflow(n, dim, &n))
        fail("the size of the weight '" + p.name + "' overflows");
    }
    if (__builtin_add_overflow(total, n, &total) ||
        total > mlir::uoe::kMaxModelParameters)
      fail("resolveModel accepted more than kMaxModelParameters weights");
  }
  return total;
}

void import(const model::Model &m, int64_t seq, bool outline) {
  const char *what = outline ? "importModel (outlined)" : "importModel";
  MLIRContext context(MLIRContext::Threading::DISABLED);
  context.printOpOnDiagnostic(false);
  context.printStackTraceOnDiagnostic(false);
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diag) {
    if (verbose)
      llvm::errs() << what << ": diagnostic: " << diag << "\n";
    return success();
  });
  auto module = mlir::uoe::importModel(context, m, /*batch=*/1, seq, outline);
  if (!module) {
    std::string message = report(what, module.takeError());
    if (llvm::StringRef(message).contains("internal error"))
      fail(std::string(what) + ": " + message);
    return;
  }
  report(what, llvm::Error::success());
  if (failed(mlir::verify(**module)))
    fail(std::string(what) + " returned a module that does not verify");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::StringRef text(reinterpret_cast<const char *>(data), size);
  llvm::Expected<model::Model> parsed = mlir::uoe::parseModelText(text, "fuzz");
  if (!parsed) {
    report("parseModelText", parsed.takeError());
    return 0;
  }
  report("parseModelText", llvm::Error::success());
  model::Model &m = *parsed;
  if (!report("resolveModel", mlir::uoe::resolveModel(m)).empty())
    return 0;

  int64_t total = checkParameters(mlir::uoe::modelParameters(m));
  int64_t layers = 0;
  for (const model::Block &block : m.blocks())
    layers += block.repeat();
  if (total >= kMaxImportParameters || m.d_model() >= kMaxImportDModel ||
      layers > kMaxImportLayers) {
    if (verbose)
      std::fprintf(stderr, "importModel: skipped (%lld weights, d_model %lld, "
                   "%lld layers: too large)\n",
                   static_cast<long long>(total),
                   static_cast<long long>(m.d_model()),
                   static_cast<long long>(layers));
    return 0;
  }
  int64_t seq = 8;
  if (m.has_embedding() && m.embedding().max_positions() > 0)
    seq = std::min<int64_t>(seq, m.embedding().max_positions());
  import(m, seq, /*outline=*/false);
  import(m, seq, /*outline=*/true);
  return 0;
}
