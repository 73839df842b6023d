//===- CompileTraining.h - model description to a training Executable -*- C++ -*-===//
//
// The training counterpart of CompileModel.h: one Executable whose entry
// points train and evaluate a language model (or classifier) described by a
// model description, for a fixed batch and sequence length.
//
//   train_step  inputs:  tokens i64 [B, T], targets i64 [B, T] (classifier:
//                        [B]), step i64 [] (1-based: the number of this
//                        update, for the learning-rate schedule and Adam's
//                        bias correction)
//               params:  the model's parameters (docs/MODEL_FORMAT.md), then
//                        the optimizer state, named `opt.<slot>.<param>`
//                        (slots: `m`, `v` for AdamW, plus `vmax` with
//                        AMSGrad; `momentum` for SGD), f32 of the
//                        parameter's shape, zeros before the first step
//               results: loss f32 [] (the mean token cross-entropy, plus the
//                        weighted load-balancing loss when enabled),
//                        grad_norm f32 [] (the global L2 norm of the
//                        gradients before clipping), lr f32 [] (the learning
//                        rate of this step), then the new value of every
//                        parameter and state tensor, each with
//                        `TensorSpec.updates` naming the tensor it replaces.
//   eval_loss   inputs: tokens, targets; params: the model's; results: loss
//               (cross-entropy only, no dropout).
//   forward     as compileModel's.
//
// The runtime applies `updates` after a run (CpuProgram::run): the bound
// tensor of that name is replaced in every entry point, so that
// `eval_loss` and `forward` see the trained weights (the update results
// are returned too, like every result). A step is deterministic: the same inputs, parameters,
// state and thread count give bit-identical results.
//
//===----------------------------------------------------------------------===//

#ifndef UOE_DRIVER_COMPILETRAINING_H
#define UOE_DRIVER_COMPILETRAINING_H

#include "driver/CompileModel.h"
#include "frontend/ModelImporter.h"
#include "formats/executable.pb.h"

#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>

namespace mlir::uoe {

/// What `train_step` does besides the gradient. Defaults are those of
/// `uoe-run train`.
struct TrainOptions {
  enum class Optimizer { AdamW, Sgd };
  enum class Schedule { Constant, LinearWarmup, Cosine };

  Optimizer optimizer = Optimizer::AdamW;
  double lr = 1e-3;            // peak learning rate
  double weightDecay = 0.0;    // AdamW: decoupled, lr * wd * p; SGD: L2
  double beta1 = 0.9, beta2 = 0.999, adamEps = 1e-8;
  bool amsgrad = false;
  double momentum = 0.9;       // SGD (0: plain SGD)
  Schedule schedule = Schedule::Constant;
  int64_t warmupSteps = 0;     // LinearWarmup and Cosine: lr * step / warmup
  int64_t totalSteps = 0;      // Cosine: decays to minLr at totalSteps
  double minLr = 0.0;          // Cosine
  double clipNorm = 1.0;       // global-norm clipping; 0 = off
  double loadBalance = 0.0;    // weight of the Switch-style balance loss
  uint64_t seed = 0;           // dropout masks (model.dropout > 0)
  /// The GEMMs' products, forward and backward: "f32", or "bf16" (bf16
  /// operands, f32 sums; the host CPU only), as CompileArtifacts::precision.
  /// Weights, gradients and the optimizer state stay f32.
  std::string precision = "f32";
};

/// Compiles the training and evaluation entry points of `model` (resolved,
/// with an embedding and a head) for `batch` sequences of `seq` tokens, for
/// `target` (default: the host CPU). With `timing`, prints the time of every
/// phase on stderr (`uoe-run train --timing`).
llvm::Expected<::uoe::rt::proto::Executable>
compileTraining(const model::Model &model, const TrainOptions &options,
                int64_t batch, int64_t seq, const CompileTarget &target = {},
                bool timing = false);

/// The optimizer state slots of `options` (`m`, `v`, ...), in order.
std::vector<std::string> optimizerSlots(const TrainOptions &options);

/// A hex SHA-256 over everything compileTraining depends on.
std::string trainingCacheKey(const model::Model &model,
                             const TrainOptions &options, int64_t batch,
                             int64_t seq, const CompileTarget &target = {});

} // namespace mlir::uoe

#endif // UOE_DRIVER_COMPILETRAINING_H
