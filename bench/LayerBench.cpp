//===- LayerBench.cpp - time a compiled model's forward pass --------------===//
//
// `uoe-bench --model M.pbtxt --weights W.safetensors --input X.npy
//  [--bench-threads N] [--warmup W] [--iterations I] [--output Y.npy]`
//
// Compiles the description for the input's shape (no cache: the compile
// time is part of the report), binds the weights, runs the forward pass W
// times untimed and I times timed, and prints one JSON object with the
// compile time and the median, minimum and mean run times in milliseconds.
// --output writes the result of the last run, so that a driver can check it
// against a peer implementation.
//
//===----------------------------------------------------------------------===//

#include "codegen/CompileModel.h"
#include "codegen/cpu/OrcLoader.h"
#include "runtime/CpuBlas.h"
#include "runtime/CpuDevice.h"
#include "runtime/ElfObjectLoader.h"
#include "runtime/Npy.h"
#include "runtime/Safetensors.h"

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

static cl::opt<std::string> modelPath("model", cl::desc("model description"),
                                      cl::Required);
static cl::opt<std::string> weightsPath("weights", cl::desc("safetensors"),
                                        cl::Required);
static cl::opt<std::string> inputPath("input", cl::desc(".npy input"),
                                      cl::Required);
static cl::opt<std::string> outputPath("output",
                                       cl::desc(".npy result of the last run"));
static cl::opt<int> threads("bench-threads", cl::desc("GEMM threads (0: all cores)"),
                            cl::init(0));
static cl::opt<int> warmup("warmup", cl::desc("untimed runs"), cl::init(3));
static cl::opt<int> iterations("iterations", cl::desc("timed runs"),
                               cl::init(20));

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

  auto start = std::chrono::steady_clock::now();
  auto exe = compileModel(*model, input->shape()[0], input->shape()[1]);
  if (!exe)
    return fail(llvm::toString(exe.takeError()));
  double compileMs = msSince(start);

  rt::setCpuThreads(threads);
  // The runtime's ELF loader when profiling: it writes the perf map
  // ($UOE_PERF_MAP) that names the compiled loop nests in `perf report`.
  cpu::OrcLoader orc;
  rt::ElfObjectLoader elf;
  rt::ObjectLoader &loader = std::getenv("UOE_PERF_MAP")
                                 ? static_cast<rt::ObjectLoader &>(elf)
                                 : orc;
  auto program = rt::CpuProgram::load(*exe, loader);
  if (!program.ok())
    return fail(program.status().toString());
  if (rt::Status s = (*program)->bindParameters(
          "forward", std::move(weights->tensors));
      !s.ok())
    return fail(weightsPath + ": " + s.toString());

  std::vector<rt::HostTensor> inputs;
  inputs.push_back(std::move(*input));
  std::vector<double> times;
  std::vector<rt::HostTensor> last;
  for (int i = 0; i < warmup + iterations; ++i) {
    auto runStart = std::chrono::steady_clock::now();
    auto results = (*program)->run("forward", inputs);
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

  std::sort(times.begin(), times.end());
  double mean = std::accumulate(times.begin(), times.end(), 0.0) / times.size();
  llvm::outs() << llvm::formatv(
      "{{\"model\": \"{0}\", \"threads\": {1}, \"compile_ms\": {2:f1}, "
      "\"median_ms\": {3:f3}, \"min_ms\": {4:f3}, \"mean_ms\": {5:f3}, "
      "\"iterations\": {6}}\n",
      model->name(), rt::cpuThreads(), compileMs, times[times.size() / 2],
      times.front(), mean, times.size());
  return 0;
}
