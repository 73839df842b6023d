//===- uoe-run.cpp - compile and run uoe models ---------------------------===//
//
//   uoe-run infer --model M.pbtxt --weights W.safetensors --input x.npy
//                 --output y.npy [--device cpu] [--emit=mlir|executable -o F]
//                 [--executable M.uoex] [--cache-dir DIR | --no-cache]
//                 [--threads N]
//   uoe-run init  --model M.pbtxt --output W.safetensors [--seed S]
//   uoe-run train --model M.pbtxt --data TEXT --steps N --checkpoint-dir DIR
//                 [--resume] [training options]   (tools/uoe-run/Train.h)
//   uoe-run generate --model M.pbtxt --weights W --prompt TEXT --tokens N
//                 [--temperature T] [--top-k K] [--seed S]
//                 [--causal-safe | --reference-routing]
//                 (tools/uoe-run/Generate.h)
//   uoe-run import --hf DIR -o OUT [--decompose E ...]
//   uoe-run devices [--threads N]
//
// `infer` checks the input against what the model takes (token ids int64
// [B, T], every id inside the vocabulary, for a model with an embedding;
// hidden states f32 [B, T, d] otherwise), compiles the model for the
// input's shape (or loads a compiled Executable from the cache, keyed by
// description + shape + target + compiler, and says whether the cache hit),
// binds the weights, runs `forward` and writes the result. Every error names
// the file, tensor or field at fault and exits with status 1; no output file is
// left half written (all writes are atomic). `import` turns a Hugging Face
// checkpoint into a description and weights (frontend/hf/HfImport.h).
//
//===----------------------------------------------------------------------===//

#include "CommandLine.h"
#include "driver/CompileModel.h"
#include "driver/OrcLoader.h"
#include "frontend/ModelImporter.h"
#include "frontend/hf/HfImport.h"
#include "formats/Checkpoint.h"
#include "runtime/CpuBlas.h"
#include "runtime/CpuGemm.h"
#include "runtime/CpuDevice.h"
#include "runtime/Program.h"
#include "runtime/CudaDriver.h"
#include "formats/Executable.h"
#include "support/FileUtil.h"
#include "formats/Npy.h"
#include "formats/Safetensors.h"
#include "tools/uoe-run/Generate.h"
#include "tools/uoe-run/InitWeights.h"
#include "tools/uoe-run/Train.h"
#include "tools/common/Options.h"

#include "llvm/Config/llvm-config.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"

#include <google/protobuf/text_format.h>

#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <map>
#include <new>
#include <optional>
#include <random>
#include <set>
#include <string>

using namespace mlir::uoe;
namespace rt = ::uoe::rt;

static const char *kHelp = R"(uoe-run: compile and run Union-of-Experts models

USAGE
  uoe-run infer --model M.pbtxt --weights W.safetensors --input X.npy --output Y.npy [options]
  uoe-run infer --executable M.uoex --weights W.safetensors --input X.npy --output Y.npy
  uoe-run infer --model M.pbtxt --input X.npy --emit=mlir|executable [-o FILE]
  uoe-run infer --device cuda [--target sm_N] ... [--emit=mlir|ptx|executable]
  uoe-run init  --model M.pbtxt --output W.safetensors [--seed S]
  uoe-run train --model M.pbtxt --data TEXT --steps N --checkpoint-dir DIR [--resume] [options]
  uoe-run generate --model M.pbtxt --weights W --prompt TEXT --tokens N [options]
  uoe-run import --hf DIR -o OUT [--decompose E] [selection options]
  uoe-run devices [--threads N]
  uoe-run --help | -h | --version

COMMANDS
  infer   Run the model's forward pass on the input and write its result:
          logits f32 [B, T, V] (lm_head), [B, C] (classifier), or hidden
          states f32 [B, T, d] (no head). X.npy holds token ids int64 [B, T]
          (int32 is converted; every id must be in [0, V)) when the
          description has an embedding, hidden states f32 [B, T, d] when it
          has none. The model is compiled for X's shape, or loaded from the
          compiled-model cache.
  init    Write freshly initialised weights for the description: matrices
          and embedding tables ~ N(0, 0.02), biases 0, norm weights 1
          (names: docs/MODEL_FORMAT.md).
  train   Train a byte-level language model on a text file (tokens are
          bytes; the vocabulary must be >= 256) with AdamW or SGD, writing
          checkpoints (weights + optimizer state, loadable by infer
          --weights), metrics.csv and loss.svg to DIR; --resume continues
          from DIR/latest bit for bit. Options: TRAINING OPTIONS below and
          docs/TRAINING.md.
  generate  Continue a prompt with a byte-level language model: greedy or
          sampled (seeded) bytes, each from the logits at the last position
          of `forward` compiled for one sequence of Tmax tokens. Exact with
          causal attention and causal-safe routing (--causal-safe); other
          models run with a warning. Options: GENERATION OPTIONS below.
  import  Read a Hugging Face checkpoint DIR (config.json + model.safetensors)
          of the BERT family (output: the encoder's last_hidden_state) or the
          GPT-2 family (output: LM logits) and write OUT/model.pbtxt and
          OUT/weights.safetensors (f32), for `infer --model OUT/model.pbtxt
          --weights OUT/weights.safetensors`. With --decompose E, the exact
          equitant UoE decomposition: every MLP into E UoME experts, every
          attention layer into SMHA head-group experts (docs/EMBEDDING.md,
          "Importing Hugging Face checkpoints").
  devices List the devices: the CPU with its thread count, and each CUDA
          device (name, compute capability, memory) or why none was found.

OPTIONS
  --model FILE        model description, Protobuf text format (frontend/model.proto)
  --weights FILE      safetensors weights (f32, f16 or bf16; converted to f32);
                      a training checkpoint's opt.* tensors are ignored
  --input FILE        .npy input
  --attention-mask FILE  .npy int64 [B, T], 1 = token, 0 = padding, for models
                      with `attention_mask: true` (docs/MODEL_FORMAT.md)
  --token-type-ids FILE  .npy int64 [B, T], for models with `token_type_ids: true`
  --output FILE       .npy result (infer) or .safetensors weights (init)
  --device cpu|cuda   where to run (default cpu): cuda compiles for and runs on
                      the first NVIDIA GPU (docs/CUDA.md); without one it says
                      "no CUDA device found" (compiling with --emit still works)
  --target sm_N       with --device cuda: the SM to compile for (default: the
                      GPU's own, or sm_90 when there is none and --emit is given)
  --threads N         CPU threads for GEMMs and parallel loops (default: all cores)
  --emit=KIND         stop after compiling and print or write the product:
                      mlir (the IR after the pipeline), ptx (the GPU kernels;
                      --device cuda) or executable (a .uoex file, with -o);
                      needs --input for the shape
  -o FILE             where --emit writes (default: standard output for mlir)
  --gradients         also compile `forward_grad` (the forward and backward pass:
                      inputs, then d_<result>, then the weights; it returns the
                      result and the gradients), e.g. for --emit=executable
  --executable FILE   run a saved Executable instead of compiling
  --cache-dir DIR     compiled-model cache (default: $XDG_CACHE_HOME/uoe or ~/.cache/uoe)
  --no-cache          neither read nor write the cache
  --timing            print the time of every compile phase (each pass, LLVM) on
                      stderr when the model is compiled (with --no-cache: always)
  --precision f32|bf16  infer on the cpu: the GEMMs' products (default f32); bf16
                      rounds every GEMM operand to bf16 and sums in f32
                      (AVX512-BF16 where the CPU has it); all else stays f32
  --seed S            init: random seed (default 0)

IMPORT OPTIONS
  --hf DIR            the checkpoint directory (config.json, model.safetensors)
  -o OUT, --output OUT  the directory to write model.pbtxt and weights.safetensors to
  --inputs LIST       the model's inputs: ids[,attention_mask][,token_type_ids]
                      (default: ids,attention_mask for BERT, ids for GPT-2)
  --name NAME         the description's name (default: bert or gpt2)
  --decompose E       UoME experts per MLP and SMHA experts per attention layer
                      (default: dense, no decomposition)
  --attention-experts N  SMHA experts (divides the heads; default E, 0: dense attention)
  --top-k K           UoME experts per token (default E: the exact model)
  --attention-top-k K SMHA head groups per token (default: the attention experts)
  --capacity C        UoME capacity in (0, 1] (default top-k / E; 1.0, the exact
                      model, without --top-k)
  --combine union|gated  how expert outputs are summed (default union: exact)
)";

namespace {

/// Parsed `--key value` / `--key=value` options.
using Options = ::uoe::tools::ParsedOptions;

int fail(const llvm::Twine &message) {
  llvm::errs() << "uoe-run: error: " << message << "\n";
  return 1;
}

int fail(const rt::Status &status) { return fail(status.toString()); }

bool parseArgs(int argc, char **argv, Options &opts, std::string &error) {
  ::uoe::tools::OptionSpec spec;
  spec.tool = "uoe-run";
  spec.takesCommand = true;
  spec.switches = {"no-cache", "help", "gradients", "version", "timing"};
  spec.values = {"model",     "weights",         "input",
                 "attention-mask", "token-type-ids", "output",
                 "device",    "threads",         "emit",
                 "o",         "executable",      "cache-dir",
                 "seed",      "hf",              "inputs",
                 "name",      "decompose",       "attention-experts",
                 "top-k",     "attention-top-k", "capacity",
                 "combine",   "target",          "precision"};
  if (std::optional<std::string> problem =
          ::uoe::tools::parseOptions(argc, argv, 1, spec, opts)) {
    error = *problem;
    return false;
  }
  return true;
}

llvm::Expected<model::Model> loadModel(const Options &opts) {
  if (!opts.has("model"))
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "--model is required");
  auto model = parseModelFile(opts.get("model"));
  if (!model)
    return model.takeError();
  if (auto err = resolveModel(*model))
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   opts.get("model") + ": " +
                                       llvm::toString(std::move(err)));
  return model;
}

/// The error for a --threads value that is not a count of 1 to 4096.
std::optional<std::string> checkThreads(const Options &opts) {
  if (!opts.has("threads"))
    return std::nullopt;
  llvm::StringRef text = opts.get("threads");
  int threads = 0;
  if (text.getAsInteger(10, threads) || threads < 1 || threads > 4096)
    return "--threads: '" + text.str() + "' is not a thread count (1 to 4096)";
  return std::nullopt;
}

int runInit(const Options &opts) {
  auto model = loadModel(opts);
  if (!model)
    return fail(llvm::toString(model.takeError()));
  if (!opts.has("output"))
    return fail("init needs --output W.safetensors");
  auto weights = initialWeights(*model, std::stoull(opts.get("seed", "0")));
  if (!weights.ok())
    return fail(weights.status());
  std::vector<std::pair<std::string, const rt::HostTensor *>> named;
  for (const auto &[name, tensor] : *weights)
    named.push_back({name, &tensor});
  rt::Status s = rt::writeSafetensors(opts.get("output"), named,
                                      {{"format", "uoe"}});
  if (!s.ok())
    return fail(s);
  llvm::outs() << "wrote " << named.size() << " tensors to "
               << opts.get("output") << "\n";
  return 0;
}

/// What @forward takes: token ids (a model with an
/// embedding) or hidden states of width `width`.
struct InputKind {
  bool tokens = false;
  int64_t width = 0;
  /// A second input `attention_mask` int64 [B, T] (1 = token, 0 = padding).
  bool attentionMask = false;
  /// An input `token_type_ids` int64 [B, T] (after the mask).
  bool tokenTypeIds = false;
};

InputKind inputKindOf(const model::Model &model) {
  InputKind kind;
  kind.tokens = model.has_embedding();
  kind.width = model.d_model();
  kind.attentionMask = model.attention_mask();
  kind.tokenTypeIds = model.token_type_ids();
  return kind;
}

/// The same, read from a compiled Executable's `forward` entry point.
llvm::Expected<InputKind> inputKindOf(const rt::proto::Executable &exe) {
  auto entry = rt::findEntryPoint(exe, "forward");
  if (!entry.ok())
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   entry.status().toString());
  const rt::proto::EntryPoint &forward = **entry;
  // The input, then optionally `attention_mask`, then `token_type_ids`.
  int n = forward.inputs_size(), next = 1;
  bool masked = next < n && forward.inputs(next).name() == "attention_mask";
  next += masked;
  bool typed = next < n && forward.inputs(next).name() == "token_type_ids";
  next += typed;
  if (n < 1 || next != n)
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        llvm::formatv("entry point 'forward' takes {0} inputs; uoe-run "
                      "gives it the input, an optional attention mask and "
                      "optional token type ids",
                      forward.inputs_size())
            .str());
  const rt::proto::TensorSpec &input = forward.inputs(0);
  InputKind kind;
  kind.attentionMask = masked;
  kind.tokenTypeIds = typed;
  kind.tokens = input.dtype() == "i64";
  if (!kind.tokens && input.shape_size() == 3)
    kind.width = input.shape(2);
  return kind;
}

/// Checks `input` (read from `path`) against what the model takes and
/// returns the tensor to run on: int32 ids become int64; every id must lie
/// in [0, vocab).
llvm::Expected<rt::HostTensor> prepareInput(const InputKind &kind,
                                            rt::HostTensor input,
                                            const std::string &path) {
  auto error = [&](const llvm::Twine &message) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   message.str());
  };
  std::string actual = std::string(rt::dtypeName(input.dtype())) + " " +
                       rt::shapeToString(input.shape());
  if (!kind.tokens) {
    if (input.dtype() != rt::DType::F32 || input.rank() != 3 ||
        (kind.width && input.shape()[2] != kind.width))
      return error("the model takes hidden states f32 [B, T, " +
                   (kind.width ? std::to_string(kind.width) : "d") +
                   "] (it has no embedding) but " + path + " is " + actual);
    return std::move(input);
  }
  if ((input.dtype() != rt::DType::I64 && input.dtype() != rt::DType::I32) ||
      input.rank() != 2)
    return error("the model takes token ids int64 [B, T] (it has an "
                 "embedding) but " +
                 path + " is " + actual);
  if (input.dtype() == rt::DType::I32) {
    auto wide =
        rt::HostTensor::createUninitialized(rt::DType::I64, input.shape());
    if (!wide.ok())
      return error(wide.status().toString());
    const int32_t *from = input.data<int32_t>();
    int64_t *to = wide->data<int64_t>();
    for (int64_t i = 0; i < input.numElements(); ++i)
      to[i] = from[i];
    input = std::move(*wide);
  }
  // The ids' range is checked by the runtime (rt::checkInputs), for every
  // front end alike.
  return std::move(input);
}

/// Reads the attention mask (`--attention-mask`) for inputs of `shape`
/// ([B, T, ...]): int64, int32 or bool [B, T], any non-zero value meaning
/// "token"; returned as int64 0/1.
llvm::Expected<rt::HostTensor> readAttentionMask(const std::string &path,
                                                 const std::vector<int64_t> &shape) {
  auto error = [&](const llvm::Twine &message) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   message.str());
  };
  auto mask = rt::readNpy(path);
  if (!mask.ok())
    return error(mask.status().toString());
  std::vector<int64_t> want{shape[0], shape[1]};
  rt::DType dtype = mask->dtype();
  if ((dtype != rt::DType::I64 && dtype != rt::DType::I32 &&
       dtype != rt::DType::Bool) ||
      mask->shape() != want)
    return error("the attention mask must be int64 " + rt::shapeToString(want) +
                 " (1 = token, 0 = padding) but " + path + " is " +
                 rt::dtypeName(dtype) + " " + rt::shapeToString(mask->shape()));
  auto out = rt::HostTensor::createUninitialized(rt::DType::I64, want);
  if (!out.ok())
    return error(out.status().toString());
  int64_t *to = out->data<int64_t>();
  for (int64_t i = 0; i < mask->numElements(); ++i) {
    bool token = dtype == rt::DType::I64   ? mask->data<int64_t>()[i] != 0
                 : dtype == rt::DType::I32 ? mask->data<int32_t>()[i] != 0
                                           : mask->data<uint8_t>()[i] != 0;
    to[i] = token ? 1 : 0;
  }
  return std::move(*out);
}

/// Reads token type ids (`--token-type-ids`) for inputs of `shape`: int64
/// or int32 [B, T] (converted to int64). Ids outside the token-type table
/// are clamped by the compiled code, as token ids are.
llvm::Expected<rt::HostTensor>
readTokenTypeIds(const std::string &path, const std::vector<int64_t> &shape) {
  auto read = rt::readNpy(path);
  if (!read.ok())
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   read.status().toString());
  std::vector<int64_t> want{shape[0], shape[1]};
  if ((read->dtype() != rt::DType::I64 && read->dtype() != rt::DType::I32) ||
      read->shape() != want)
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "the token type ids must be int64 " + rt::shapeToString(want) +
            " but " + path + " is " + rt::dtypeName(read->dtype()) + " " +
            rt::shapeToString(read->shape()));
  InputKind kind;
  kind.tokens = true;
  return prepareInput(kind, std::move(*read), path);
}


/// Binds `weights` to `program`'s `forward`, runs it on `inputs` and writes
/// the first result to --output.
int bindAndRun(rt::Program &program, const Options &opts,
               rt::NamedTensors weights,
               const std::vector<rt::HostTensor> &inputs) {
  rt::Status bound = program.bindParameters("forward", std::move(weights));
  if (!bound.ok())
    return fail(opts.get("weights") + ": " + bound.toString());
  auto start = std::chrono::steady_clock::now();
  auto results = program.run("forward", inputs);
  if (!results.ok())
    return fail(results.status());
  double ms = std::chrono::duration<double, std::milli>(
                  std::chrono::steady_clock::now() - start)
                  .count();
  rt::Status written = rt::writeNpy(opts.get("output"), results->front());
  if (!written.ok())
    return fail(written);
  llvm::errs() << llvm::formatv("uoe-run: forward ran in {0:f2} ms; wrote {1} "
                                "{2}\n",
                                ms, opts.get("output"),
                                rt::shapeToString(results->front().shape()));
  return 0;
}

int runInfer(const Options &opts) {
  std::string device = opts.get("device", "cpu");
  if (device != "cpu" && device != "cuda")
    return fail("unknown device '" + device + "' (cpu or cuda)");
  if (opts.has("target") && device != "cuda")
    return fail("--target is for --device cuda");
  std::string emit = opts.get("emit");
  if (!emit.empty() && emit != "executable" && emit != "mlir" &&
      emit != "ptx")
    return fail("unknown --emit kind '" + emit +
                "' (mlir, ptx or executable)");
  if (emit == "ptx" && device != "cuda")
    return fail("--emit=ptx needs --device cuda (the CPU has no PTX)");
  // Every argument is checked before anything is compiled (which can take
  // a while).
  if (emit == "executable" && !opts.has("o"))
    return fail("--emit=executable needs -o FILE.uoex");
  if (emit.empty() && !opts.has("weights"))
    return fail("infer needs --weights W.safetensors");
  if (emit.empty() && !opts.has("output"))
    return fail("infer needs --output Y.npy");
  if (std::optional<std::string> bad = checkThreads(opts))
    return fail(*bad);
  std::string precision = opts.get("precision", "f32");
  if (precision != "f32" && precision != "bf16")
    return fail("--precision: '" + precision + "' is not f32 or bf16");
  if (precision == "bf16" && device == "cuda")
    return fail("--precision bf16 is for --device cpu (GPU code computes "
                "its GEMMs in f32)");
  CompileTarget target;
  if (device == "cuda") {
    // No GPU (or no driver) is an error that says so, not a crash, before
    // anything is compiled.
    auto chip = ::uoe::tools::cudaChipFor(opts.get("target"), !emit.empty());
    if (!chip)
      return fail(llvm::toString(chip.takeError()));
    target.cudaChip = *chip;
  }
  if (!opts.has("input"))
    return fail("infer needs --input X.npy");
  auto input = rt::readNpy(opts.get("input"));
  if (!input.ok())
    return fail(input.status());

  // What the model takes, from its description or its compiled form.
  std::optional<model::Model> model;
  std::optional<rt::proto::Executable> exe;
  InputKind kind;
  if (opts.has("executable") && emit != "mlir" && emit != "ptx") {
    auto loaded = rt::loadExecutable(opts.get("executable"));
    if (!loaded.ok())
      return fail(loaded.status());
    llvm::errs() << "uoe-run: loaded " << opts.get("executable") << "\n";
    exe = std::move(*loaded);
    auto k = inputKindOf(*exe);
    if (!k)
      return fail(opts.get("executable") + ": " +
                  llvm::toString(k.takeError()));
    kind = *k;
  } else {
    auto loaded = loadModel(opts);
    if (!loaded)
      return fail(llvm::toString(loaded.takeError()));
    model = std::move(*loaded);
    kind = inputKindOf(*model);
  }
  auto prepared = prepareInput(kind, std::move(*input), opts.get("input"));
  if (!prepared)
    return fail(llvm::toString(prepared.takeError()));
  int64_t batch = prepared->shape()[0], seq = prepared->shape()[1];
  std::optional<rt::HostTensor> mask;
  // The mask matters only for running; checked before compiling.
  if (emit.empty() && kind.attentionMask != opts.has("attention-mask")) {
    if (kind.attentionMask)
      return fail("the model takes an attention mask (attention_mask: true): "
                  "give --attention-mask MASK.npy, int64 [B, T]");
    return fail("--attention-mask given, but the model takes no attention "
                "mask (set attention_mask: true in its description)");
  }
  if (emit.empty() && kind.attentionMask) {
    auto read = readAttentionMask(opts.get("attention-mask"),
                                  prepared->shape());
    if (!read)
      return fail(llvm::toString(read.takeError()));
    mask = std::move(*read);
  }
  std::optional<rt::HostTensor> types;
  if (emit.empty() && kind.tokenTypeIds != opts.has("token-type-ids")) {
    if (kind.tokenTypeIds)
      return fail("the model takes token type ids (token_type_ids: true): "
                  "give --token-type-ids TYPES.npy, int64 [B, T]");
    return fail("--token-type-ids given, but the model takes no token type "
                "ids (set token_type_ids: true in its description)");
  }
  if (emit.empty() && kind.tokenTypeIds) {
    auto read = readTokenTypeIds(opts.get("token-type-ids"),
                                 prepared->shape());
    if (!read)
      return fail(llvm::toString(read.takeError()));
    types = std::move(*read);
  }

  CompileArtifacts artifacts;
  artifacts.target = target;
  artifacts.precision = precision;
  artifacts.gradients = opts.has("gradients");
  if (emit == "mlir" || emit == "ptx") {
    std::string ir;
    (emit == "ptx" ? artifacts.ptx : artifacts.loweredMlir) = &ir;
    auto compiled = compileModel(*model, batch, seq, artifacts);
    if (!compiled)
      return fail(llvm::toString(compiled.takeError()));
    if (!opts.has("o")) {
      llvm::outs() << ir;
      return 0;
    }
    rt::Status s = rt::writeFileAtomically(opts.get("o"), ir);
    return s.ok() ? 0 : fail(s);
  }

  if (!exe) {
    artifacts.timing = opts.has("timing");
    auto compiled = ::uoe::tools::obtainModelExecutable(
        *model, prepared->shape(), artifacts,
        opts.has("no-cache")
            ? ""
            : opts.get("cache-dir", mlir::uoe::defaultCacheDir()));
    if (!compiled)
      return fail(llvm::toString(compiled.takeError()));
    exe = std::move(*compiled);
  }
  if (emit == "executable") {
    rt::Status s = rt::saveExecutable(opts.get("o"), *exe);
    if (!s.ok())
      return fail(s);
    llvm::outs() << "wrote " << opts.get("o") << "\n";
    return 0;
  }

  auto weights = rt::readSafetensors(opts.get("weights"));
  if (!weights.ok())
    return fail(weights.status());
  // A training checkpoint is also a weights file: its optimizer state
  // (`opt.<slot>.<param>`, docs/TRAINING.md) is not a weight of the model.
  for (auto it = weights->tensors.begin(); it != weights->tensors.end();)
    it = rt::isOptimizerTensorName(it->first) ? weights->tensors.erase(it)
                                              : std::next(it);

  if (opts.has("threads"))
    rt::setCpuThreads(std::stoi(opts.get("threads")));
  std::vector<rt::HostTensor> inputs;
  inputs.push_back(std::move(*prepared));
  if (mask)
    inputs.push_back(std::move(*mask));
  if (types)
    inputs.push_back(std::move(*types));
  cpu::OrcLoader loader;
  auto program = rt::loadProgram(*exe, loader, device);
  if (!program.ok())
    return fail(program.status());
  return bindAndRun(**program, opts, std::move(weights->tensors), inputs);
}

/// `uoe-run import`: a Hugging Face checkpoint to OUT/model.pbtxt and
/// OUT/weights.safetensors.
int runImport(const Options &opts) {
  if (!opts.has("hf"))
    return fail("import needs --hf DIR (a Hugging Face checkpoint: "
                "config.json + model.safetensors)");
  std::string out = opts.has("o") ? opts.get("o") : opts.get("output");
  if (out.empty())
    return fail("import needs -o OUT (the directory to write model.pbtxt and "
                "weights.safetensors to)");
  hf::ImportOptions options;
  auto integer = [&](const std::string &key, int64_t &value) -> bool {
    if (!opts.has(key))
      return true;
    llvm::StringRef text = opts.get(key);
    long long v;
    if (text.getAsInteger(10, v) || v < 0)
      return false;
    value = v;
    return true;
  };
  int64_t experts = 0;
  if (!integer("decompose", experts) || (opts.has("decompose") && experts < 1))
    return fail("--decompose: '" + opts.get("decompose") +
                "' is not a positive integer");
  options.mlpExperts = experts;
  options.attentionExperts = experts;
  for (auto [key, field] :
       {std::pair<const char *, int64_t *>{"attention-experts",
                                           &options.attentionExperts},
        {"top-k", &options.topK},
        {"attention-top-k", &options.attentionTopK}})
    if (!integer(key, *field))
      return fail(std::string("--") + key + ": '" + opts.get(key) +
                  "' is not a non-negative integer");
  if (!experts)
    for (const char *key :
         {"attention-experts", "top-k", "attention-top-k", "capacity", "combine"})
      if (opts.has(key))
        return fail(std::string("--") + key + " needs --decompose E");
  if (opts.has("capacity")) {
    llvm::StringRef text = opts.get("capacity");
    double capacity = 0;
    if (text.getAsDouble(capacity))
      return fail("--capacity: '" + opts.get("capacity") + "' is not a number");
    options.capacity = capacity;
  }
  std::string combine = opts.get("combine", "union");
  if (combine == "union")
    options.combine = model::UNION;
  else if (combine == "gated")
    options.combine = model::GATED;
  else
    return fail("--combine: '" + combine + "' (union or gated)");
  if (opts.has("inputs")) {
    std::string list = opts.get("inputs");
    llvm::SmallVector<llvm::StringRef> names;
    llvm::StringRef(list).split(names, ',');
    if (names.empty() || names.front() != "ids")
      return fail("--inputs: '" + opts.get("inputs") +
                  "' must start with ids (ids[,attention_mask][,token_type_ids])");
    options.attentionMask = false;
    for (llvm::StringRef name : llvm::ArrayRef(names).drop_front()) {
      if (name == "attention_mask")
        options.attentionMask = true;
      else if (name == "token_type_ids")
        options.tokenTypeIds = true;
      else
        return fail("--inputs: unknown input '" + name.str() +
                    "' (ids, attention_mask, token_type_ids)");
    }
  }
  options.name = opts.get("name");

  auto imported = hf::importCheckpoint(opts.get("hf"), options);
  if (!imported)
    return fail(llvm::toString(imported.takeError()));
  if (std::error_code ec = llvm::sys::fs::create_directories(out))
    return fail("cannot create the directory '" + out + "': " + ec.message());
  std::string text;
  google::protobuf::TextFormat::Printer printer;
  printer.PrintToString(imported->model, &text);
  std::string header =
      "# Imported by `uoe-run import` from the Hugging Face checkpoint " +
      opts.get("hf") + "\n# (" + imported->summary + ").\n";
  std::string pbtxt = out + "/model.pbtxt",
              weights = out + "/weights.safetensors";
  std::vector<std::pair<std::string, const rt::HostTensor *>> named;
  for (const auto &[name, tensor] : imported->weights)
    named.push_back({name, &tensor});
  rt::Status s = rt::writeSafetensors(
      weights, named, {{"format", "uoe"}, {"source", opts.get("hf")}});
  if (!s.ok())
    return fail(s);
  s = rt::writeFileAtomically(pbtxt, header + text);
  if (!s.ok())
    return fail(s);
  llvm::outs() << "imported " << imported->summary << "\n";
  for (const hf::IgnoredTensor &t : imported->ignored)
    llvm::outs() << "ignored " << t.name << ": " << t.reason << "\n";
  llvm::outs() << "wrote " << pbtxt << " and " << weights << " ("
               << named.size() << " tensors)\n";
  return 0;
}

/// `uoe-run devices`: one line per device; a missing GPU is not an error.
int runDevices(const Options &opts) {
  if (std::optional<std::string> bad = checkThreads(opts))
    return fail(*bad);
  if (opts.has("threads"))
    rt::setCpuThreads(std::stoi(opts.get("threads")));
  llvm::outs() << "cpu: " << rt::cpuThreads() << " threads\n";
  auto devices = rt::listCudaDevices();
  if (!devices.ok()) {
    llvm::outs() << "cuda: " << devices.status().message() << "\n";
    return 0;
  }
  for (const rt::CudaDeviceInfo &info : *devices)
    llvm::outs() << rt::toString(info) << "\n";
  return 0;
}

} // namespace

static int run(int argc, char **argv) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  // `train` has its own options (tools/uoe-run/Train.h).
  if (argc > 1 && std::string(argv[1]) == "train")
    return runTrain(argc - 1, argv + 1);
  if (argc > 1 && std::string(argv[1]) == "generate")
    return runGenerate(argc - 1, argv + 1);
  Options opts;
  std::string error;
  if (!parseArgs(argc, argv, opts, error))
    return fail(error);
  if (opts.has("version")) {
    llvm::outs() << "uoe-run " << mlir::uoe::compilerIdentity() << ", LLVM "
                 << LLVM_VERSION_STRING << ", CPU GEMM kernels "
                 << rt::gemmIsaName(rt::gemmIsa()) << " (bf16: "
                 << rt::bf16GemmIsaName(rt::bf16GemmIsa()) << ")\n";
    return 0;
  }
  if (opts.has("help") || opts.command.empty() || opts.command == "help") {
    llvm::outs() << kHelp << kTrainHelp << kGenerateHelp;
    return opts.command.empty() && !opts.has("help") ? 1 : 0;
  }
  if (opts.command == "infer")
    return runInfer(opts);
  if (opts.command == "init")
    return runInit(opts);
  if (opts.command == "devices")
    return runDevices(opts);
  if (opts.command == "import")
    return runImport(opts);
  return fail(
      "unknown command '" + opts.command +
      "' (infer, init, train, generate, import or devices; see --help)");
}

/// An allocation that fails anywhere below is the user's error message, not
/// an uncaught exception (the runtime's own allocations return a Status;
/// this catches those of the standard library and of protobuf).
int main(int argc, char **argv) {
  try {
    return run(argc, argv);
  } catch (const std::bad_alloc &) {
    std::fputs("uoe-run: error: out of memory (the input, the model or its "
               "weights need more memory than the machine has)\n", stderr);
    return 1;
  }
}
