//===- Passes.h - passes and pipelines of the uoe compiler ----*- C++ -*-===//
//
// Declares every pass of passes/Passes.td (generated create functions and
// options) and the named pipelines shared by uoe-opt and uoe-run.
//
//===----------------------------------------------------------------------===//

#ifndef UOE_PASSES_PASSES_H
#define UOE_PASSES_PASSES_H

#include "dialect/UoEOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
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

/// Adds the patterns that rewrite `uoe.dense_mlp` and `uoe.attention` as
/// single-expert `uoe.expert_matmul` and `uoe.selective_attention`.
void populateDenseLayerExpansionPatterns(RewritePatternSet &patterns);
/// Its two halves (ExpertComputeToLinalg.cpp, AttentionToLinalg.cpp).
void populateDenseMlpExpansionPatterns(RewritePatternSet &patterns);
void populateDenseAttentionExpansionPatterns(RewritePatternSet &patterns);

/// Adds every pattern of `--convert-uoe-to-linalg` (layer expansion and the
/// lowerings of passes/Lowerings.h).
void populateUoEToLinalgPatterns(RewritePatternSet &patterns);

/// Registers every uoe pass with the global registry (for uoe-opt).
#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"

/// Appends the CPU pipeline to `pm`: uoe ops on tensors down to the LLVM
/// dialect, with f32 GEMMs as calls to `uoe_cpu_sgemm_batched`. Entry
/// functions that should be callable from the runtime carry the
/// `llvm.emit_c_interface` attribute. Fails only if the built-in pipeline
/// text does not parse (a bug).
LogicalResult buildCpuPipeline(OpPassManager &pm);

/// Registers the named pipelines (`--uoe-cpu-pipeline`).
void registerPipelines();

} // namespace uoe
} // namespace mlir

#endif // UOE_PASSES_PASSES_H
