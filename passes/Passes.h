//===- Passes.h - passes and pipelines of the uoe compiler ----*- C++ -*-===//
//
// Declares every pass of passes/Passes.td (generated create functions and
// options) and the named pipelines shared by uoe-opt and uoe-run.
//
//===----------------------------------------------------------------------===//

#ifndef UOE_PASSES_PASSES_H
#define UOE_PASSES_PASSES_H

#include "dialect/UoEOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"

namespace mlir {
class RewritePatternSet;
namespace uoe {

#define GEN_PASS_DECL
#include "passes/Passes.h.inc"

/// Adds the patterns that expand `uoe.uome`, `uoe.smha` and `uoe.moe` into
/// routing and expert ops.
void populateExpandLayersPatterns(RewritePatternSet &patterns);

/// Registers every uoe pass with the global registry (for uoe-opt).
#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"

/// Appends the CPU pipeline to `pm`: layer expansion and canonicalization
/// for now; lowering to linalg and LLVM follows in later passes.
void buildCpuPipeline(OpPassManager &pm);

/// Registers the named pipelines (`--uoe-cpu-pipeline`).
void registerPipelines();

} // namespace uoe
} // namespace mlir

#endif // UOE_PASSES_PASSES_H
