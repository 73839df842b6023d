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
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
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

/// Rewrites `op` (without reductions) into a nest: an scf.parallel over its
/// first dimension (when `keepOuter`) around scf.for loops over the others.
void serializeParallelLoop(scf::ParallelOp op, bool keepOuter);

/// Registers every uoe pass with the global registry (for uoe-opt).
#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"

/// Whether `precision` names a precision of the CPU pipeline's GEMMs:
/// "f32", or "bf16" (bf16 operands, f32 sums).
inline bool isCpuGemmPrecision(llvm::StringRef precision) {
  return precision == "f32" || precision == "bf16";
}

/// Appends the CPU pipeline to `pm`: uoe ops on tensors down to the LLVM
/// dialect, with f32 GEMMs as calls to `uoe_sgemm_batched` (with
/// `precision` "bf16": `uoe_gemm_batched_bf16`, bf16 products accumulated
/// in f32). Entry functions that should be callable from the runtime carry
/// the `llvm.emit_c_interface` attribute. Fails if the built-in pipeline
/// text does not parse (a bug) or `precision` is neither "f32" nor "bf16".
LogicalResult buildCpuPipeline(OpPassManager &pm,
                               llvm::StringRef precision = "f32");

/// What the GPU pipeline compiles for.
struct GpuPipelineOptions {
  /// The SM of the kernels, e.g. "sm_90".
  std::string chip = "sm_90";
  /// NVPTX optimisation level.
  int optLevel = 3;
  /// Embed a fatbin (cubin from the CUDA toolkit's ptxas, plus the PTX)
  /// instead of PTX alone, which the driver compiles when it loads it.
  bool fatbin = false;
  /// The CUDA toolkit whose libdevice the kernels link (math functions)
  /// and whose ptxas makes cubins; empty: MLIR's own search ($CUDA_ROOT,
  /// $CUDA_HOME, $CUDA_PATH, then where MLIR was built to look).
  std::string toolkitPath;
};

/// Appends the GPU pipeline to `pm`: uoe ops on tensors down to host code in
/// the LLVM dialect whose parallel loop nests run as kernels (one
/// `gpu.binary @uoe_kernels`) and whose f32 GEMMs call
/// `uoe_sgemm_batched` (bound to cuBLAS by the cuda runtime). Buffers
/// come from `_mlir_memref_to_llvm_alloc`, which the cuda runtime serves
/// from managed memory, so that host code and kernels share them. Fails for
/// a chip that is not "sm_<N>".
LogicalResult buildGpuPipeline(OpPassManager &pm,
                               const GpuPipelineOptions &options);

/// Appends the GPU emulation pipeline to `pm`: the GPU pipeline's mapping
/// of loop nests to kernels (uoe-parallel-loops-to-gpu), whose launches
/// then run as CPU parallel loops (uoe-gpu-launch-to-loops) on the CPU
/// pipeline's back end. Its results must equal the CPU pipeline's: that
/// checks the mapping on machines without a GPU.
LogicalResult buildGpuEmulationPipeline(OpPassManager &pm);

/// Adds to `registry` what the pipelines need besides dialects and their
/// extensions: the LLVM IR translations of the builtin, llvm, gpu and nvvm
/// dialects (gpu-module-to-binary translates kernels) and the NVVM target.
void registerPipelineDependencies(DialectRegistry &registry);

/// Registers the named pipelines (`--uoe-cpu-pipeline`, `--uoe-gpu-pipeline`).
void registerPipelines();

} // namespace uoe
} // namespace mlir

#endif // UOE_PASSES_PASSES_H
