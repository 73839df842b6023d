//===- CompileModel.cpp - model description to Executable ----------------===//
//
// See CompileModel.h. Diagnostics of every stage are captured and returned
// as one error string, so that callers (a command line, an API) decide how
// to show them.
//
//===----------------------------------------------------------------------===//

#include "driver/CompileModel.h"

#include "driver/Compilation.h"
#include "codegen/cpu/ObjectEmitter.h"
#include "passes/Passes.h"

#include "mlir/Pass/PassManager.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/SHA256.h"
#include "llvm/Support/raw_ostream.h"

#include <google/protobuf/text_format.h>

using namespace mlir;
using namespace mlir::uoe;
namespace rtp = ::uoe::rt::proto;

std::string mlir::uoe::compileCacheKey(const model::Model &model,
                                       int64_t batch, int64_t seq,
                                       const CompileArtifacts &artifacts) {
  const CompileTarget &target = artifacts.target;
  std::string text;
  google::protobuf::TextFormat::PrintToString(model, &text);
  llvm::SHA256 hash;
  hash.update(text);
  hash.update(llvm::formatv("|{0}x{1}|{2}|{3}", batch, seq,
                            cpu::hostTargetDescription(), compilerIdentity())
                  .str());
  if (artifacts.gradients)
    hash.update("|forward_grad");
  if (artifacts.decoding)
    hash.update("|decoding");
  if (target.isCuda())
    hash.update("|" + target.cudaTargetDescription());
  if (target.gpuEmulation)
    hash.update("|gpu-emulation");
  if (artifacts.precision != "f32")
    hash.update("|precision=" + artifacts.precision);
  return llvm::toHex(hash.final(), /*LowerCase=*/true);
}

llvm::Expected<rtp::Executable>
mlir::uoe::compileModel(const model::Model &model, int64_t batch,
                              int64_t seq, const CompileArtifacts &artifacts) {
  Compilation compilation;
  if (artifacts.timing)
    compilation.enableTiming();
  TimingScope importScope = compilation.timingScope().nest("import");
  // Blocks become functions called per layer on the CPU (compile time
  // linear in the blocks); autodiff and the GPU pipeline take them inline.
  bool outline = !artifacts.gradients && !artifacts.target.isCuda() &&
                 !artifacts.target.gpuEmulation;
  if (artifacts.decoding && !outline)
    return compilation.fail("decoding with a key/value cache is compiled "
                            "for the host CPU, without gradients");
  auto module =
      artifacts.decoding
          ? importDecoder(compilation.getContext(), model, batch, seq)
          : importModel(compilation.getContext(), model, batch, seq, outline);
  importScope.stop();
  if (!module)
    return compilation.fail(llvm::toString(module.takeError()));
  if (artifacts.gradients) {
    PassManager pm(&compilation.getContext());
    pm.addPass(createUoEAutodiffPass());
    if (failed(pm.run(**module)))
      return compilation.fail("could not differentiate the model");
  }
  auto executable = compilation.compile(**module, artifacts);
  if (!executable)
    return executable.takeError();
  executable->set_cache_key(
      compileCacheKey(model, batch, seq, artifacts));
  executable->set_model_name(model.name());
  return executable;
}
