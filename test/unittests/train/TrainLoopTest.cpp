//===- TrainLoopTest.cpp - the step loop of a training run ---------------===//
//
// runTrainLoop on a fake program (no compiler): a `train_step` whose loss
// is 1 / step (or NaN at a chosen step) and which sets its one weight to
// the step, so that checkpoints show which step they hold. Checks when the
// loop evaluates, checkpoints and stops, and what it reports.
//
//===----------------------------------------------------------------------===//

#include "train/TrainLoop.h"

#include "formats/Checkpoint.h"
#include "test/unittests/runtime/TestUtil.h"

#include "gtest/gtest.h"

#include <cmath>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace rt = ::uoe::rt;
using namespace uoe::train;
using rt::test::TempDir;

namespace {

rt::HostTensor scalar(float value) {
  return *rt::HostTensor::fromVector<float>(rt::DType::F32, {}, {value});
}

class FakeProgram : public rt::Program {
public:
  /// The step whose loss is NaN (0: none).
  int64_t nanAt = 0;
  std::vector<int64_t> steps;
  int evaluations = 0;

  rt::Status bindParameters(const std::string &, rt::NamedTensors) override {
    return rt::okStatus();
  }
  rt::StatusOr<std::vector<rt::HostTensor>>
  run(const std::string &entry,
      const std::vector<rt::HostTensor> &inputs) override {
    std::vector<rt::HostTensor> results;
    if (entry == "eval_loss") {
      ++evaluations;
      results.push_back(scalar(0.5f));
      return results;
    }
    int64_t step = inputs.at(2).data<int64_t>()[0];
    steps.push_back(step);
    weight_ = static_cast<float>(step);
    results.push_back(scalar(step == nanAt ? NAN : 1.0f / step));
    results.push_back(scalar(2.0f)); // grad_norm
    results.push_back(scalar(1e-3f)); // lr
    return results;
  }
  rt::StatusOr<rt::HostTensor>
  boundParameter(const std::string &, const std::string &name) const override {
    if (name != "w")
      return rt::notFoundError("no parameter " + name);
    return scalar(weight_);
  }
  const rt::proto::Executable &executable() const override {
    return executable_;
  }

private:
  float weight_ = 0;
  rt::proto::Executable executable_;
};

struct Recorder : LoopObserver {
  std::vector<int64_t> steps, logLines, validations, checkpoints;
  void onStep(const MetricsRow &row, const ProgressInfo &info, bool logLine,
              bool) override {
    steps.push_back(row.step);
    if (logLine)
      logLines.push_back(row.step);
    EXPECT_EQ(info.step, row.step);
  }
  void onValidation(int64_t step, double loss) override {
    validations.push_back(step);
    EXPECT_EQ(loss, 0.5);
  }
  void onCheckpoint(int64_t step, const std::string &) override {
    checkpoints.push_back(step);
  }
};

/// A corpus, its sampler and validation batches, a metrics.csv in a
/// temporary directory, and options for `steps` steps.
struct LoopRun {
  TempDir dir;
  std::optional<ByteCorpus> corpus;
  std::optional<BatchSampler> sampler;
  std::vector<TokenBatch> validation;
  std::optional<MetricsCsvWriter> csv;
  LoopOptions options;

  explicit LoopRun(int64_t steps) {
    std::string text;
    for (int i = 0; i < 4000; ++i)
      text += static_cast<char>('a' + i % 26);
    corpus.emplace(*ByteCorpus::fromBytes(text, 0.1, "letters"));
    sampler.emplace(*BatchSampler::create(*corpus, 2, 8, /*seed=*/1));
    validation = *validationBatches(*corpus, 2, 8, 2);
    csv.emplace(*MetricsCsvWriter::open(dir.file("metrics.csv"), -1));
    options.steps = steps;
    options.checkpointDir = dir.path();
    options.plotTitle = "fake";
    options.tokensPerStep = 16;
    options.checkpointTensors = {"w"};
    options.checkpointMetadata["train.seed"] = "1";
  }
  rt::StatusOr<LoopResult> go(FakeProgram &program, Recorder &recorder,
                              const volatile std::sig_atomic_t *interrupts =
                                  nullptr) {
    return runTrainLoop(program, *sampler, validation, *csv, options,
                        recorder, interrupts);
  }
};

TEST(TrainLoopTest, EvaluatesAndCheckpointsOnSchedule) {
  LoopRun run(5);
  run.options.evalEvery = 2;
  run.options.checkpointEvery = 3;
  run.options.logEvery = 2;
  FakeProgram program;
  Recorder recorder;
  auto result = run.go(program, recorder);
  ASSERT_TRUE(result.ok()) << result.status().toString();
  EXPECT_EQ(result->end, LoopResult::End::Finished);
  EXPECT_EQ(program.steps, (std::vector<int64_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ(recorder.logLines, (std::vector<int64_t>{2, 4, 5}));
  EXPECT_EQ(recorder.validations, (std::vector<int64_t>{2, 4, 5}));
  EXPECT_EQ(recorder.checkpoints, (std::vector<int64_t>{3, 5}));
  EXPECT_EQ(program.evaluations, 3 * 2); // two validation batches each
  EXPECT_EQ(result->stepsRun, 5);
  EXPECT_EQ(result->lastValidationStep, 5);
  EXPECT_EQ(run.csv->rows().size(), 5u);

  // The last checkpoint holds step 5's weight, the sampler's state after
  // five batches and the caller's metadata.
  auto checkpoint = rt::readLatestCheckpoint(run.dir.path());
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status().toString();
  EXPECT_EQ(checkpoint->path, result->lastCheckpoint);
  EXPECT_EQ(checkpoint->step, 5);
  EXPECT_EQ(checkpoint->contents.find("w")->data<float>()[0], 5.0f);
  EXPECT_EQ(checkpoint->contents.metadata.at("data.sampler"),
            run.sampler->state());
  EXPECT_EQ(checkpoint->contents.metadata.at("train.seed"), "1");
  EXPECT_TRUE(checkpoint->contents.metadata.count("train.elapsed_s"));
  EXPECT_TRUE(std::filesystem::exists(run.dir.file("loss.svg")));
}

TEST(TrainLoopTest, StopsAtStopAtWithACheckpointAndResumes) {
  LoopRun run(6);
  run.options.stopAt = 3;
  FakeProgram program;
  Recorder recorder;
  auto result = run.go(program, recorder);
  ASSERT_TRUE(result.ok()) << result.status().toString();
  EXPECT_EQ(result->end, LoopResult::End::Stopped);
  EXPECT_EQ(result->lastStep, 3);
  EXPECT_EQ(recorder.checkpoints, (std::vector<int64_t>{3}));
  EXPECT_TRUE(recorder.validations.empty()); // only at step 6

  // The rest of the run, from step 3.
  run.options.stopAt = 0;
  run.options.startStep = 3;
  Recorder rest;
  result = run.go(program, rest);
  ASSERT_TRUE(result.ok()) << result.status().toString();
  EXPECT_EQ(result->end, LoopResult::End::Finished);
  EXPECT_EQ(rest.steps, (std::vector<int64_t>{4, 5, 6}));
  EXPECT_EQ(rest.validations, (std::vector<int64_t>{6}));
  EXPECT_EQ(rest.checkpoints, (std::vector<int64_t>{6}));
}

TEST(TrainLoopTest, AnInterruptStopsAfterTheStepWithACheckpoint) {
  LoopRun run(10);
  FakeProgram program;
  Recorder recorder;
  volatile std::sig_atomic_t interrupts = 1;
  auto result = run.go(program, recorder, &interrupts);
  ASSERT_TRUE(result.ok()) << result.status().toString();
  EXPECT_EQ(result->end, LoopResult::End::Interrupted);
  EXPECT_EQ(program.steps, (std::vector<int64_t>{1}));
  EXPECT_EQ(recorder.checkpoints, (std::vector<int64_t>{1}));
}

TEST(TrainLoopTest, ANonFiniteLossStopsWithoutACheckpointOfItsStep) {
  LoopRun run(10);
  run.options.checkpointEvery = 1;
  FakeProgram program;
  program.nanAt = 3;
  Recorder recorder;
  auto result = run.go(program, recorder);
  ASSERT_TRUE(result.ok()) << result.status().toString();
  EXPECT_EQ(result->end, LoopResult::End::NonFiniteLoss);
  EXPECT_EQ(result->lastStep, 3);
  EXPECT_TRUE(std::isnan(result->loss));
  EXPECT_EQ(recorder.checkpoints, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(run.csv->rows().size(), 2u);
}

TEST(TrainLoopTest, CanonicalRealReadsBack) {
  for (double value : {0.1, 1e-3, 1.0 / 3.0, 12345.678, 0.0})
    EXPECT_EQ(std::strtod(canonicalReal(value).c_str(), nullptr), value);
  EXPECT_EQ(canonicalReal(0.1), "0.1");
}

} // namespace
