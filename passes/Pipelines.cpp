//===- Pipelines.cpp - named pass pipelines ------------------------------===//
//
// The pipelines users name (`--uoe-cpu-pipeline` in uoe-opt, and the same
// function in uoe-run), defined once here. The CPU pipeline takes layer ops
// on tensors to the LLVM dialect:
//
//   uoe layer ops -> routing/expert ops -> linalg on tensors
//     -> buffers (one-shot bufferization, identity layouts at function
//        boundaries) -> f32 GEMMs as runtime BLAS calls -> loops -> LLVM.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/InitAllPasses.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

#include <mutex>

using namespace mlir;

/// The CPU pipeline after `convert-uoe-to-linalg`, in mlir-opt syntax so
/// that a dump of it can be replayed with uoe-opt as is.
static constexpr const char *kCpuLowering =
    // No CSE before bufferization: it would merge the zero-filled outputs
    // of GEMMs into one tensor, which bufferization then copies for each
    // GEMM; kept apart, every fill folds into its GEMM (beta = 0).
    "convert-elementwise-to-linalg,uoe-approximate-math,canonicalize,"
    "uoe-protect-arguments,"
    "one-shot-bufferize{bufferize-function-boundaries "
    "function-boundary-type-conversion=identity-layout-map},"
    "uoe-linalg-to-blas,"
    "buffer-deallocation-pipeline,convert-bufferization-to-memref,"
    // Parallel loop nests run on OpenMP threads (the runtime links LLVM's
    // libomp); alloca scopes must reach LLVM before scf-to-cf splits the
    // loops inside them into blocks.
    "convert-linalg-to-parallel-loops,uoe-serialize-inner-parallel-loops,"
    "expand-strided-metadata,lower-affine,"
    "convert-scf-to-openmp,finalize-memref-to-llvm{use-generic-functions},"
    "convert-scf-to-cf,convert-math-to-llvm,convert-math-to-libm,"
    "convert-arith-to-llvm,convert-index-to-llvm,convert-func-to-llvm,"
    "convert-cf-to-llvm,convert-openmp-to-llvm,reconcile-unrealized-casts,"
    "canonicalize,cse";

/// The textual pipeline names upstream passes and ours: make sure they are
/// registered also in programs that are not uoe-opt (uoe-run, the C API).
/// Registering a pass twice under the same name is harmless.
static void ensurePassesRegistered() {
  static std::once_flag once;
  std::call_once(once, [] {
    registerAllPasses();
    uoe::registerUoEPasses();
  });
}

LogicalResult uoe::buildCpuPipeline(OpPassManager &pm) {
  ensurePassesRegistered();
  pm.addPass(createUoEConvertUoEToLinalgPass());
  return parsePassPipeline(kCpuLowering, pm);
}

void uoe::registerPipelines() {
  PassPipelineRegistration<>(
      "uoe-cpu-pipeline",
      "Compile uoe ops on tensors to the LLVM dialect for the CPU (GEMMs as "
      "calls to the runtime's BLAS)",
      [](OpPassManager &pm) {
        if (failed(buildCpuPipeline(pm)))
          llvm::report_fatal_error("invalid built-in CPU pipeline");
      });
}
