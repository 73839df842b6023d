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

#include "mlir/Dialect/Func/IR/FuncOps.h"
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

/// The runtime's name of a tensor element type (runtime/DType.h), or an
/// empty string for types that cannot cross the entry point's boundary.
static std::string dtypeName(Type type) {
  if (type.isF32())
    return "f32";
  if (type.isF64())
    return "f64";
  if (type.isInteger(64))
    return "i64";
  if (type.isInteger(32))
    return "i32";
  return "";
}

/// The spec of one tensor of @forward's signature named `name`.
static FailureOr<rtp::TensorSpec> spec(const std::string &name, Type type) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor || !tensor.hasStaticShape())
    return failure();
  std::string dtype = dtypeName(tensor.getElementType());
  if (dtype.empty())
    return failure();
  rtp::TensorSpec s;
  s.set_name(name);
  s.set_dtype(dtype);
  for (int64_t dim : tensor.getShape())
    s.add_shape(dim);
  return s;
}

/// Fills the inputs, parameters and results of `entry` from the signature of
/// the imported function `forward`: arguments named by `uoe.input` and
/// `uoe.param`, results by `uoe.result` (ModelImporter.h), in order.
static LogicalResult describeEntryPoint(func::FuncOp forward,
                                        rtp::EntryPoint &entry) {
  FunctionType type = forward.getFunctionType();
  for (unsigned i = 0; i < type.getNumInputs(); ++i) {
    bool isInput = false;
    auto name = forward.getArgAttrOfType<StringAttr>(i, "uoe.input");
    if (name)
      isInput = true;
    else
      name = forward.getArgAttrOfType<StringAttr>(i, "uoe.param");
    if (!name)
      return forward.emitError()
             << "argument #" << i << " has neither uoe.input nor uoe.param";
    FailureOr<rtp::TensorSpec> s = spec(name.str(), type.getInput(i));
    if (failed(s))
      return forward.emitError()
             << "argument '" << name.getValue() << "' has an unsupported type "
             << type.getInput(i);
    *(isInput ? entry.add_inputs() : entry.add_parameters()) = *s;
  }
  for (unsigned i = 0; i < type.getNumResults(); ++i) {
    auto name = forward.getResultAttrOfType<StringAttr>(i, "uoe.result");
    FailureOr<rtp::TensorSpec> s = spec(
        name ? name.str() : "result" + std::to_string(i), type.getResult(i));
    if (failed(s))
      return forward.emitError()
             << "result #" << i << " has an unsupported type "
             << type.getResult(i);
    *entry.add_results() = *s;
  }
  return success();
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
    return fail(llvm::toString(module.takeError()));

  // The entry point's signature is the imported function's, before the
  // pipeline lowers it to the LLVM dialect.
  rtp::EntryPoint entryPoint;
  entryPoint.set_name("forward");
  auto forward = (*module)->lookupSymbol<func::FuncOp>("forward");
  if (!forward || failed(describeEntryPoint(forward, entryPoint)))
    return fail("internal error: the imported @forward has no valid signature");

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
  *entry = std::move(entryPoint);
  auto *call = entry->add_steps()->mutable_call_packed();
  call->set_kernel("forward");
  call->set_symbol("uoe_packed_forward");
  return executable;
}
