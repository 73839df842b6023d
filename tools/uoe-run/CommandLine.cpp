//===- CommandLine.cpp - what uoe-run's commands share ------------------===//
//
// See CommandLine.h.
//
//===----------------------------------------------------------------------===//

#include "CommandLine.h"

#include "codegen/CompileModel.h"
#include "runtime/CudaDriver.h"
#include "runtime/Executable.h"
#include "runtime/HostTensor.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>

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

std::string uoe::tools::defaultCacheDir() {
  if (const char *xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg)
    return std::string(xdg) + "/uoe";
  if (const char *home = std::getenv("HOME"); home && *home)
    return std::string(home) + "/.cache/uoe";
  return "";
}

llvm::Expected<rt::proto::Executable> uoe::tools::obtainExecutable(
    const std::string &key, const std::string &cacheDir,
    const std::string &what,
    llvm::function_ref<llvm::Expected<rt::proto::Executable>()> compile) {
  if (!cacheDir.empty()) {
    auto cached = rt::loadCachedExecutable(cacheDir, key);
    if (cached.ok()) {
      llvm::errs() << "uoe-run: compiled-model cache hit ("
                   << rt::cachedExecutablePath(cacheDir, key) << ")\n";
      return std::move(*cached);
    }
    if (cached.status().code() != rt::StatusCode::NotFound)
      llvm::errs() << "uoe-run: ignoring the cache entry ("
                   << cached.status().toString() << ")\n";
  }
  // Compiling can take a while: say so before, not only after.
  llvm::errs() << "uoe-run: compiling " << what << " ...\n";
  auto start = std::chrono::steady_clock::now();
  auto exe = compile();
  if (!exe)
    return exe.takeError();
  double seconds = std::chrono::duration<double>(
                       std::chrono::steady_clock::now() - start)
                       .count();
  llvm::errs() << llvm::formatv("uoe-run: compiled {0} in {1:f2} s (cache "
                                "miss)\n",
                                what, seconds);
  if (!cacheDir.empty()) {
    rt::Status s = rt::storeCachedExecutable(cacheDir, *exe);
    if (!s.ok())
      llvm::errs() << "uoe-run: warning: cannot write the cache: "
                   << s.toString() << "\n";
  }
  return exe;
}

llvm::Expected<rt::proto::Executable> uoe::tools::obtainModelExecutable(
    const model::Model &model, const std::vector<int64_t> &shape,
    const mlir::uoe::CompileTarget &target, const std::string &cacheDir,
    bool gradients, bool timing) {
  using namespace mlir::uoe;
  int64_t batch = shape[0], seq = shape[1];
  std::string what = (model.name().empty() ? "model" : model.name()) +
                     " for " + rt::shapeToString(shape) +
                     (target.isCuda() ? " on cuda " + target.cudaChip : "");
  return obtainExecutable(
      compileCacheKey(model, batch, seq, gradients, target), cacheDir, what,
      [&]() -> llvm::Expected<rt::proto::Executable> {
        CompileArtifacts artifacts;
        artifacts.target = target;
        artifacts.gradients = gradients;
        artifacts.timing = timing;
        return compileModel(model, batch, seq, artifacts);
      });
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
