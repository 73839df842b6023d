//===- TrainLoop.cpp - the step loop of a training run -------------------===//
//
// See TrainLoop.h.
//
//===----------------------------------------------------------------------===//

#include "train/TrainLoop.h"

#include "formats/Checkpoint.h"
#include "runtime/CpuBlas.h"
#include "support/FileUtil.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace uoe::train {
namespace {

using Clock = std::chrono::steady_clock;

double seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

/// The first element of a scalar result as a double.
double scalarOf(const rt::HostTensor &t) {
  auto f = t.toF32();
  return f.ok() && f->numElements() > 0 ? f->data<float>()[0] : NAN;
}

/// The mean `eval_loss` over the validation batches.
StatusOr<double> evaluate(rt::Program &program,
                          const std::vector<TokenBatch> &validation) {
  double sum = 0;
  for (const TokenBatch &batch : validation) {
    std::vector<HostTensor> inputs;
    UOE_ASSIGN_OR_RETURN(HostTensor tokens, batch.tokens.clone());
    UOE_ASSIGN_OR_RETURN(HostTensor targets, batch.targets.clone());
    inputs.push_back(std::move(tokens));
    inputs.push_back(std::move(targets));
    UOE_ASSIGN_OR_RETURN(std::vector<HostTensor> results,
                         program.run("eval_loss", inputs));
    if (results.empty())
      return rt::internalError("eval_loss returned no loss");
    sum += scalarOf(results[0]);
  }
  return sum / static_cast<double>(validation.size());
}

/// Writes the checkpoint of `step`; returns its path.
StatusOr<std::string> saveCheckpoint(rt::Program &program,
                                     const BatchSampler &sampler,
                                     const LoopOptions &options, int64_t step,
                                     double elapsed) {
  std::vector<HostTensor> owned;
  owned.reserve(options.checkpointTensors.size());
  std::vector<std::pair<std::string, const HostTensor *>> named;
  for (const std::string &name : options.checkpointTensors) {
    UOE_ASSIGN_OR_RETURN(HostTensor t,
                         program.boundParameter("train_step", name));
    owned.push_back(std::move(t));
    named.push_back({name, &owned.back()});
  }
  auto meta = options.checkpointMetadata;
  meta["data.sampler"] = sampler.state();
  meta["train.elapsed_s"] = canonicalReal(elapsed);
  return rt::writeCheckpoint(options.checkpointDir, step, named, meta);
}

} // namespace

std::string canonicalReal(double value) {
  char buffer[40];
  for (int digits = 15; digits <= 17; ++digits) {
    std::snprintf(buffer, sizeof(buffer), "%.*g", digits, value);
    if (std::strtod(buffer, nullptr) == value)
      break;
  }
  return buffer;
}

StatusOr<LoopResult>
runTrainLoop(rt::Program &program, BatchSampler &sampler,
             const std::vector<TokenBatch> &validation, MetricsCsvWriter &csv,
             const LoopOptions &options, LoopObserver &observer,
             const volatile std::sig_atomic_t *interrupts) {
  LoopResult result;
  int64_t endStep = options.stopAt > 0 && options.stopAt < options.steps
                        ? options.stopAt
                        : options.steps;
  auto runStart = Clock::now();
  auto elapsed = [&] {
    return options.elapsedBefore + seconds(Clock::now() - runStart);
  };
  for (int64_t n = options.startStep + 1; n <= endStep; ++n) {
    auto stepStart = Clock::now();
    UOE_ASSIGN_OR_RETURN(TokenBatch batch, sampler.next());
    std::vector<HostTensor> inputs;
    inputs.push_back(std::move(batch.tokens));
    inputs.push_back(std::move(batch.targets));
    UOE_ASSIGN_OR_RETURN(HostTensor stepTensor,
                         HostTensor::fromVector<int64_t>(rt::DType::I64, {},
                                                         {n}));
    inputs.push_back(std::move(stepTensor));
    auto results = program.run("train_step", inputs);
    if (!results.ok())
      return results.status().withContext(rt::strCat("train_step ", n));
    double stepSeconds = seconds(Clock::now() - stepStart);
    result.trainSeconds += stepSeconds;
    ++result.stepsRun;
    result.lastStep = n;

    MetricsRow row;
    row.step = n;
    row.trainLoss = scalarOf((*results)[options.lossResult]);
    row.gradNorm = scalarOf((*results)[options.gradNormResult]);
    row.lr = scalarOf((*results)[options.lrResult]);
    row.tokensPerSecond =
        options.tokensPerStep / std::max(stepSeconds, 1e-9);
    if (!std::isfinite(row.trainLoss)) {
      result.end = LoopResult::End::NonFiniteLoss;
      result.loss = row.trainLoss;
      result.wallSeconds = seconds(Clock::now() - runStart);
      return result;
    }

    bool interrupted = interrupts && *interrupts > 0;
    if (interrupted)
      endStep = n;
    bool last = n == options.steps, stop = n == endStep;
    bool evalNow =
        !validation.empty() &&
        (last || (options.evalEvery > 0 && n % options.evalEvery == 0));
    bool checkpointNow = stop || (options.checkpointEvery > 0 &&
                                  n % options.checkpointEvery == 0);
    if (evalNow) {
      UOE_ASSIGN_OR_RETURN(double loss, evaluate(program, validation));
      row.valLoss = loss;
      result.lastValidation = loss;
      result.lastValidationStep = n;
    }
    row.elapsedSeconds = elapsed();
    UOE_RETURN_IF_ERROR(csv.append(row));

    ProgressInfo info;
    info.step = n;
    // Under stopAt the bar and the ETA count to the stop.
    info.totalSteps = endStep;
    info.loss = row.trainLoss;
    info.lr = row.lr;
    info.tokensPerSecond =
        options.tokensPerStep * result.stepsRun / result.trainSeconds;
    info.etaSeconds = (endStep - n) * result.trainSeconds / result.stepsRun;
    observer.onStep(row, info, stop || n % options.logEvery == 0,
                    stop || evalNow || checkpointNow);
    if (evalNow)
      observer.onValidation(n, *row.valLoss);
    if (checkpointNow) {
      UOE_ASSIGN_OR_RETURN(result.lastCheckpoint,
                           saveCheckpoint(program, sampler, options, n,
                                          elapsed()));
      observer.onCheckpoint(n, result.lastCheckpoint);
    }
    if (evalNow || checkpointNow)
      UOE_RETURN_IF_ERROR(rt::writeFileAtomically(
          options.checkpointDir + "/loss.svg",
          renderLossCurveSvg(csv.rows(), options.plotTitle)));
    if (interrupted)
      result.end = LoopResult::End::Interrupted;
    else if (stop && n < options.steps)
      result.end = LoopResult::End::Stopped;
  }
  result.wallSeconds = seconds(Clock::now() - runStart);
  return result;
}

} // namespace uoe::train
