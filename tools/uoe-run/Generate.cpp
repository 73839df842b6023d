//===- Generate.cpp - the `uoe-run generate` command ----------------------===//
//
// Autoregressive decoding without a KV cache: every new byte reruns
// `forward` on the whole sequence so far, padded to the one compiled
// length Tmax, and reads the logits at the last real position. That is
// exact only when nothing after a position can change its logits: causal
// attention (dense or SMHA with `causal: true`) and causal-safe routing
// (spec §7) for SMHA and UoME. Anything else is allowed but warned about.
// Sampling uses its own arithmetic on std::mt19937_64's raw output (whose
// sequence the standard fixes), so a seed gives the same text everywhere.
//
//===----------------------------------------------------------------------===//

#include "CommandLine.h"
#include "tools/uoe-run/Generate.h"

#include "driver/CompileModel.h"
#include "driver/OrcLoader.h"
#include "frontend/ModelImporter.h"
#include "formats/Checkpoint.h"
#include "runtime/CpuBlas.h"
#include "runtime/CpuDevice.h"
#include "runtime/Program.h"
#include "formats/Executable.h"
#include "formats/Safetensors.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <map>
#include <numeric>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

using namespace mlir::uoe;
namespace rt = ::uoe::rt;

const char *const mlir::uoe::kGenerateHelp = R"(
GENERATION OPTIONS (uoe-run generate; docs/TRAINING.md, "Generating text")
  --model FILE        a byte-level language model (embedding with vocab_size
                      >= 256 and an lm_head)
  --weights FILE      its weights, or a training checkpoint
  --prompt TEXT       the prompt, as bytes (at least one)
  --tokens N          bytes to generate (default 64)
  --temperature T     0: greedy (the largest logit); else sample from
                      softmax(logits / T) (default 0)
  --top-k K           sample among the K largest logits only (default 0: all)
  --seed S            the sampling generator's seed (default 0)
  --max-len T         the compiled sequence length (default: max_positions
                      with learned positions, else prompt + N)
  --causal-safe       route every SMHA and UoME layer causal-safe (spec §7)
  --reference-routing route them as the reference does (prefix outputs then
                      depend on later positions: a warning says so)
  --threads N, --cache-dir DIR, --no-cache  as for infer
  --device cpu|cuda, --target sm_N  as for infer
)";

namespace {

const std::set<std::string> kValueFlags = {
    "model", "weights", "prompt",  "tokens",  "temperature",
    "top-k", "seed",    "max-len", "threads", "cache-dir", "device",
    "target"};
const std::set<std::string> kSwitchFlags = {"causal-safe", "reference-routing",
                                            "no-cache", "help"};

int fail(const llvm::Twine &message) {
  llvm::errs() << "uoe-run: error: " << message << "\n";
  return 1;
}
int fail(const rt::Status &status) { return fail(status.toString()); }

std::optional<std::string>
parseArgs(int argc, char **argv, std::map<std::string, std::string> &values) {
  return ::uoe::tools::parseCommandOptions(argc, argv, "generate", kValueFlags,
                                         kSwitchFlags, values);
}

/// Sets the routing of every SMHA and UoME layer.
void setRouting(model::Model &m, model::RoutingMode routing) {
  for (model::Block &block : *m.mutable_blocks()) {
    if (block.has_smha())
      block.mutable_smha()->set_routing(routing);
    if (block.has_uome())
      block.mutable_uome()->set_routing(routing);
  }
}

/// Why a position's logits may depend on later positions, or "".
std::string prefixDependence(const model::Model &m) {
  for (int i = 0; i < m.blocks_size(); ++i) {
    const model::Block &block = m.blocks(i);
    std::string at = llvm::formatv("blocks[{0}]", i).str();
    if (block.has_smha() && block.smha().routing() != model::CAUSAL_SAFE)
      return at + ".smha uses reference routing";
    if (block.has_uome() && block.uome().routing() != model::CAUSAL_SAFE)
      return at + ".uome uses reference routing";
    // MoE routes every token on its own: causal-safe by construction.
    if (block.has_smha() && !block.smha().causal())
      return at + ".smha is not causal";
    if (block.has_dense_attention() && !block.dense_attention().causal())
      return at + ".dense_attention is not causal";
  }
  if (m.has_classifier())
    return "the model has a classifier head";
  return "";
}

/// A double in [0, 1) from 53 bits of the generator's raw output.
double uniform(std::mt19937_64 &gen) {
  return static_cast<double>(gen() >> 11) * (1.0 / 9007199254740992.0);
}

/// The next byte from `logits[0..vocab)`: the largest (ties: the lower id)
/// with temperature 0; else a draw from softmax(logits / temperature) over
/// the `topK` largest (all when 0), computed in double.
int64_t pickToken(const float *logits, int64_t vocab, double temperature,
                  int64_t topK, std::mt19937_64 &gen) {
  std::vector<int64_t> order(static_cast<size_t>(vocab));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return logits[a] > logits[b]; });
  if (temperature == 0.0)
    return order.front();
  if (topK > 0 && topK < vocab)
    order.resize(static_cast<size_t>(topK));
  double top = logits[order.front()];
  std::vector<double> weights;
  double sum = 0.0;
  for (int64_t id : order) {
    weights.push_back(std::exp((logits[id] - top) / temperature));
    sum += weights.back();
  }
  double u = uniform(gen) * sum, acc = 0.0;
  for (size_t i = 0; i < order.size(); ++i) {
    acc += weights[i];
    if (u < acc)
      return order[i];
  }
  return order.back();
}


/// Reads `--key` as an integer >= min (or `def`); false after an error.
bool readInt(const std::map<std::string, std::string> &values,
             const std::string &key, int64_t def, int64_t min, int64_t &out,
             std::string &error) {
  auto it = values.find(key);
  if (it == values.end()) {
    out = def;
    return true;
  }
  long long v;
  if (llvm::StringRef(it->second).getAsInteger(10, v) || v < min) {
    error = "--" + key + ": '" + it->second +
            "' is not an integer >= " + std::to_string(min);
    return false;
  }
  out = v;
  return true;
}

} // namespace

int mlir::uoe::runGenerate(int argc, char **argv) {
  std::map<std::string, std::string> values;
  if (auto error = parseArgs(argc, argv, values))
    return fail(*error);
  if (values.count("help")) {
    llvm::outs() << kGenerateHelp;
    return 0;
  }
  for (const char *required : {"model", "weights", "prompt"})
    if (!values.count(required))
      return fail(std::string("generate needs --") + required);
  if (values.count("causal-safe") && values.count("reference-routing"))
    return fail("--causal-safe and --reference-routing exclude each other");

  std::string error;
  int64_t tokens, topK, seed, maxLen, threads;
  if (!readInt(values, "tokens", 64, 0, tokens, error) ||
      !readInt(values, "top-k", 0, 0, topK, error) ||
      !readInt(values, "seed", 0, 0, seed, error) ||
      !readInt(values, "max-len", 0, 1, maxLen, error) ||
      !readInt(values, "threads", 0, 1, threads, error))
    return fail(error);
  double temperature = 0.0;
  if (values.count("temperature") &&
      (llvm::StringRef(values["temperature"]).getAsDouble(temperature) ||
       !std::isfinite(temperature) || temperature < 0.0))
    return fail("--temperature: '" + values["temperature"] +
                "' is not a number >= 0");
  std::string prompt = values["prompt"];
  if (prompt.empty())
    return fail("--prompt: the prompt needs at least one byte");

  auto parsed = parseModelFile(values["model"]);
  if (!parsed)
    return fail(llvm::toString(parsed.takeError()));
  model::Model m = std::move(*parsed);
  if (auto err = resolveModel(m))
    return fail(values["model"] + ": " + llvm::toString(std::move(err)));
  if (!m.has_embedding() || !m.has_lm_head())
    return fail(values["model"] +
                ": generate needs a language model (an embedding and an "
                "lm_head)");
  int64_t vocab = m.embedding().vocab_size();
  if (vocab < 256)
    return fail(llvm::formatv("{0}: embedding.vocab_size ({1}) is below 256: "
                              "generate feeds the prompt's bytes as tokens",
                              values["model"], vocab)
                    .str());
  if (values.count("causal-safe"))
    setRouting(m, model::CAUSAL_SAFE);
  if (values.count("reference-routing"))
    setRouting(m, model::REFERENCE);
  if (auto err = resolveModel(m))
    return fail(values["model"] + ": " + llvm::toString(std::move(err)));
  std::string dependence = prefixDependence(m);
  if (!dependence.empty())
    llvm::errs() << "uoe-run: warning: " << dependence
                 << ": a position's logits depend on the positions after it "
                    "(padding included), so the text differs from decoding "
                    "the sequence as it grows; use causal attention and "
                    "--causal-safe (spec §7)\n";

  int64_t promptLen = static_cast<int64_t>(prompt.size());
  bool learned = m.embedding().position() == model::LEARNED;
  int64_t tmax =
      maxLen ? maxLen
             : (learned ? m.embedding().max_positions() : promptLen + tokens);
  if (learned && tmax > m.embedding().max_positions())
    return fail(llvm::formatv("--max-len {0} exceeds embedding.max_positions "
                              "({1})",
                              tmax, m.embedding().max_positions())
                    .str());
  if (promptLen + tokens > tmax)
    return fail(llvm::formatv("the prompt ({0} bytes) and --tokens {1} exceed "
                              "the sequence length {2}{3}",
                              promptLen, tokens, tmax,
                              learned ? " (embedding.max_positions)" : "")
                    .str());

  if (threads)
    rt::setCpuThreads(static_cast<int>(threads));
  std::string cacheDir = values.count("no-cache")
                             ? ""
                             : (values.count("cache-dir") ? values["cache-dir"]
                                                          : mlir::uoe::defaultCacheDir());
  std::string device = values.count("device") ? values["device"] : "cpu";
  CompileArtifacts artifacts;
  if (device == "cuda") {
    auto chip = ::uoe::tools::cudaChipFor(
        values.count("target") ? values["target"] : "", /*compileOnly=*/false);
    if (!chip)
      return fail(llvm::toString(chip.takeError()));
    artifacts.target.cudaChip = *chip;
  } else if (device != "cpu") {
    return fail("--device: '" + device + "' (cpu or cuda)");
  } else if (values.count("target")) {
    return fail("--target is for --device cuda");
  }
  auto exe =
      ::uoe::tools::obtainModelExecutable(m, {1, tmax}, artifacts, cacheDir);
  if (!exe)
    return fail(llvm::toString(exe.takeError()));
  auto weights = rt::readSafetensors(values["weights"]);
  if (!weights.ok())
    return fail(weights.status());
  for (auto it = weights->tensors.begin(); it != weights->tensors.end();)
    it = rt::isOptimizerTensorName(it->first) ? weights->tensors.erase(it)
                                              : std::next(it);
  cpu::OrcLoader loader;
  auto program = rt::loadProgram(*exe, loader, device);
  if (!program.ok())
    return fail(program.status());
  rt::Status bound =
      (*program)->bindParameters("forward", std::move(weights->tensors));
  if (!bound.ok())
    return fail(values["weights"] + ": " + bound.toString());

  // The sequence so far, padded with byte 0 (and masked out when the model
  // takes an attention mask).
  std::vector<int64_t> ids(static_cast<size_t>(tmax), 0);
  for (int64_t i = 0; i < promptLen; ++i)
    ids[i] = static_cast<unsigned char>(prompt[i]);
  std::mt19937_64 gen(static_cast<uint64_t>(seed));
  std::string continuation;
  int64_t length = promptLen;
  auto start = std::chrono::steady_clock::now();
  for (int64_t step = 0; step < tokens; ++step) {
    std::vector<rt::HostTensor> inputs;
    auto idsTensor = rt::HostTensor::fromVector(rt::DType::I64, {1, tmax}, ids);
    if (!idsTensor.ok())
      return fail(idsTensor.status());
    inputs.push_back(std::move(*idsTensor));
    if (m.attention_mask()) {
      std::vector<int64_t> mask(static_cast<size_t>(tmax), 0);
      std::fill(mask.begin(), mask.begin() + length, 1);
      auto t = rt::HostTensor::fromVector(rt::DType::I64, {1, tmax}, mask);
      if (!t.ok())
        return fail(t.status());
      inputs.push_back(std::move(*t));
    }
    if (m.token_type_ids()) {
      auto t = rt::HostTensor::create(rt::DType::I64, {1, tmax});
      if (!t.ok())
        return fail(t.status());
      inputs.push_back(std::move(*t));
    }
    auto results = (*program)->run("forward", inputs);
    if (!results.ok())
      return fail(results.status());
    const float *logits = results->front().data<float>() + (length - 1) * vocab;
    // Only bytes can be printed: ids above 255 are never drawn.
    int64_t next = pickToken(logits, std::min<int64_t>(vocab, 256), temperature,
                             topK, gen);
    ids[length++] = next;
    continuation.push_back(static_cast<char>(next));
  }
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  llvm::outs() << prompt << continuation << "\n";
  llvm::errs() << llvm::formatv("uoe-run: generated {0} bytes in {1:f2} s\n",
                                tokens, seconds);
  return 0;
}
