//===- mlir_fuzzer.cpp - fuzzes uoe MLIR through the parser and verifier -===//
//
// The input is MLIR text, as `uoe-opt` reads it: a module of `uoe` ops and
// the upstream ones the project's tests use (func, arith, tensor, linalg,
// math, scf, memref). It is parsed (the uoe ops' custom assembly formats,
// attributes and enums: dialect/), then verified (the ops' verifiers and
// shape inference). A parse or verify error is fine; a crash, a sanitizer
// report, a leak or a timeout is a bug. A module that verifies must also
// round-trip: its printed form (the custom printers) and its generic form
// parse and verify again, as `uoe-opt %s | uoe-opt` and
// `uoe-opt --mlir-print-op-generic %s | uoe-opt` in test/dialect/ expect.
//
// One MLIRContext per input (nothing carries over from one input to the
// next), single-threaded, that neither prints the op with a diagnostic nor
// prints the diagnostic itself (UOE_FUZZ_VERBOSE=1 prints them).
//
//===----------------------------------------------------------------------===//

#include "dialect/UoEDialect.h"
#include "dialect/UoEOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

using namespace mlir;

namespace {

const bool verbose = std::getenv("UOE_FUZZ_VERBOSE") != nullptr;

const DialectRegistry &registry() {
  static const DialectRegistry &r = *[] {
    auto *r = new DialectRegistry;
    r->insert<uoe::UoEDialect, func::FuncDialect, arith::ArithDialect,
              tensor::TensorDialect, linalg::LinalgDialect, math::MathDialect,
              scf::SCFDialect, memref::MemRefDialect>();
    return r;
  }();
  return r;
}

/// Parses `text` in a fresh context (diagnostics swallowed), verifies it
/// and, when `printed` is not null, prints what verified to it, in the
/// custom form and in `generic`'s generic form. Returns whether the module
/// parsed and verified.
bool parseAndVerify(llvm::StringRef text, const char *what,
                    std::string *printed, std::string *generic) {
  MLIRContext context(registry(), MLIRContext::Threading::DISABLED);
  context.printOpOnDiagnostic(false);
  context.printStackTraceOnDiagnostic(false);
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diag) {
    if (verbose)
      llvm::errs() << what << ": " << diag << "\n";
    return success();
  });
  // The verifier runs below, on its own (the parser would run it too).
  ParserConfig config(&context, /*verifyAfterParse=*/false);
  OwningOpRef<ModuleOp> module =
      parseSourceString<ModuleOp>(text, config, "fuzz");
  if (!module) {
    if (verbose)
      llvm::errs() << what << ": parse failed\n";
    return false;
  }
  if (failed(verify(*module))) {
    if (verbose)
      llvm::errs() << what << ": verify failed\n";
    return false;
  }
  if (verbose)
    llvm::errs() << what << ": ok\n";
  if (printed) {
    llvm::raw_string_ostream os(*printed);
    module->print(os);
  }
  if (generic) {
    llvm::raw_string_ostream os(*generic);
    module->print(os, OpPrintingFlags().printGenericOpForm());
  }
  return true;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  // MLIR's lexer expects a NUL after the text, as every tool's buffer has
  // (llvm::MemoryBuffer::getFile adds one): libFuzzer's bytes have none,
  // so they are copied into a std::string, whose c_str() ends in one.
  std::string input(reinterpret_cast<const char *>(data), size);
  std::string printed, generic;
  if (!parseAndVerify(input, "input", &printed, &generic))
    return 0;
  for (const auto &[form, text] :
       {std::pair<const char *, const std::string *>{"printed", &printed},
        {"generic", &generic}}) {
    if (!parseAndVerify(*text, form, nullptr, nullptr)) {
      std::fprintf(stderr,
                   "a module that verifies does not round-trip: its %s form "
                   "does not parse and verify:\n%s\n",
                   form, text->c_str());
      std::abort();
    }
  }
  return 0;
}
