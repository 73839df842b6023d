//===- Train.cpp - the `uoe-run train` command ----------------------------===//
//
// The command line around the training application (train/): options and
// their checks, the model, the compiled step (driver/CompileTraining.h,
// from the compiled-model cache), the initial or resumed weights, and the
// progress bar; the step loop, evaluation and checkpoints are
// train/TrainLoop.h's, the corpus train/ByteCorpus.h's, the checkpoint
// format formats/Checkpoint.h's.
//
// Resuming is exact because everything a step depends on is restored: the
// weights and optimizer state (from the checkpoint's tensors), the step
// number (the schedule and Adam's bias correction take it as an input),
// and the data sampler's generator state; the options that shape the
// computation are recorded in the checkpoint and must not change. With the
// same thread count, N steps in one run and N/2 + N/2 with --resume give
// bit-identical weights.
//
//===----------------------------------------------------------------------===//

#include "CommandLine.h"
#include "tools/uoe-run/Train.h"

#include "driver/CompileTraining.h"
#include "driver/OrcLoader.h"
#include "frontend/ModelImporter.h"
#include "train/ByteCorpus.h"
#include "formats/Checkpoint.h"
#include "runtime/CpuBlas.h"
#include "runtime/CpuDevice.h"
#include "runtime/Program.h"
#include "formats/Executable.h"
#include "train/TrainLog.h"
#include "train/TrainLoop.h"
#include "tools/uoe-run/InitWeights.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <google/protobuf/text_format.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <sys/ioctl.h>
#include <unistd.h>
#include <vector>

using namespace mlir::uoe;
namespace rt = ::uoe::rt;

const char *const mlir::uoe::kTrainHelp = R"(
TRAINING OPTIONS (uoe-run train; docs/TRAINING.md)
  --data FILE         the text to train on, read as bytes (token ids 0..255);
                      its last --val-fraction is the validation part
  --steps N           train up to step N (also the cosine schedule's length)
  --checkpoint-dir DIR  checkpoints (DIR/step-NNNNNN.safetensors, DIR/latest),
                      metrics.csv and loss.svg
  --resume            continue from DIR/latest: weights, optimizer state, step
                      and data position; the options recorded there apply
                      (--model and --data may be left out)
  --overwrite         start a new run in a DIR that holds one (without it,
                      train refuses to overwrite its metrics and `latest`)
  --batch B           sequences per step (default 8)
  --seq T             tokens per sequence (default 64): windows of T+1 bytes
  --val-fraction F    the last F of the text is held out (default 0.1; 0: none)
  --optimizer adamw|sgd  (default adamw)
  --lr LR             peak learning rate (default 0.001)
  --weight-decay WD   AdamW: decoupled (lr * wd * p); SGD: L2 (default 0)
  --beta1 B --beta2 B --adam-eps E  AdamW moments (default 0.9, 0.999, 1e-8)
  --amsgrad           AdamW with the AMSGrad maximum of v
  --momentum M        SGD momentum (default 0.9; 0: plain SGD)
  --schedule constant|warmup|cosine  learning-rate schedule (default constant)
  --warmup-steps W    warmup, cosine: lr * step / W for the first W steps
  --min-lr LR         cosine: the rate reached at step N (default 0)
  --clip-norm C       clip the global gradient norm to C (default 1; 0: off)
  --load-balance W    weight of the Switch-style load-balancing loss (default 0)
  --seed S            initial weights (as init --seed S) and data order (default 0)
  --eval-every K      validation loss, perplexity and bits per byte every K
                      steps and at the end (default 100; 0: at the end only)
  --eval-batches K    validation batches per evaluation (default 8)
  --checkpoint-every K  checkpoint every K steps and at the end (default 500;
                      0: at the end only)
  --log-every K       a log line every K steps when stderr is not a terminal
                      (default 10); a terminal gets a progress bar
  --stop-at K         stop after step K with a checkpoint, as if interrupted
                      (for training in pieces; continue with --resume)
  --threads N         CPU threads (default: all cores; with --resume, the
                      checkpoint's count, for bit-identical results)
  --device cpu|cuda   where the steps run (default cpu); --target sm_N as
                      for infer
  --precision f32|bf16  the GEMMs of the step, forward and backward (default
                      f32; bf16 on the cpu: bf16 operands, f32 sums; weights,
                      gradients and optimizer state stay f32)
  --cache-dir DIR, --no-cache, --timing  as for infer
)";

namespace {

//===----------------------------------------------------------------------===//
// Options
//===----------------------------------------------------------------------===//

/// Options with a value; the rest are switches.
const std::set<std::string> kValueFlags = {
    "model",         "data",          "steps",          "checkpoint-dir",
    "batch",         "seq",           "val-fraction",   "optimizer",
    "lr",            "weight-decay",  "beta1",          "beta2",
    "adam-eps",      "momentum",      "schedule",       "warmup-steps",
    "min-lr",        "clip-norm",     "load-balance",   "seed",
    "eval-every",    "eval-batches",  "checkpoint-every", "log-every",
    "threads",       "cache-dir",     "stop-at",        "device",
    "target",        "precision"};
const std::set<std::string> kSwitchFlags = {"resume",   "overwrite",
                                            "amsgrad",  "no-cache",
                                            "help",     "timing"};
/// An option a resumed run must keep: recorded in every checkpoint as
/// `train.<name>` (its canonical text). `absent` is what a checkpoint
/// written before the option existed implies (null: every checkpoint of
/// uoe-run train records it).
struct RecordedFlag {
  const char *name;
  const char *absent = nullptr;
};
const RecordedFlag kRecordedFlags[] = {
    {"batch"},        {"seq"},      {"val-fraction"}, {"optimizer"},
    {"lr"},           {"weight-decay"}, {"beta1"},    {"beta2"},
    {"adam-eps"},     {"amsgrad"},  {"momentum"},     {"schedule"},
    {"warmup-steps"}, {"min-lr"},   {"clip-norm"},    {"load-balance"},
    {"seed"},         {"steps"},
    // Since --precision: older checkpoints are f32 runs.
    {"precision", "f32"}};

/// What `meta` (a checkpoint's metadata) records for `flag`, or nothing
/// when it has no record of it and must (not a checkpoint of uoe-run
/// train).
std::optional<std::string>
recordedValue(const std::map<std::string, std::string, std::less<>> &meta,
              const RecordedFlag &flag) {
  auto it = meta.find(std::string("train.") + flag.name);
  if (it != meta.end())
    return it->second;
  if (flag.absent)
    return std::string(flag.absent);
  return std::nullopt;
}

struct Args {
  std::map<std::string, std::string> values;
  /// The flags given on the command line (not filled from a checkpoint).
  std::set<std::string> given;
  bool has(const std::string &key) const { return values.count(key) != 0; }
  std::string get(const std::string &key, const std::string &def = "") const {
    auto it = values.find(key);
    return it == values.end() ? def : it->second;
  }
};

int fail(const llvm::Twine &message) {
  llvm::errs() << "uoe-run: error: " << message << "\n";
  return 1;
}
int fail(const rt::Status &status) { return fail(status.toString()); }

std::optional<std::string> parseArgs(int argc, char **argv, Args &args) {
  return ::uoe::tools::parseCommandOptions(argc, argv, "train", kValueFlags,
                                         kSwitchFlags, args.values,
                                         &args.given);
}

/// Reads numeric and enumerated options, with errors that name the flag.
class OptionReader {
public:
  explicit OptionReader(const Args &args) : args_(args) {}

  int64_t integer(const std::string &key, int64_t def, int64_t min,
                  const char *what) {
    if (!args_.has(key))
      return record(key, def);
    long long v;
    if (llvm::StringRef(args_.get(key)).getAsInteger(10, v) || v < min)
      error("--" + key + ": '" + args_.get(key) + "' is not " + what);
    return record(key, static_cast<int64_t>(v));
  }
  double real(const std::string &key, double def, double lo, double hi,
              bool loOpen, bool hiOpen, const char *what) {
    if (!args_.has(key))
      return record(key, def);
    double v;
    llvm::StringRef text = args_.get(key);
    if (text.getAsDouble(v) || !std::isfinite(v) || v < lo || v > hi ||
        (loOpen && v == lo) || (hiOpen && v == hi))
      error("--" + key + ": '" + args_.get(key) + "' is not " + what);
    return record(key, v);
  }
  std::string choice(const std::string &key, const std::string &def,
                     const std::vector<std::string> &choices) {
    std::string v = args_.get(key, def);
    bool known = false;
    std::string list;
    for (const std::string &c : choices) {
      known |= c == v;
      list += (list.empty() ? "" : " or ") + c;
    }
    if (!known)
      error("--" + key + ": '" + v + "' (" + list + ")");
    canonical_[key] = v;
    return v;
  }
  bool flag(const std::string &key) {
    bool on = args_.has(key);
    canonical_[key] = on ? "true" : "false";
    return on;
  }

  /// The first error, if any.
  const std::optional<std::string> &firstError() const { return error_; }
  /// Every option read, as canonical text.
  const std::map<std::string, std::string> &canonical() const {
    return canonical_;
  }

private:
  int64_t record(const std::string &key, int64_t v) {
    canonical_[key] = std::to_string(v);
    return v;
  }
  double record(const std::string &key, double v) {
    canonical_[key] = ::uoe::train::canonicalReal(v);
    return v;
  }
  void error(const std::string &message) {
    if (!error_)
      error_ = message;
  }
  const Args &args_;
  std::optional<std::string> error_;
  std::map<std::string, std::string> canonical_;
};

/// Everything the run needs, read from the options.
struct RunConfig {
  TrainOptions train;
  int64_t steps = 0, batch = 8, seq = 64;
  double valFraction = 0.1;
  uint64_t seed = 0;
  int64_t evalEvery = 100, evalBatches = 8, checkpointEvery = 500,
          logEvery = 10;
  /// Stop after this step (0: at `steps`), as if interrupted.
  int64_t stopAt = 0;
  int threads = 0;
  std::string device = "cpu";
  std::string target;  // --target; for --device cuda
  std::map<std::string, std::string> canonical;
};

std::optional<std::string> readConfig(const Args &args, RunConfig &config) {
  OptionReader r(args);
  config.steps = r.integer("steps", 0, 1, "a positive integer");
  config.batch = r.integer("batch", 8, 1, "a positive integer");
  config.seq = r.integer("seq", 64, 1, "a positive integer");
  config.valFraction = r.real("val-fraction", 0.1, 0, 1, false, true,
                              "a fraction in [0, 1)");
  config.seed = static_cast<uint64_t>(
      r.integer("seed", 0, 0, "a non-negative integer"));
  config.evalEvery = r.integer("eval-every", 100, 0, "a non-negative integer");
  config.evalBatches = r.integer("eval-batches", 8, 1, "a positive integer");
  config.checkpointEvery =
      r.integer("checkpoint-every", 500, 0, "a non-negative integer");
  config.logEvery = r.integer("log-every", 10, 1, "a positive integer");
  config.stopAt = r.integer("stop-at", 0, 1, "a positive integer");
  config.threads = static_cast<int>(
      r.integer("threads", 0, 1, "a positive integer"));
  config.device = r.choice("device", "cpu", {"cpu", "cuda"});
  config.target = args.get("target");
  config.train.precision = r.choice("precision", "f32", {"f32", "bf16"});
  if (config.train.precision == "bf16" && config.device == "cuda")
    return std::string("--precision bf16 is for --device cpu (GPU code "
                       "computes its GEMMs in f32)");

  TrainOptions &t = config.train;
  t.seed = config.seed;  // dropout masks (model.dropout)
  std::string optimizer = r.choice("optimizer", "adamw", {"adamw", "sgd"});
  t.optimizer = optimizer == "sgd" ? TrainOptions::Optimizer::Sgd
                                   : TrainOptions::Optimizer::AdamW;
  t.lr = r.real("lr", t.lr, 0, 1e6, true, false, "a positive number");
  t.weightDecay = r.real("weight-decay", t.weightDecay, 0, 1e6, false, false,
                         "a non-negative number");
  t.beta1 = r.real("beta1", t.beta1, 0, 1, false, true, "a number in [0, 1)");
  t.beta2 = r.real("beta2", t.beta2, 0, 1, false, true, "a number in [0, 1)");
  t.adamEps = r.real("adam-eps", t.adamEps, 0, 1, true, false,
                     "a positive number");
  t.amsgrad = r.flag("amsgrad");
  t.momentum = r.real("momentum", t.momentum, 0, 1, false, true,
                      "a number in [0, 1)");
  std::string schedule =
      r.choice("schedule", "constant", {"constant", "warmup", "cosine"});
  t.schedule = schedule == "cosine"   ? TrainOptions::Schedule::Cosine
               : schedule == "warmup" ? TrainOptions::Schedule::LinearWarmup
                                      : TrainOptions::Schedule::Constant;
  t.warmupSteps =
      r.integer("warmup-steps", 0, 0, "a non-negative integer");
  t.minLr = r.real("min-lr", 0, 0, 1e6, false, false, "a non-negative number");
  t.clipNorm = r.real("clip-norm", t.clipNorm, 0, 1e30, false, false,
                      "a non-negative number");
  t.loadBalance = r.real("load-balance", 0, 0, 1e6, false, false,
                         "a non-negative number");
  if (r.firstError())
    return r.firstError();
  // Only the cosine schedule depends on the run's length.
  t.totalSteps = t.schedule == TrainOptions::Schedule::Cosine ? config.steps : 0;
  config.canonical = r.canonical();

  // Options that do nothing with the chosen optimizer or schedule are
  // mistakes worth reporting (only those given on the command line).
  bool sgd = t.optimizer == TrainOptions::Optimizer::Sgd;
  for (const char *key : {"beta1", "beta2", "adam-eps", "amsgrad"})
    if (sgd && args.given.count(key))
      return std::string("--") + key + " applies to --optimizer adamw only";
  if (!sgd && args.given.count("momentum"))
    return std::string("--momentum applies to --optimizer sgd only");
  if (t.schedule != TrainOptions::Schedule::Cosine && args.given.count("min-lr"))
    return std::string("--min-lr applies to --schedule cosine only");
  if (t.schedule == TrainOptions::Schedule::Constant &&
      args.given.count("warmup-steps"))
    return std::string("--warmup-steps applies to --schedule warmup or "
                       "cosine only");
  if (t.schedule == TrainOptions::Schedule::LinearWarmup && t.warmupSteps < 1)
    return std::string("--schedule warmup needs --warmup-steps W (W >= 1)");
  if (t.schedule == TrainOptions::Schedule::Cosine &&
      t.warmupSteps >= config.steps)
    return "--warmup-steps " + std::to_string(t.warmupSteps) +
           " leaves no step of the cosine decay (--steps " +
           std::to_string(config.steps) + ")";
  return std::nullopt;
}

std::string modelText(const model::Model &model) {
  std::string text;
  google::protobuf::TextFormat::PrintToString(model, &text);
  return text;
}

/// Checks that `model` is a byte-level language model that can take
/// sequences of `seq` tokens.
std::optional<std::string> checkModel(const model::Model &model,
                                      const std::string &source, int64_t seq) {
  if (!model.has_embedding())
    return source + ": train needs a language model with an embedding "
                    "(token ids), but the description has none";
  if (!model.has_lm_head())
    return source + ": train needs an lm_head (byte-level language "
                    "modelling), but the description has " +
           (model.has_classifier() ? "a classifier" : "no head");
  if (model.embedding().vocab_size() < 256)
    return source + ": embedding.vocab_size is " +
           std::to_string(model.embedding().vocab_size()) +
           ", but byte-level training needs at least 256 (a token per byte "
           "value)";
  if (model.attention_mask() || model.token_type_ids())
    return source + ": train does not take an attention mask or token type "
                    "ids; set attention_mask and token_type_ids to false";
  if (model.embedding().position() == model::LEARNED &&
      seq > model.embedding().max_positions())
    return "--seq " + std::to_string(seq) +
           " exceeds embedding.max_positions (" +
           std::to_string(model.embedding().max_positions()) + ") of " +
           source;
  return std::nullopt;
}

//===----------------------------------------------------------------------===//
// Progress on the terminal or in the log
//===----------------------------------------------------------------------===//

class Progress {
public:
  Progress() : tty_(::isatty(STDERR_FILENO)) {}

  bool tty() const { return tty_; }

  /// Redraws the bar (terminal, at most 10 times a second unless `force`)
  /// or prints a log line (otherwise, when `logLine`).
  void update(const ::uoe::train::ProgressInfo &info, bool logLine, bool force) {
    if (!tty_) {
      if (logLine)
        llvm::errs() << ::uoe::train::formatProgressLine(info) << "\n";
      return;
    }
    auto now = std::chrono::steady_clock::now();
    if (!force && drawn_ && now - lastDraw_ < std::chrono::milliseconds(100))
      return;
    lastDraw_ = now;
    drawn_ = true;
    // The terminal's width now (it may have been resized): the bar never
    // wraps, which would scroll instead of redrawing.
    struct winsize size {};
    int columns = ::ioctl(STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col
                      ? size.ws_col
                      : 80;
    llvm::errs() << "\r" << ::uoe::train::fitProgressBar(info, columns) << "\x1b[K";
    llvm::errs().flush();
  }
  /// Prints a line of its own below the bar, whose current state stays on
  /// the screen as a line of the log.
  void println(const llvm::Twine &line) {
    finish();
    llvm::errs() << line << "\n";
  }
  /// Leaves the bar's last state on its own line.
  void finish() {
    if (tty_ && drawn_)
      llvm::errs() << "\n";
    drawn_ = false;
  }

private:
  bool tty_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point lastDraw_;
};

/// The training loop's reports on the terminal or in the log.
class ProgressObserver : public ::uoe::train::LoopObserver {
public:
  explicit ProgressObserver(Progress &progress) : progress_(progress) {}

  void onStep(const ::uoe::train::MetricsRow &row,
              const ::uoe::train::ProgressInfo &info, bool logLine,
              bool milestone) override {
    progress_.update(info, logLine, milestone);
  }
  void onValidation(int64_t step, double loss) override {
    progress_.println(llvm::formatv(
        "step {0}: validation loss {1:f4}, perplexity {2:f2}, {3:f4} bits "
        "per byte",
        step, loss, ::uoe::train::perplexity(loss),
        ::uoe::train::bitsPerByte(loss)));
  }
  void onCheckpoint(int64_t step, const std::string &path) override {
    progress_.println("step " + std::to_string(step) + ": checkpoint " + path);
  }

private:
  Progress &progress_;
};

//===----------------------------------------------------------------------===//
// The run
//===----------------------------------------------------------------------===//

/// The index of the result named `name` of `entry` (`fallback` if none).
int resultIndex(const rt::proto::EntryPoint &entry, const std::string &name,
                int fallback) {
  for (int i = 0; i < entry.results_size(); ++i)
    if (entry.results(i).name() == name)
      return i;
  return fallback;
}

class Trainer {
public:
  int run(int argc, char **argv);

private:
  int prepare();
  llvm::Expected<rt::proto::Executable> obtainExecutable();
  rt::Status bindInitialState();
  ::uoe::train::LoopOptions loopOptions() const;

  Args args_;
  RunConfig config_;
  std::string dir_;
  model::Model model_;
  std::string modelSource_;
  std::optional<::uoe::train::ByteCorpus> corpus_;
  std::optional<::uoe::train::BatchSampler> sampler_;
  std::vector<::uoe::train::TokenBatch> validation_;
  std::optional<rt::Checkpoint> resumed_;
  std::unique_ptr<cpu::OrcLoader> loader_;
  std::unique_ptr<rt::Program> program_;
  /// What the steps are compiled for (--device, --target).
  CompileTarget target_;
  std::vector<std::string> paramNames_, stateNames_;
  Progress progress_;
  int64_t startStep_ = 0;
  double elapsedBefore_ = 0; // training time of earlier runs (resume)
};

int Trainer::prepare() {
  if (!args_.has("checkpoint-dir"))
    return fail("train needs --checkpoint-dir DIR (checkpoints, metrics.csv "
                "and loss.svg are written there)");
  dir_ = args_.get("checkpoint-dir");
  if (args_.has("resume") && args_.has("overwrite"))
    return fail("--resume and --overwrite contradict each other: continue "
                "the run in " + dir_ + ", or start a new one over it");
  // A new run into a folder that holds one would overwrite its metrics and
  // plot and re-point `latest`: only when asked to.
  if (!args_.has("resume") && !args_.has("overwrite")) {
    std::error_code error;
    for (const char *file : {rt::kLatestCheckpointFile, "metrics.csv"})
      if (std::filesystem::exists(std::filesystem::path(dir_) / file, error))
        return fail(dir_ + " holds a training run (" + file +
                    "): continue it with --resume, or start a new run "
                    "over it with --overwrite");
  }

  // With --resume, the checkpoint's recorded options fill in the flags
  // that were not given, and those given must agree with them.
  std::string resumeModelText, resumeDataPath, resumeFingerprint;
  if (args_.has("resume")) {
    auto checkpoint = rt::readLatestCheckpoint(dir_);
    if (!checkpoint.ok())
      return fail("--resume: " + checkpoint.status().message());
    resumed_ = std::move(*checkpoint);
    const auto &meta = resumed_->contents.metadata;
    for (const RecordedFlag &flag : kRecordedFlags) {
      std::optional<std::string> recorded = recordedValue(meta, flag);
      const char *key = flag.name;
      if (!recorded)
        return fail(resumed_->path + ": not a checkpoint of uoe-run train "
                    "(no 'train." + key + "' in its metadata)");
      if (args_.given.count(key))
        continue;
      if (std::string(key) == "amsgrad") {
        if (*recorded == "true")
          args_.values[key] = "";
      } else {
        args_.values[key] = *recorded;
      }
    }
    auto get = [&](const char *key) {
      auto it = meta.find(key);
      return it == meta.end() ? std::string() : it->second;
    };
    resumeModelText = get("uoe.model");
    resumeDataPath = get("data.path");
    resumeFingerprint = get("data.fingerprint");
    if (std::optional<std::string> error = readConfig(args_, config_))
      return fail(*error);
    // Compare what was given with what was recorded.
    for (const RecordedFlag &flag : kRecordedFlags) {
      const char *key = flag.name;
      std::string recorded = *recordedValue(meta, flag);
      std::string now = config_.canonical[key];
      if (now == recorded)
        continue;
      bool cosine =
          config_.train.schedule == TrainOptions::Schedule::Cosine;
      if (std::string(key) == "steps" && !cosine)
        continue; // a run may be extended unless the schedule depends on it
      return fail("--" + std::string(key) + " " + now + " differs from " +
                  recorded + " in " + resumed_->path +
                  " (a resumed run keeps the options it started with" +
                  (std::string(key) == "steps"
                       ? "; the cosine schedule decays over --steps)"
                       : ")"));
    }
    auto elapsed = meta.find("train.elapsed_s");
    if (elapsed != meta.end())
      elapsedBefore_ = std::strtod(elapsed->second.c_str(), nullptr);
    startStep_ = resumed_->step;
  } else if (std::optional<std::string> error = readConfig(args_, config_)) {
    return fail(*error);
  }
  if (!args_.has("steps"))
    return fail("train needs --steps N (the step to train up to)");

  // The model.
  if (args_.has("model")) {
    modelSource_ = args_.get("model");
    auto parsed = parseModelFile(modelSource_);
    if (!parsed)
      return fail(llvm::toString(parsed.takeError()));
    model_ = std::move(*parsed);
  } else if (resumed_ && !resumeModelText.empty()) {
    modelSource_ = resumed_->path + " (uoe.model)";
    auto parsed = parseModelText(resumeModelText, modelSource_);
    if (!parsed)
      return fail(llvm::toString(parsed.takeError()));
    model_ = std::move(*parsed);
  } else {
    return fail("train needs --model M.pbtxt");
  }
  if (llvm::Error err = resolveModel(model_))
    return fail(modelSource_ + ": " + llvm::toString(std::move(err)));
  if (std::optional<std::string> error =
          checkModel(model_, modelSource_, config_.seq))
    return fail(*error);
  if (resumed_ && !resumeModelText.empty() &&
      modelText(model_) != resumeModelText)
    return fail(modelSource_ + " is not the model " + resumed_->path +
                " was trained with (its description is recorded in the "
                "checkpoint's 'uoe.model'; leave out --model to use it)");

  // The data.
  std::string dataPath = args_.get("data", resumed_ ? resumeDataPath : "");
  if (dataPath.empty())
    return fail("train needs --data FILE (a text file, read as bytes)");
  auto corpus = ::uoe::train::ByteCorpus::load(dataPath, config_.valFraction);
  if (!corpus.ok())
    return fail("--data: " + corpus.status().message());
  corpus_ = std::move(*corpus);
  if (resumed_ && corpus_->fingerprint() != resumeFingerprint)
    return fail(dataPath + " is not the text " + resumed_->path +
                " was trained on (fingerprint " + corpus_->fingerprint() +
                ", recorded " + resumeFingerprint + ")");
  auto sampler = ::uoe::train::BatchSampler::create(*corpus_, config_.batch,
                                          config_.seq, config_.seed);
  if (!sampler.ok())
    return fail("--data: " + sampler.status().message());
  sampler_ = std::move(*sampler);
  if (resumed_) {
    auto state = resumed_->contents.metadata.find("data.sampler");
    if (state == resumed_->contents.metadata.end())
      return fail(resumed_->path + ": no 'data.sampler' in its metadata");
    rt::Status restored = sampler_->restore(state->second);
    if (!restored.ok())
      return fail(resumed_->path + ": " + restored.message());
  }
  if (config_.valFraction > 0) {
    auto batches = ::uoe::train::validationBatches(*corpus_, config_.batch, config_.seq,
                                         config_.evalBatches);
    if (!batches.ok())
      return fail("--data: " + batches.status().message());
    validation_ = std::move(*batches);
  }
  // Always set the thread count, also to the default (one OpenMP pool for
  // the GEMMs and the loops; see CpuBlas.h). The bits do not depend on it
  // (test/e2e/train-threads.test); a resumed run still keeps the recorded
  // count unless --threads says otherwise, and warns when it changes, since
  // that is tested, not proven for every op.
  int threads = config_.threads;
  std::string recordedThreads;
  if (resumed_) {
    auto it = resumed_->contents.metadata.find("train.threads");
    if (it != resumed_->contents.metadata.end())
      recordedThreads = it->second;
    if (!args_.given.count("threads") && !recordedThreads.empty())
      threads = std::atoi(recordedThreads.c_str());
  }
  rt::setCpuThreads(threads);
  if (!recordedThreads.empty() &&
      recordedThreads != std::to_string(rt::cpuThreads()))
    llvm::errs() << "uoe-run: warning: " << resumed_->path
                 << " was trained with " << recordedThreads
                 << " threads, this run uses " << rt::cpuThreads()
                 << ": results may differ from an uninterrupted run in the "
                    "last bits\n";
  return 0;
}

llvm::Expected<rt::proto::Executable> Trainer::obtainExecutable() {
  std::string cacheDir =
      args_.has("no-cache") ? "" : args_.get("cache-dir", mlir::uoe::defaultCacheDir());
  std::string what =
      llvm::formatv("{0} for training on [{1}, {2}]{3}",
                    model_.name().empty() ? "model" : model_.name(),
                    config_.batch, config_.seq,
                    (target_.isCuda() ? " on cuda " + target_.cudaChip
                                      : std::string()) +
                        (config_.train.precision != "f32"
                             ? " in " + config_.train.precision
                             : std::string()))
          .str();
  return mlir::uoe::obtainExecutable(
      trainingCacheKey(model_, config_.train, config_.batch, config_.seq,
                       target_),
      cacheDir,
      [&] {
        return compileTraining(model_, config_.train, config_.batch,
                               config_.seq, target_, args_.has("timing"));
      },
      {&llvm::errs(), "uoe-run", what});
}

rt::Status Trainer::bindInitialState() {
  // The weights: fresh (as `init --seed`) or the checkpoint's.
  rt::NamedTensors weights;
  if (resumed_) {
    for (auto &[name, tensor] : resumed_->contents.tensors)
      weights.emplace(name, std::move(tensor));
    resumed_->contents.tensors.clear();
  } else {
    UOE_ASSIGN_OR_RETURN(auto fresh, initialWeights(model_, config_.seed));
    for (auto &[name, tensor] : fresh)
      weights.emplace(name, std::move(tensor));
  }
  for (const ParamSpec &p : modelParameters(model_))
    paramNames_.push_back(p.name);
  for (const std::string &slot : optimizerSlots(config_.train))
    for (const ParamSpec &p : modelParameters(model_)) {
      std::string name = "opt." + slot + "." + p.name;
      stateNames_.push_back(name);
      if (!resumed_) {
        UOE_ASSIGN_OR_RETURN(rt::HostTensor zeros,
                             rt::HostTensor::create(rt::DType::F32, p.shape));
        weights.emplace(name, std::move(zeros));
      }
    }
  // eval_loss gets its own copy of the weights; train_step's updates
  // replace both.
  rt::NamedTensors evalWeights;
  for (const std::string &name : paramNames_) {
    auto it = weights.find(name);
    if (it == weights.end())
      continue; // bindParameters names the missing one
    UOE_ASSIGN_OR_RETURN(rt::HostTensor copy, it->second.clone());
    evalWeights.emplace(name, std::move(copy));
  }
  std::string source = resumed_ ? resumed_->path : "the initial weights";
  UOE_RETURN_IF_ERROR(program_->bindParameters("train_step", std::move(weights))
                          .withContext(source));
  return program_->bindParameters("eval_loss", std::move(evalWeights))
      .withContext(source);
}

::uoe::train::LoopOptions Trainer::loopOptions() const {
  ::uoe::train::LoopOptions o;
  o.startStep = startStep_;
  o.steps = config_.steps;
  o.stopAt = config_.stopAt;
  o.evalEvery = config_.evalEvery;
  o.checkpointEvery = config_.checkpointEvery;
  o.logEvery = config_.logEvery;
  o.checkpointDir = dir_;
  std::string data = corpus_->source();
  o.plotTitle = (model_.name().empty() ? "model" : model_.name()) + " on " +
                data.substr(data.find_last_of('/') + 1);
  o.tokensPerStep = config_.batch * config_.seq;
  o.elapsedBefore = elapsedBefore_;
  o.checkpointTensors = paramNames_;
  o.checkpointTensors.insert(o.checkpointTensors.end(), stateNames_.begin(),
                             stateNames_.end());
  auto &meta = o.checkpointMetadata;
  for (const RecordedFlag &flag : kRecordedFlags) {
    auto it = config_.canonical.find(flag.name);
    meta[std::string("train.") + flag.name] =
        it == config_.canonical.end() ? "" : it->second;
  }
  meta["uoe.model"] = modelText(model_);
  meta["data.path"] = corpus_->source();
  meta["data.fingerprint"] = corpus_->fingerprint();
  meta["data.size"] = std::to_string(corpus_->size());
  meta["train.threads"] = std::to_string(rt::cpuThreads());
  return o;
}

/// Ctrl-C while training: the first SIGINT asks the loop to stop after the
/// step it is in, with a checkpoint; the second ends the process at once.
volatile std::sig_atomic_t interrupts = 0;

extern "C" void onInterrupt(int) {
  if (interrupts++ > 0)
    std::_Exit(130);
  static const char note[] =
      "\nuoe-run: interrupted: stopping after this step with a checkpoint "
      "(Ctrl-C again to quit at once)\n";
  ssize_t ignored = ::write(STDERR_FILENO, note, sizeof note - 1);
  (void)ignored;
}

/// Installs onInterrupt for SIGINT while it lives.
class InterruptScope {
public:
  InterruptScope() {
    struct sigaction action {};
    action.sa_handler = onInterrupt;
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGINT, &action, &previous_);
  }
  ~InterruptScope() { ::sigaction(SIGINT, &previous_, nullptr); }

private:
  struct sigaction previous_ {};
};

int Trainer::run(int argc, char **argv) {
  if (std::optional<std::string> error = parseArgs(argc, argv, args_))
    return fail(*error);
  if (args_.has("help")) {
    llvm::outs() << "USAGE\n  uoe-run train --model M.pbtxt --data TEXT "
                    "--steps N --checkpoint-dir DIR [--resume] [options]\n"
                 << kTrainHelp;
    return 0;
  }
  if (int status = prepare())
    return status;
  if (startStep_ >= config_.steps) {
    llvm::outs() << resumed_->path << " is at step " << startStep_
                 << ", --steps is " << config_.steps
                 << ": nothing to train\n";
    return 0;
  }

  if (config_.stopAt > 0 && config_.stopAt <= startStep_)
    return fail("--stop-at " + std::to_string(config_.stopAt) +
                " is not after step " + std::to_string(startStep_) + " of " +
                resumed_->path);

  if (config_.device == "cuda") {
    auto chip = ::uoe::tools::cudaChipFor(config_.target, /*compileOnly=*/false);
    if (!chip)
      return fail(llvm::toString(chip.takeError()));
    target_.cudaChip = *chip;
  } else if (!config_.target.empty()) {
    return fail("--target is for --device cuda");
  }
  auto exe = obtainExecutable();
  if (!exe)
    return fail(llvm::toString(exe.takeError()));
  for (const char *entry : {"train_step", "eval_loss"})
    if (auto found = rt::findEntryPoint(*exe, entry); !found.ok())
      return fail("the compiled training model: " + found.status().message());
  const rt::proto::EntryPoint &step = **rt::findEntryPoint(*exe, "train_step");
  if (step.inputs_size() != 3)
    return fail(llvm::formatv("the compiled train_step takes {0} inputs; "
                              "uoe-run gives it tokens, targets and step",
                              step.inputs_size())
                    .str());
  int lossAt = resultIndex(step, "loss", 0),
      normAt = resultIndex(step, "grad_norm", 1),
      lrAt = resultIndex(step, "lr", 2);
  loader_ = std::make_unique<cpu::OrcLoader>();
  auto program = rt::loadProgram(*exe, *loader_, config_.device);
  if (!program.ok())
    return fail(program.status());
  program_ = std::move(*program);
  if (rt::Status s = bindInitialState(); !s.ok())
    return fail(s);

  if (std::error_code ec = llvm::sys::fs::create_directories(dir_))
    return fail("--checkpoint-dir: cannot create '" + dir_ + "': " +
                ec.message());
  auto csv = ::uoe::train::MetricsCsvWriter::open(dir_ + "/metrics.csv",
                                                 resumed_ ? startStep_ : -1);
  if (!csv.ok())
    return fail(csv.status());

  ::uoe::train::LoopOptions options = loopOptions();
  int64_t endStep = config_.stopAt > 0 && config_.stopAt < config_.steps
                        ? config_.stopAt
                        : config_.steps;
  options.lossResult = lossAt;
  options.gradNormResult = normAt;
  options.lrResult = lrAt;
  llvm::errs() << llvm::formatv(
      "uoe-run: training {0} on {1} ({2} bytes: {3} train, {4} validation), "
      "steps {5}..{6} of batch {7} x {8} tokens, {9} threads{10}\n",
      model_.name().empty() ? "model" : model_.name(), corpus_->source(),
      corpus_->size(), corpus_->train().size(), corpus_->validation().size(),
      startStep_ + 1, config_.steps, config_.batch, config_.seq,
      rt::cpuThreads(),
      resumed_ ? ", resumed from " + resumed_->path : std::string());

  ProgressObserver observer(progress_);
  InterruptScope interruptScope;
  interrupts = 0;
  auto ran = ::uoe::train::runTrainLoop(*program_, *sampler_, validation_,
                                        *csv, options, observer, &interrupts);
  progress_.finish();
  if (!ran.ok())
    return fail(ran.status());
  using End = ::uoe::train::LoopResult::End;
  const ::uoe::train::LoopResult &result = *ran;
  if (result.end == End::NonFiniteLoss) {
    llvm::errs() << llvm::formatv(
        "uoe-run: error: step {0}: the loss is {1} (try a lower --lr or "
        "--clip-norm); stopped without a checkpoint of this step{2}\n",
        result.lastStep, result.loss,
        result.lastCheckpoint.empty()
            ? std::string()
            : "; the last one is " + result.lastCheckpoint);
    return 2;
  }
  if (result.end == End::Interrupted)
    endStep = result.lastStep;
  int64_t tokensPerStep = options.tokensPerStep;
  llvm::outs() << llvm::formatv(
      "trained {0} steps ({1} to {2}) in {3}: {4} tokens/s (training steps "
      "only)",
      result.stepsRun, startStep_ + 1, endStep,
      ::uoe::train::formatDuration(result.wallSeconds),
      ::uoe::train::formatCount(tokensPerStep * result.stepsRun /
                                result.trainSeconds));
  if (result.lastValidation)
    llvm::outs() << llvm::formatv(
        "; validation loss (step {3}) {0:f4}, perplexity {1:f2}, {2:f4} bits "
        "per byte",
        *result.lastValidation,
        ::uoe::train::perplexity(*result.lastValidation),
        ::uoe::train::bitsPerByte(*result.lastValidation),
        result.lastValidationStep);
  llvm::outs() << "\nwrote " << result.lastCheckpoint << ", " << dir_
               << "/metrics.csv and " << dir_ << "/loss.svg\n";
  if (result.end == End::Interrupted) {
    llvm::outs() << "interrupted at step " << endStep << " of "
                 << config_.steps << " (Ctrl-C): checkpoint "
                 << result.lastCheckpoint << "; continue with --resume\n";
    llvm::outs().flush();
    return 130;
  }
  if (result.end == End::Stopped)
    llvm::outs() << "stopped at step " << endStep << " of " << config_.steps
                 << " (--stop-at); continue with --resume\n";
  return 0;
}

} // namespace

int mlir::uoe::runTrain(int argc, char **argv) {
  Trainer trainer;
  return trainer.run(argc, argv);
}
