//===- CommandLine.cpp - what uoe-run's commands share ------------------===//
//
// See CommandLine.h.
//
//===----------------------------------------------------------------------===//

#include "CommandLine.h"

#include "driver/CompileModel.h"
#include "runtime/CudaDriver.h"
#include "support/HostTensor.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>

namespace rt = ::uoe::rt;

std::optional<std::string> uoe::tools::parseCommandOptions(
    int argc, char **argv, const std::string &command,
    const std::set<std::string> &valueFlags,
    const std::set<std::string> &switchFlags,
    std::map<std::string, std::string> &values, std::set<std::string> *given) {
  OptionSpec spec;
  spec.tool = "uoe-run";
  spec.command = command;
  spec.values = valueFlags;
  spec.switches = switchFlags;
  ParsedOptions parsed;
  if (std::optional<std::string> error =
          parseOptions(argc, argv, 1, spec, parsed))
    return error;
  for (auto &[key, value] : parsed.values) {
    values[key] = value;
    if (given)
      given->insert(key);
  }
  return std::nullopt;
}

llvm::Expected<rt::proto::Executable> uoe::tools::obtainModelExecutable(
    const model::Model &model, const std::vector<int64_t> &shape,
    const mlir::uoe::CompileArtifacts &artifacts,
    const std::string &cacheDir) {
  using namespace mlir::uoe;
  int64_t batch = shape[0], seq = shape[1];
  const CompileTarget &target = artifacts.target;
  std::string what =
      (model.name().empty() ? "model" : model.name()) + " for " +
      rt::shapeToString(shape) +
      (target.isCuda() ? " on cuda " + target.cudaChip : "") +
      (artifacts.precision != "f32" ? " in " + artifacts.precision : "");
  return obtainExecutable(
      compileCacheKey(model, batch, seq, artifacts), cacheDir,
      [&] { return compileModel(model, batch, seq, artifacts); },
      {&llvm::errs(), "uoe-run", what});
}

llvm::Expected<std::string> uoe::tools::cudaChipFor(const std::string &target,
                                                    bool compileOnly) {
  auto error = [](const llvm::Twine &message) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
  };
  if (!target.empty()) {
    if (!mlir::uoe::CompileTarget::isCudaChip(target))
      return error("--target: '" + target +
                   "' is not an SM (sm_<N>, e.g. sm_80 or sm_90)");
    if (!compileOnly) {
      auto driver = rt::CudaDriver::load();
      if (!driver.ok())
        return error(driver.status().message());
    }
    return target;
  }
  auto devices = rt::listCudaDevices();
  if (devices.ok())
    return llvm::formatv("sm_{0}{1}", devices->front().computeMajor,
                         devices->front().computeMinor)
        .str();
  if (!compileOnly)
    return error(devices.status().message());
  llvm::errs() << "uoe-run: " << devices.status().message()
               << "; compiling for sm_90 (choose with --target sm_N)\n";
  return std::string("sm_90");
}
