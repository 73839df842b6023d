//===- uoe-exec.cpp - run a saved Executable, without the compiler -------===//
//
//   uoe-exec --executable M.uoex --weights W.safetensors --input X.npy
//            [--input MASK.npy ...] [--output Y.npy] [--device cpu|cuda|cuda:N]
//            [--entry forward] [--threads N] [--random-weights SEED]
//            [--warmup W --iterations I]
//   uoe-exec --executable M.uoex --info
//
// The runtime's own command line: it links no LLVM or MLIR, so it is built
// by the runtime-only tree (-DUOE_BUILD_COMPILER=OFF) as well, for machines
// that only run models compiled elsewhere (`uoe-run infer ... --emit=
// executable -o M.uoex`, with `--device cuda --target sm_N` for a GPU
// machine). Object code is linked by the runtime's ELF loader. The inputs
// are the entry point's, in order, with their exact dtypes and shapes
// (`--info` lists them); the first result is written to --output.
// --random-weights SEED binds random weights instead of a file (for timing
// a layer whose weights are too large to ship); --iterations I times I runs
// after W untimed ones and prints a JSON line with the median.
//
//===----------------------------------------------------------------------===//

#include "formats/Checkpoint.h"
#include "runtime/CpuBlas.h"
#include "runtime/ElfObjectLoader.h"
#include "formats/Executable.h"
#include "formats/Npy.h"
#include "runtime/Program.h"
#include "formats/Safetensors.h"
#include "tools/common/Options.h"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <chrono>
#include <cmath>
#include <random>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <new>
#include <optional>
#include <string>
#include <vector>

using namespace uoe;
using rt::NamedTensors;

namespace {

constexpr const char *kUsage =
    "usage: uoe-exec --executable M.uoex --weights W.safetensors --input X.npy\n"
    "                [--input MORE.npy ...] [--output Y.npy] [--device cpu|cuda|cuda:N]\n"
    "                [--entry forward] [--threads N] [--random-weights SEED]\n"
    "                [--warmup W --iterations I]\n"
    "       uoe-exec --executable M.uoex --info\n"
    "Runs a saved Executable (uoe-run infer --emit=executable) without the\n"
    "compiler; --info lists its target and entry points.\n";

int fail(const std::string &message) {
  std::fprintf(stderr, "uoe-exec: error: %s\n", message.c_str());
  return 1;
}

std::string specText(const rt::proto::TensorSpec &spec) {
  std::vector<int64_t> shape(spec.shape().begin(), spec.shape().end());
  return spec.name() + ": " + spec.dtype() + " " + rt::shapeToString(shape);
}

/// `--info`: the target and every entry point's tensors.
void printInfo(const rt::proto::Executable &exe) {
  std::printf("target: %s\ncompiler: %s\n", exe.target().c_str(),
              exe.compiler().c_str());
  if (!exe.model_name().empty())
    std::printf("model: %s\n", exe.model_name().c_str());
  for (const rt::proto::EntryPoint &entry : exe.entry_points()) {
    std::printf("entry %s\n", entry.name().c_str());
    for (const auto &spec : entry.inputs())
      std::printf("  input %s\n", specText(spec).c_str());
    std::printf("  %d parameters\n", entry.parameters_size());
    for (const auto &spec : entry.parameters())
      std::printf("  parameter %s\n", specText(spec).c_str());
    for (const auto &spec : entry.results())
      std::printf("  result %s\n", specText(spec).c_str());
  }
}

/// Uniform values in [-s, s), s = 1/sqrt(fan-in) (the second-to-last
/// dimension of a matrix); 1 for the weights of norms, 0 for biases and
/// optimizer state.
NamedTensors randomWeights(const rt::proto::EntryPoint &entry, uint64_t seed) {
  NamedTensors weights;
  std::mt19937_64 rng(seed);
  for (const rt::proto::TensorSpec &spec : entry.parameters()) {
    std::vector<int64_t> shape(spec.shape().begin(), spec.shape().end());
    int64_t n = 1;
    for (int64_t dim : shape)
      n *= dim;
    bool norm = spec.name().find("norm") != std::string::npos &&
                spec.name().find("weight") != std::string::npos;
    bool zero = shape.size() < 2 || rt::isOptimizerTensorName(spec.name());
    float scale = shape.size() >= 2
                      ? 1.0f / std::sqrt(float(shape[shape.size() - 2]))
                      : 0.0f;
    std::uniform_real_distribution<float> uniform(-scale, scale);
    std::vector<float> values(static_cast<size_t>(n));
    for (float &v : values)
      v = norm ? 1.0f : zero ? 0.0f : uniform(rng);
    auto tensor = rt::HostTensor::fromVector(rt::DType::F32, shape, values);
    if (tensor.ok())
      weights.emplace(spec.name(), std::move(*tensor));
  }
  return weights;
}

} // namespace

static int run(int argc, char **argv) {
  tools::OptionSpec spec;
  spec.tool = "uoe-exec";
  spec.values = {"executable", "weights", "input",  "output",
                 "device",     "entry",   "threads", "random-weights",
                 "warmup",     "iterations"};
  spec.switches = {"help", "info"};
  spec.repeated = {"input"};
  tools::ParsedOptions parsed;
  if (std::optional<std::string> error =
          tools::parseOptions(argc, argv, 1, spec, parsed))
    return fail(*error + "\n" + kUsage);
  if (parsed.has("help")) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  bool info = parsed.has("info");
  std::vector<std::string> inputs = parsed.lists["input"];
  std::map<std::string, std::string> values = parsed.values;
  values.erase("input");
  // Numbers are whole and in range, checked before anything is loaded.
  struct Range {
    const char *flag;
    int64_t least, most;
  };
  for (Range r : {Range{"threads", 1, 4096}, Range{"warmup", 0, 1000000},
                  Range{"iterations", 1, 1000000},
                  Range{"random-weights", 0, INT64_MAX}}) {
    int64_t ignored;
    if (values.count(r.flag))
      if (std::optional<std::string> error = tools::parseWholeNumber(
              r.flag, values[r.flag], r.least, r.most, ignored))
        return fail(*error);
  }
  if (!values.count("executable"))
    return fail(std::string("--executable is required\n") + kUsage);
  auto exe = rt::loadExecutable(values["executable"]);
  if (!exe.ok())
    return fail(exe.status().toString());
  if (info) {
    printInfo(*exe);
    return 0;
  }
  bool timing = values.count("iterations") != 0;
  if ((!values.count("weights") && !values.count("random-weights")) ||
      (!values.count("output") && !timing) || inputs.empty())
    return fail(std::string("--weights (or --random-weights), --input and "
                            "--output (or --iterations) are required\n") +
                kUsage);
  std::string entry = values.count("entry") ? values["entry"] : "forward";
  std::string device = values.count("device") ? values["device"] : "cpu";
  if (values.count("threads"))
    rt::setCpuThreads(std::atoi(values["threads"].c_str()));

  auto found = rt::findEntryPoint(*exe, entry);
  if (!found.ok())
    return fail(found.status().toString());
  NamedTensors weights;
  if (values.count("random-weights")) {
    weights = randomWeights(**found,
                            std::strtoull(values["random-weights"].c_str(),
                                          nullptr, 10));
  } else {
    auto read = rt::readSafetensors(values["weights"]);
    if (!read.ok())
      return fail(read.status().toString());
    weights = std::move(read->tensors);
    for (auto it = weights.begin(); it != weights.end();)
      it = rt::isOptimizerTensorName(it->first) ? weights.erase(it)
                                                : std::next(it);
  }
  std::vector<rt::HostTensor> tensors;
  for (const std::string &path : inputs) {
    auto tensor = rt::readNpy(path);
    if (!tensor.ok())
      return fail(tensor.status().toString());
    tensors.push_back(std::move(*tensor));
  }

  rt::ElfObjectLoader loader;
  auto program = rt::loadProgram(*exe, loader, device);
  if (!program.ok())
    return fail(program.status().toString());
  if (rt::Status s = (*program)->bindParameters(entry, std::move(weights));
      !s.ok())
    return fail(values["weights"] + ": " + s.toString());
  int warmup = timing ? std::atoi(values["warmup"].c_str()) : 0;
  int iterations = timing ? std::max(1, std::atoi(values["iterations"].c_str()))
                          : 1;
  std::vector<double> times;
  std::vector<rt::HostTensor> results;
  for (int i = 0; i < warmup + iterations; ++i) {
    auto start = std::chrono::steady_clock::now();
    auto run = (*program)->run(entry, tensors);
    if (!run.ok())
      return fail(run.status().toString());
    results = std::move(*run);
    if (i >= warmup)
      times.push_back(std::chrono::duration<double, std::milli>(
                          std::chrono::steady_clock::now() - start)
                          .count());
  }
  std::sort(times.begin(), times.end());
  double median = times[times.size() / 2];
  if (values.count("output")) {
    if (rt::Status s = rt::writeNpy(values["output"], results.front());
        !s.ok())
      return fail(s.toString());
    std::fprintf(stderr, "uoe-exec: %s ran on %s in %.2f ms; wrote %s %s\n",
                 entry.c_str(), device.c_str(), median,
                 values["output"].c_str(),
                 rt::shapeToString(results.front().shape()).c_str());
  }
  if (timing)
    std::printf("{\"entry\": \"%s\", \"device\": \"%s\", \"median_ms\": %.3f, "
                "\"min_ms\": %.3f, \"iterations\": %d}\n",
                entry.c_str(), device.c_str(), median, times.front(),
                iterations);
  return 0;
}

/// An allocation that fails anywhere below is the user's error message, not
/// an uncaught exception (the runtime's own allocations return a Status;
/// this catches those of the standard library and of protobuf).
int main(int argc, char **argv) {
  try {
    return run(argc, argv);
  } catch (const std::bad_alloc &) {
    std::fputs("uoe-exec: error: out of memory (the input, the model or its "
               "weights need more memory than the machine has)\n", stderr);
    return 1;
  }
}
