//===- CompileTraining.cpp - model description to a training Executable --===//
//
// See CompileTraining.h. The model is imported as for inference; the
// training entry points are built by `--uoe-build-train-step` on that
// module (passes/TrainStep.cpp), then the whole module goes through the CPU
// pipeline as one compilation.
//
//===----------------------------------------------------------------------===//

#include "driver/CompileTraining.h"

#include "driver/CompileModel.h"
#include "driver/Compilation.h"
#include "codegen/cpu/ObjectEmitter.h"
#include "passes/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/SHA256.h"

#include <google/protobuf/text_format.h>

using namespace mlir;
using namespace mlir::uoe;
namespace rtp = ::uoe::rt::proto;

namespace {

const char *optimizerName(TrainOptions::Optimizer o) {
  return o == TrainOptions::Optimizer::AdamW ? "adamw" : "sgd";
}

const char *scheduleName(TrainOptions::Schedule s) {
  switch (s) {
  case TrainOptions::Schedule::Constant:
    return "constant";
  case TrainOptions::Schedule::LinearWarmup:
    return "warmup";
  case TrainOptions::Schedule::Cosine:
    return "cosine";
  }
  return "constant";
}

UoEBuildTrainStepPassOptions passOptions(const TrainOptions &o) {
  UoEBuildTrainStepPassOptions p;
  p.optimizer = optimizerName(o.optimizer);
  p.lr = o.lr;
  p.weightDecay = o.weightDecay;
  p.beta1 = o.beta1;
  p.beta2 = o.beta2;
  p.adamEps = o.adamEps;
  p.amsgrad = o.amsgrad;
  p.momentum = o.momentum;
  p.schedule = scheduleName(o.schedule);
  p.warmupSteps = o.warmupSteps;
  p.totalSteps = o.totalSteps;
  p.minLr = o.minLr;
  p.clipNorm = o.clipNorm;
  p.loadBalance = o.loadBalance;
  p.seed = static_cast<int64_t>(o.seed);
  return p;
}

} // namespace

std::vector<std::string> mlir::uoe::optimizerSlots(const TrainOptions &o) {
  if (o.optimizer == TrainOptions::Optimizer::Sgd)
    return {"momentum"};
  if (o.amsgrad)
    return {"m", "v", "vmax"};
  return {"m", "v"};
}

/// What the training step compiles with besides its passes: `target` and
/// the GEMMs' precision.
static CompileArtifacts stepArtifacts(const TrainOptions &options,
                                      const CompileTarget &target) {
  CompileArtifacts artifacts;
  artifacts.target = target;
  artifacts.precision = options.precision;
  return artifacts;
}

std::string mlir::uoe::trainingCacheKey(const model::Model &model,
                                        const TrainOptions &o, int64_t batch,
                                        int64_t seq,
                                        const CompileTarget &target) {
  llvm::SHA256 hash;
  hash.update("train|" +
              compileCacheKey(model, batch, seq, stepArtifacts(o, target)));
  hash.update(llvm::formatv(
                  "|{0}|{1}|{2}|{3}|{4}|{5}|{6}|{7}|{8}|{9}|{10}|{11}|{12}|{13}|"
                  "{14}",
                  optimizerName(o.optimizer), o.lr, o.weightDecay, o.beta1,
                  o.beta2, o.adamEps, o.amsgrad, o.momentum,
                  scheduleName(o.schedule), o.warmupSteps, o.totalSteps,
                  o.minLr, o.clipNorm, o.loadBalance,
                  "v2|" + std::to_string(o.seed))
                  .str());
  return llvm::toHex(hash.final(), /*LowerCase=*/true);
}

llvm::Expected<rtp::Executable>
mlir::uoe::compileTraining(const model::Model &model,
                                 const TrainOptions &options, int64_t batch,
                                 int64_t seq, const CompileTarget &target,
                                 bool timing) {
  Compilation compilation;
  if (timing)
    compilation.enableTiming();
  TimingScope importScope = compilation.timingScope().nest("import");
  auto module = importModel(compilation.getContext(), model, batch, seq);
  importScope.stop();
  if (!module)
    return compilation.fail(llvm::toString(module.takeError()));
  PassManager pm(&compilation.getContext());
  TimingScope root = compilation.timingScope();
  if (timing)
    pm.enableTiming(root);
  pm.addPass(createUoEBuildTrainStepPass(passOptions(options)));
  if (failed(pm.run(**module)))
    return compilation.fail("could not build the training step");
  auto executable =
      compilation.compile(**module, stepArtifacts(options, target));
  if (!executable)
    return executable.takeError();
  executable->set_cache_key(
      trainingCacheKey(model, options, batch, seq, target));
  executable->set_model_name(model.name());
  return executable;
}
