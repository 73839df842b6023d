//===- uoe-exec.cpp - run a saved Executable, without the compiler -------===//
//
//   uoe-exec --executable M.uoex --weights W.safetensors --input X.npy
//            [--input MASK.npy ...] --output Y.npy [--device cpu|cuda|cuda:N]
//            [--entry forward] [--threads N]
//   uoe-exec --executable M.uoex --info
//
// The runtime's own command line: it links no LLVM or MLIR, so it is built
// by the runtime-only tree (-DUOE_BUILD_COMPILER=OFF) as well, for machines
// that only run models compiled elsewhere (`uoe-run infer ... --emit=
// executable -o M.uoex`, with `--device cuda --target sm_N` for a GPU
// machine). Object code is linked by the runtime's ELF loader. The inputs
// are the entry point's, in order, with their exact dtypes and shapes
// (`--info` lists them); the first result is written to --output.
//
//===----------------------------------------------------------------------===//

#include "runtime/Checkpoint.h"
#include "runtime/CpuBlas.h"
#include "runtime/ElfObjectLoader.h"
#include "runtime/Executable.h"
#include "runtime/Npy.h"
#include "runtime/Program.h"
#include "runtime/Safetensors.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

using namespace uoe;

namespace {

constexpr const char *kUsage =
    "usage: uoe-exec --executable M.uoex --weights W.safetensors --input X.npy\n"
    "                [--input MORE.npy ...] --output Y.npy [--device cpu|cuda|cuda:N]\n"
    "                [--entry forward] [--threads N]\n"
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
    for (const auto &spec : entry.results())
      std::printf("  result %s\n", specText(spec).c_str());
  }
}

} // namespace

int main(int argc, char **argv) {
  std::map<std::string, std::string> values;
  std::vector<std::string> inputs;
  bool info = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (arg == "--info") {
      info = true;
      continue;
    }
    std::string key = arg, value;
    if (size_t eq = arg.find('='); arg.rfind("--", 0) == 0 &&
                                   eq != std::string::npos) {
      key = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      return fail("'" + arg + "' needs a value\n" + kUsage);
    }
    if (key == "--input")
      inputs.push_back(value);
    else if (key == "--executable" || key == "--weights" ||
             key == "--output" || key == "--device" || key == "--entry" ||
             key == "--threads")
      values[key.substr(2)] = value;
    else
      return fail("unknown option '" + key + "'\n" + kUsage);
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
  if (!values.count("weights") || !values.count("output") || inputs.empty())
    return fail(std::string("--weights, --input and --output are required\n") +
                kUsage);
  std::string entry = values.count("entry") ? values["entry"] : "forward";
  std::string device = values.count("device") ? values["device"] : "cpu";
  if (values.count("threads"))
    rt::setCpuThreads(std::atoi(values["threads"].c_str()));

  auto weights = rt::readSafetensors(values["weights"]);
  if (!weights.ok())
    return fail(weights.status().toString());
  for (auto it = weights->tensors.begin(); it != weights->tensors.end();)
    it = rt::isOptimizerTensorName(it->first) ? weights->tensors.erase(it)
                                              : std::next(it);
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
  if (rt::Status s = (*program)->bindParameters(entry, std::move(weights->tensors));
      !s.ok())
    return fail(values["weights"] + ": " + s.toString());
  auto start = std::chrono::steady_clock::now();
  auto results = (*program)->run(entry, tensors);
  if (!results.ok())
    return fail(results.status().toString());
  double ms = std::chrono::duration<double, std::milli>(
                  std::chrono::steady_clock::now() - start)
                  .count();
  if (rt::Status s = rt::writeNpy(values["output"], results->front()); !s.ok())
    return fail(s.toString());
  std::fprintf(stderr, "uoe-exec: %s ran on %s in %.2f ms; wrote %s %s\n",
               entry.c_str(), device.c_str(), ms, values["output"].c_str(),
               rt::shapeToString(results->front().shape()).c_str());
  return 0;
}
