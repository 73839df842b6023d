//===- Pipelines.cpp - named pass pipelines ------------------------------===//
//
// The pipelines users name (`--uoe-cpu-pipeline` in uoe-opt, and the same
// function in uoe-run), defined once here.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void uoe::buildCpuPipeline(OpPassManager &pm) {
  pm.addPass(createUoEExpandLayersPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

void uoe::registerPipelines() {
  PassPipelineRegistration<>(
      "uoe-cpu-pipeline",
      "Compile uoe layer ops for the CPU (expansion and canonicalization; "
      "lowering passes are appended as they land)",
      [](OpPassManager &pm) { buildCpuPipeline(pm); });
}
