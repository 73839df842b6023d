//===- uoe-opt.cpp - the uoe pass driver ----------------------------------===//
//
// `mlir-opt` with the `uoe` dialect and its passes and pipelines registered,
// next to the upstream dialects and passes our pipelines use. Every standard
// mlir-opt flag works (`--split-input-file`, `--verify-diagnostics`,
// `--mlir-print-ir-after-all`, `--pass-pipeline=...`).
//
//===----------------------------------------------------------------------===//

#include "dialect/UoEOps.h"
#include "passes/Passes.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::registerAllPasses();
  mlir::uoe::registerUoEPasses();
  mlir::uoe::registerPipelines();

  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  registry.insert<mlir::uoe::UoEDialect>();
  mlir::uoe::registerPipelineDependencies(registry);

  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "uoe optimizer: passes over the uoe dialect\n", registry));
}
