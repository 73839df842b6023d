//===- CompileModel.cpp - model description to Executable ----------------===//
//
// See CompileModel.h. Diagnostics of every stage are captured and returned
// as one error string, so that callers (a command line, an API) decide how
// to show them.
//
//===----------------------------------------------------------------------===//

#include "codegen/CompileModel.h"

#include "codegen/cpu/ObjectEmitter.h"
#include "passes/Passes.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/SHA256.h"
#include "llvm/Support/raw_ostream.h"

#include <google/protobuf/text_format.h>

using namespace mlir;
using namespace mlir::uoe;
namespace rtp = ::uoe::rt::proto;

std::string mlir::uoe::compileCacheKey(const model::Model &model,
                                       int64_t batch, int64_t seq) {
  std::string text;
  google::protobuf::TextFormat::PrintToString(model, &text);
  llvm::SHA256 hash;
  hash.update(text);
  hash.update(llvm::formatv("|{0}x{1}|{2}|{3}", batch, seq,
                            cpu::hostTargetDescription(), kCompilerVersion)
                  .str());
  return llvm::toHex(hash.final(), /*LowerCase=*/true);
}

static rtp::TensorSpec spec(const std::string &name,
                            ArrayRef<int64_t> shape) {
  rtp::TensorSpec s;
  s.set_name(name);
  s.set_dtype("f32");
  for (int64_t dim : shape)
    s.add_shape(dim);
  return s;
}

llvm::Expected<rtp::Executable>
mlir::uoe::compileModelForCpu(const model::Model &model, int64_t batch,
                              int64_t seq, const CompileArtifacts &artifacts) {
  DialectRegistry registry;
  registerAllDialects(registry);
  registerAllExtensions(registry);
  registry.insert<UoEDialect>();
  MLIRContext context(registry);
  context.loadAllAvailableDialects();

  std::string diagnostics;
  llvm::raw_string_ostream diagStream(diagnostics);
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diag) {
    diagStream << diag.getLocation() << ": " << diag << "\n";
    return success();
  });
  auto fail = [&](const llvm::Twine &what) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   what + (diagnostics.empty() ? "" : ":\n") +
                                       diagnostics);
  };

  auto module = importModel(context, model, batch, seq);
  if (!module)
    return module.takeError();

  PassManager pm(&context);
  if (failed(buildCpuPipeline(pm)) || failed(pm.run(**module)))
    return fail("the CPU pipeline failed");
  if (artifacts.loweredMlir) {
    llvm::raw_string_ostream os(*artifacts.loweredMlir);
    (*module)->print(os);
  }
  FailureOr<std::string> object = cpu::emitObject(**module, cpu::ObjectOptions{});
  if (failed(object))
    return fail("object code generation failed");

  rtp::Executable executable;
  executable.set_format_version(1);
  executable.set_target("cpu:" + cpu::hostTargetDescription());
  executable.set_cache_key(compileCacheKey(model, batch, seq));
  executable.set_model_name(model.name());
  executable.set_compiler(kCompilerVersion);
  rtp::Kernel *kernel = executable.add_kernels();
  kernel->set_name("forward");
  kernel->set_format(rtp::Kernel::CPU_OBJECT);
  kernel->set_code(*object);
  rtp::EntryPoint *entry = executable.add_entry_points();
  entry->set_name("forward");
  *entry->add_inputs() = spec("hidden", {batch, seq, model.d_model()});
  for (const ParamSpec &p : modelParameters(model))
    *entry->add_parameters() = spec(p.name, p.shape);
  *entry->add_results() = spec("hidden", {batch, seq, model.d_model()});
  auto *call = entry->add_steps()->mutable_call_packed();
  call->set_kernel("forward");
  call->set_symbol("uoe_packed_forward");
  return executable;
}
