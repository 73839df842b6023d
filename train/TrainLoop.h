//===- TrainLoop.h - the step loop of a training run ------------*- C++ -*-===//
//
// The loop of `uoe-run train`, on a program that is compiled, loaded and
// bound (driver/CompileTraining.h describes its entry points): draw a
// batch, run `train_step`, write the metrics row, evaluate `eval_loss` on
// the validation batches, write checkpoints and the loss plot, and stop at
// the last step, at `stopAt`, at an interrupt or at a non-finite loss.
// What happens is reported to a LoopObserver (the command line draws a
// progress bar from it); the loop itself prints nothing.
//
// Resuming is exact because a checkpoint holds everything a step depends
// on: the weights and optimizer state, the step number, and the sampler's
// generator state (`data.sampler`), besides the caller's metadata.
//
//===----------------------------------------------------------------------===//

#ifndef UOE_TRAIN_TRAINLOOP_H
#define UOE_TRAIN_TRAINLOOP_H

#include "runtime/Program.h"
#include "support/Status.h"
#include "train/ByteCorpus.h"
#include "train/TrainLog.h"

#include <csignal>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace uoe::train {

/// What the loop does besides running steps. Steps are 1-based.
struct LoopOptions {
  /// The last step already trained (a resumed run's checkpoint), 0 if none.
  int64_t startStep = 0;
  /// The run's last step.
  int64_t steps = 0;
  /// Stop after this step (0: at `steps`) with a checkpoint, as if
  /// interrupted.
  int64_t stopAt = 0;
  /// Evaluate every K steps and at the last one (0: at the last one only).
  int64_t evalEvery = 0;
  /// Checkpoint every K steps and where the run stops (0: there only).
  int64_t checkpointEvery = 0;
  /// A log line every K steps (LoopObserver::onStep's `logLine`).
  int64_t logEvery = 1;
  /// Where checkpoints, metrics.csv and loss.svg go.
  std::string checkpointDir;
  /// The loss plot's title.
  std::string plotTitle;
  /// Tokens per step, for the rates.
  int64_t tokensPerStep = 0;
  /// Training seconds of earlier runs (a resumed run's), for `elapsed_s`.
  double elapsedBefore = 0;
  /// The results of `train_step` that the loop reads.
  int lossResult = 0, gradNormResult = 1, lrResult = 2;
  /// The tensors bound to `train_step` that a checkpoint holds, in order
  /// (the parameters, then the optimizer state).
  std::vector<std::string> checkpointTensors;
  /// Written into every checkpoint besides `data.sampler` (the sampler's
  /// state) and `train.elapsed_s` (training seconds, this run and before),
  /// which the loop fills in.
  std::map<std::string, std::string, std::less<>> checkpointMetadata;
};

/// What the loop reports as it goes. Every method has a default that does
/// nothing.
class LoopObserver {
public:
  virtual ~LoopObserver() = default;
  /// After every step, once its row is in metrics.csv. `logLine`: this step
  /// is due a log line (logEvery, or where the run stops); `milestone`:
  /// something else happens at it (an evaluation, a checkpoint, the stop).
  virtual void onStep(const MetricsRow &row, const ProgressInfo &progress,
                      bool logLine, bool milestone) {}
  /// After an evaluation at `step`.
  virtual void onValidation(int64_t step, double loss) {}
  /// After a checkpoint of `step` was written to `path`.
  virtual void onCheckpoint(int64_t step, const std::string &path) {}
};

/// How a run of the loop ended.
struct LoopResult {
  enum class End {
    Finished,     // at LoopOptions::steps
    Stopped,      // at LoopOptions::stopAt
    Interrupted,  // *interrupts became non-zero: after that step
    NonFiniteLoss // at `lastStep`, without a checkpoint of it
  };
  End end = End::Finished;
  /// The last step run (for NonFiniteLoss, the one whose loss was not
  /// finite).
  int64_t lastStep = 0;
  int64_t stepsRun = 0;
  /// Seconds in batches and steps (this run), and wall seconds in the loop.
  double trainSeconds = 0, wallSeconds = 0;
  /// NonFiniteLoss: the loss.
  double loss = 0;
  std::optional<double> lastValidation;
  int64_t lastValidationStep = 0;
  /// The last checkpoint written, by this run or (when none) "".
  std::string lastCheckpoint;
};

/// Runs steps startStep + 1 .. the stop. `program` has `train_step` (inputs
/// tokens, targets, step) and `eval_loss` (tokens, targets) bound; `csv`
/// is the run's metrics.csv. `interrupts`, when non-null, is read after
/// every step (a SIGINT handler's counter). Errors (a failed step, a
/// checkpoint that cannot be written) name the step or the file; what was
/// written before them stays.
StatusOr<LoopResult>
runTrainLoop(rt::Program &program, BatchSampler &sampler,
             const std::vector<TokenBatch> &validation, MetricsCsvWriter &csv,
             const LoopOptions &options, LoopObserver &observer,
             const volatile std::sig_atomic_t *interrupts = nullptr);

/// The shortest of %.15g, %.16g, %.17g that reads back as `value` (the
/// checkpoints' text for reals).
std::string canonicalReal(double value);

} // namespace uoe::train

#endif // UOE_TRAIN_TRAINLOOP_H
