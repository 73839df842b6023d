//===- CpuCompilation.cpp - one compilation for the CPU ------------------===//
//
// See CpuCompilation.h.
//
//===----------------------------------------------------------------------===//

#include "codegen/CpuCompilation.h"

#include "codegen/CompileModel.h"
#include "codegen/cpu/ObjectEmitter.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlir::uoe;
namespace rtp = ::uoe::rt::proto;

/// The name of the one kernel holding every entry point's code.
static constexpr const char *kKernelName = "module";

static DialectRegistry compilerDialects() {
  DialectRegistry registry;
  registerAllDialects(registry);
  registerAllExtensions(registry);
  registry.insert<UoEDialect>();
  return registry;
}

CpuCompilation::CpuCompilation()
    : context(compilerDialects()),
      handler(&context, [this](Diagnostic &diag) {
        llvm::raw_string_ostream os(diagnostics);
        os << diag.getLocation() << ": " << diag << "\n";
        return success();
      }) {
  context.loadAllAvailableDialects();
}

llvm::Error CpuCompilation::fail(const llvm::Twine &what) const {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 what + (diagnostics.empty() ? "" : ":\n") +
                                     diagnostics);
}

/// The runtime's dtype name of `type`'s elements if it is a static-shaped
/// tensor that can cross the boundary, else an empty string.
static std::string boundaryDType(Type type) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor || !tensor.hasStaticShape())
    return "";
  Type element = tensor.getElementType();
  if (element.isF32())
    return "f32";
  if (element.isF64())
    return "f64";
  if (element.isInteger(64))
    return "i64";
  if (element.isInteger(32))
    return "i32";
  return "";
}

static LogicalResult fillSpec(func::FuncOp func, const char *what, unsigned i,
                              const std::string &name, Type type,
                              rtp::TensorSpec &spec) {
  std::string dtype = boundaryDType(type);
  if (dtype.empty())
    return func.emitError() << what << " #" << i << " ('" << name
                            << "') has type " << type
                            << "; entry points take and return static-shaped "
                               "tensors of f32, f64, i64 or i32";
  spec.set_name(name);
  spec.set_dtype(dtype);
  for (int64_t dim : cast<RankedTensorType>(type).getShape())
    spec.add_shape(dim);
  return success();
}

/// The entry point of `func` (see compileMlirForCpu for the conventions).
static LogicalResult describe(func::FuncOp func, rtp::EntryPoint &entry) {
  FunctionType type = func.getFunctionType();
  entry.set_name(func.getSymName().str());
  int firstParam = -1;
  for (unsigned i = 0; i < type.getNumInputs(); ++i) {
    auto param = func.getArgAttrOfType<StringAttr>(i, "uoe.param");
    if (param) {
      if (firstParam < 0)
        firstParam = i;
      if (failed(fillSpec(func, "argument", i, param.str(), type.getInput(i),
                          *entry.add_parameters())))
        return failure();
      continue;
    }
    if (firstParam >= 0)
      return func.emitError()
             << "argument #" << i << " is an input after parameter #"
             << firstParam << "; inputs must come before every uoe.param";
    auto input = func.getArgAttrOfType<StringAttr>(i, "uoe.input");
    std::string name = input ? input.str() : "arg" + std::to_string(i);
    if (failed(fillSpec(func, "argument", i, name, type.getInput(i),
                        *entry.add_inputs())))
      return failure();
  }
  for (unsigned i = 0; i < type.getNumResults(); ++i) {
    auto name = func.getResultAttrOfType<StringAttr>(i, "uoe.result");
    rtp::TensorSpec &spec = *entry.add_results();
    if (failed(fillSpec(func, "result", i,
                        name ? name.str() : "result" + std::to_string(i),
                        type.getResult(i), spec)))
      return failure();
    if (auto updates = func.getResultAttrOfType<StringAttr>(i, "uoe.updates"))
      spec.set_updates(updates.str());
  }
  return success();
}

llvm::Expected<rtp::Executable>
CpuCompilation::compile(ModuleOp module, std::string *loweredMlir) {
  rtp::Executable executable;
  bool signaturesOk = true;
  for (auto func : module.getOps<func::FuncOp>()) {
    if (!func.isPublic() || func.isExternal() ||
        !func->hasAttr("llvm.emit_c_interface"))
      continue;
    rtp::EntryPoint *entry = executable.add_entry_points();
    signaturesOk &= succeeded(describe(func, *entry));
    auto *call = entry->add_steps()->mutable_call_packed();
    call->set_kernel(kKernelName);
    call->set_symbol(std::string(cpu::kPackedPrefix) + func.getSymName().str());
  }
  if (!signaturesOk)
    return fail("unsupported entry point signature");
  if (executable.entry_points_size() == 0)
    return fail("the module has no entry point (a public func.func with "
                "llvm.emit_c_interface)");

  PassManager pm(&context);
  if (failed(buildCpuPipeline(pm)) || failed(pm.run(module)))
    return fail("the CPU pipeline failed");
  if (loweredMlir) {
    llvm::raw_string_ostream os(*loweredMlir);
    module.print(os);
  }
  FailureOr<std::string> object = cpu::emitObject(module, cpu::ObjectOptions{});
  if (failed(object))
    return fail("object code generation failed");

  executable.set_format_version(1);
  executable.set_target("cpu:" + cpu::hostTargetDescription());
  executable.set_compiler(compilerIdentity());
  rtp::Kernel *kernel = executable.add_kernels();
  kernel->set_name(kKernelName);
  kernel->set_format(rtp::Kernel::CPU_OBJECT);
  kernel->set_code(*object);
  return executable;
}
