//===- LayerBench.cpp - time a compiled model's forward pass --------------===//
//
// `uoe-bench --model M.pbtxt --weights W.safetensors --input X.npy
//  [--device cpu|cuda] [--target sm_N] [--backward] [--bench-threads N]
//  [--warmup W] [--iterations I] [--output Y.npy] [--grad-output DX.npy]`
//
// Compiles the description for the input's shape (no cache: the compile
// time is part of the report) for the device, binds the weights, runs the
// forward pass (with --backward: `forward_grad`, the forward and the
// backward pass for an output gradient of ones) W times untimed and I times
// timed, and prints one JSON object with the compile time and the median,
// minimum and mean run times in milliseconds. --output writes the result of
// the last run, --grad-output (with --backward) the input's gradient, so
// that a driver can check them against a peer implementation.
//
//===----------------------------------------------------------------------===//

#include "driver/CompileModel.h"
#include "driver/OrcLoader.h"
#include "runtime/CpuBlas.h"
#include "runtime/CpuDevice.h"
#include "runtime/CudaDriver.h"
#include "runtime/ElfObjectLoader.h"
#include "runtime/Program.h"
#include "formats/Npy.h"
#include "formats/Safetensors.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
#include <numeric>

using namespace mlir::uoe;
namespace rt = ::uoe::rt;

namespace cl = llvm::cl;

/// uoe-bench's own options (--help lists only these, not LLVM's).
static cl::OptionCategory benchOptions("uoe-bench options");

static cl::opt<std::string> modelPath("model", cl::cat(benchOptions),
                                      cl::desc("model description"),
                                      cl::Required);
static cl::opt<std::string> weightsPath("weights", cl::cat(benchOptions),
                                        cl::desc("safetensors"), cl::Required);
static cl::opt<std::string> inputPath("input", cl::cat(benchOptions),
                                      cl::desc(".npy input"), cl::Required);
static cl::opt<std::string> outputPath("output", cl::cat(benchOptions),
                                       cl::desc(".npy result of the last run"));
static cl::opt<int> threads("bench-threads", cl::cat(benchOptions),
                            cl::desc("GEMM threads (0: all cores)"),
                            cl::init(0));
static cl::opt<int> warmup("warmup", cl::cat(benchOptions),
                           cl::desc("untimed runs"), cl::init(3));
static cl::opt<std::string> device("device", cl::cat(benchOptions),
                                   cl::desc("cpu or cuda"), cl::init("cpu"));
static cl::opt<std::string>
    target("target", cl::cat(benchOptions),
           cl::desc("cuda: the SM (default: the GPU's)"));
static cl::opt<bool>
    backward("backward", cl::cat(benchOptions),
             cl::desc("time forward_grad (forward + backward)"));
static cl::opt<std::string>
    gradOutputPath("grad-output", cl::cat(benchOptions),
                   cl::desc("--backward: .npy gradient of the input"));
static cl::opt<int> iterations("iterations", cl::cat(benchOptions),
                               cl::desc("timed runs"), cl::init(20));
static cl::opt<std::string>
    precision("precision", cl::cat(benchOptions),
              cl::desc("the GEMMs' products: f32 or bf16 (cpu)"),
              cl::init("f32"));

static int fail(const llvm::Twine &message) {
  llvm::errs() << "uoe-bench: error: " << message << "\n";
  return 1;
}

static double msSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now() - start)
      .count();
}

int main(int argc, char **argv) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  cl::HideUnrelatedOptions(benchOptions);
  cl::ParseCommandLineOptions(argc, argv, "time a compiled forward pass\n");
  if (iterations < 1)
    return fail("--iterations must be at least 1");

  auto model = parseModelFile(modelPath);
  if (!model)
    return fail(llvm::toString(model.takeError()));
  if (auto err = resolveModel(*model))
    return fail(modelPath + ": " + llvm::toString(std::move(err)));
  auto input = rt::readNpy(inputPath);
  if (!input.ok())
    return fail(input.status().toString());
  if (input->rank() < 2)
    return fail(inputPath + ": expected [B, T, ...]");
  auto weights = rt::readSafetensors(weightsPath);
  if (!weights.ok())
    return fail(weights.status().toString());

  CompileArtifacts artifacts;
  artifacts.gradients = backward;
  artifacts.precision = precision;
  if (device == "cuda") {
    std::string chip = target;
    if (chip.empty()) {
      auto devices = rt::listCudaDevices();
      if (!devices.ok())
        return fail(devices.status().message());
      chip = llvm::formatv("sm_{0}{1}", devices->front().computeMajor,
                           devices->front().computeMinor)
                 .str();
    }
    artifacts.target.cudaChip = chip;
  } else if (device != "cpu") {
    return fail("--device must be cpu or cuda");
  }
  auto start = std::chrono::steady_clock::now();
  auto exe =
      compileModel(*model, input->shape()[0], input->shape()[1], artifacts);
  if (!exe)
    return fail(llvm::toString(exe.takeError()));
  double compileMs = msSince(start);
  const char *entry = backward ? "forward_grad" : "forward";

  rt::setCpuThreads(threads);
  // The runtime's ELF loader when profiling: it writes the perf map
  // ($UOE_PERF_MAP) that names the compiled loop nests in `perf report`.
  cpu::OrcLoader orc;
  rt::ElfObjectLoader elf;
  rt::ObjectLoader &loader = std::getenv("UOE_PERF_MAP")
                                 ? static_cast<rt::ObjectLoader &>(elf)
                                 : orc;
  auto program = rt::loadProgram(*exe, loader, device);
  if (!program.ok())
    return fail(program.status().toString());
  if (rt::Status s =
          (*program)->bindParameters(entry, std::move(weights->tensors));
      !s.ok())
    return fail(weightsPath + ": " + s.toString());

  std::vector<rt::HostTensor> inputs;
  inputs.push_back(std::move(*input));
  if (backward) {
    // The gradient of sum(result): ones of the result's shape.
    const rt::proto::EntryPoint &grad = **rt::findEntryPoint(*exe, entry);
    const rt::proto::TensorSpec &seed = grad.inputs(1);
    std::vector<int64_t> shape(seed.shape().begin(), seed.shape().end());
    int64_t n = 1;
    for (int64_t dim : shape)
      n *= dim;
    auto ones = rt::HostTensor::fromVector(
        rt::DType::F32, shape, std::vector<float>(static_cast<size_t>(n), 1.0f));
    if (!ones.ok())
      return fail(ones.status().toString());
    inputs.push_back(std::move(*ones));
  }
  std::vector<double> times;
  std::vector<rt::HostTensor> last;
  for (int i = 0; i < warmup + iterations; ++i) {
    auto runStart = std::chrono::steady_clock::now();
    auto results = (*program)->run(entry, inputs);
    double ms = msSince(runStart);
    if (!results.ok())
      return fail(results.status().toString());
    if (i >= warmup)
      times.push_back(ms);
    last = std::move(*results);
  }
  if (!outputPath.empty())
    if (rt::Status s = rt::writeNpy(outputPath, last.front()); !s.ok())
      return fail(s.toString());
  if (backward && !gradOutputPath.empty())
    if (rt::Status s = rt::writeNpy(gradOutputPath, last.at(1)); !s.ok())
      return fail(s.toString());

  std::sort(times.begin(), times.end());
  double mean = std::accumulate(times.begin(), times.end(), 0.0) / times.size();
  llvm::outs() << llvm::formatv(
      "{{\"model\": \"{0}\", \"device\": \"{7}\", \"entry\": \"{8}\", "
      "\"threads\": {1}, \"compile_ms\": {2:f1}, "
      "\"median_ms\": {3:f3}, \"min_ms\": {4:f3}, \"mean_ms\": {5:f3}, "
      "\"iterations\": {6}}\n",
      model->name(), rt::cpuThreads(), compileMs, times[times.size() / 2],
      times.front(), mean, times.size(), device.getValue(), entry);
  return 0;
}
