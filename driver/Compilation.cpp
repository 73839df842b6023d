//===- Compilation.cpp - one compilation for the CPU or a GPU ------------===//
//
// See Compilation.h.
//
//===----------------------------------------------------------------------===//

#include "driver/Compilation.h"

#include "driver/CompileModel.h"
#include "codegen/cpu/ObjectEmitter.h"
#include "codegen/gpu/CudaToolkit.h"
#include "formats/Executable.h"
#include "passes/Passes.h"

#include "mlir/Interfaces/FunctionInterfaces.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlir::uoe;
namespace rtp = ::uoe::rt::proto;

static DialectRegistry compilerDialects() {
  DialectRegistry registry;
  registerAllDialects(registry);
  registerAllExtensions(registry);
  registry.insert<UoEDialect>();
  registerPipelineDependencies(registry);
  return registry;
}

Compilation::Compilation()
    : context(compilerDialects()),
      handler(&context, [this](Diagnostic &diag) {
        llvm::raw_string_ostream os(diagnostics);
        os << diag.getLocation() << ": " << diag << "\n";
        return success();
      }) {
  context.loadAllAvailableDialects();
}

void Compilation::enableTiming() {
  timing = std::make_unique<DefaultTimingManager>();
  timing->setEnabled(true);
}

TimingScope Compilation::timingScope() {
  return timing ? timing->getRootScope() : TimingScope();
}

llvm::Error Compilation::fail(const llvm::Twine &what) const {
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

/// The entry point of `func` (see compileMlir for the conventions).
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
    rtp::TensorSpec &spec = *entry.add_inputs();
    if (failed(fillSpec(func, "argument", i, name, type.getInput(i), spec)))
      return failure();
    if (auto bound = func.getArgAttrOfType<IntegerAttr>(i, "uoe.index_bound"))
      spec.set_index_bound(bound.getInt());
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

/// Removes the `uoe.*` argument and result attributes (`uoe.param`,
/// `uoe.input`, ...) of every function in `module`.
static void dropUoEAttributes(ModuleOp module) {
  auto strip = [](DictionaryAttr attrs) -> DictionaryAttr {
    if (!attrs)
      return attrs;
    SmallVector<NamedAttribute> kept;
    for (NamedAttribute a : attrs)
      if (!a.getName().getValue().starts_with("uoe."))
        kept.push_back(a);
    return DictionaryAttr::get(attrs.getContext(), kept);
  };
  module.walk([&](FunctionOpInterface function) {
    for (unsigned i = 0; i < function.getNumArguments(); ++i)
      function.setArgAttrs(i, strip(function.getArgAttrDict(i)));
    for (unsigned i = 0; i < function.getNumResults(); ++i)
      function.setResultAttrs(i, strip(function.getResultAttrDict(i)));
  });
}

llvm::Expected<rtp::Executable>
Compilation::compile(ModuleOp module, const CompileArtifacts &artifacts) {
  const CompileTarget &target = artifacts.target;
  llvm::StringRef precision = artifacts.precision;
  std::string *ptx = artifacts.ptx, *loweredMlir = artifacts.loweredMlir;
  if (!isCpuGemmPrecision(precision))
    return fail("unknown precision '" + precision + "' (f32 or bf16)");
  if (precision == "bf16" && (target.isCuda() || target.gpuEmulation))
    return fail("precision bf16 is for the host CPU; GPU code computes its "
                "GEMMs in f32");
  rtp::Executable executable;
  bool signaturesOk = true;
  for (auto func : module.getOps<func::FuncOp>()) {
    if (!func.isPublic() || func.isExternal() ||
        !func->hasAttr("llvm.emit_c_interface"))
      continue;
    rtp::EntryPoint *entry = executable.add_entry_points();
    signaturesOk &= succeeded(describe(func, *entry));
    entry->set_symbol(std::string(cpu::kPackedPrefix) +
                      func.getSymName().str());
  }
  if (!signaturesOk)
    return fail("unsupported entry point signature");
  if (executable.entry_points_size() == 0)
    return fail("the module has no entry point (a public func.func with "
                "llvm.emit_c_interface)");

  PassManager pm(&context);
  TimingScope root = timingScope();
  if (timing)
    pm.enableTiming(root);
  cpu::ObjectOptions objectOptions;
  if (target.isCuda()) {
    GpuPipelineOptions options;
    options.chip = target.cudaChip;
    options.toolkitPath = cuda::toolkitPath();
    // Cubins when the toolkit has ptxas; else PTX, which the driver
    // compiles when it loads the module.
    options.fatbin = !ptx && cuda::hasPtxas(options.toolkitPath);
    if (!CompileTarget::isCudaChip(options.chip))
      return fail("unknown CUDA target '" + options.chip +
                  "' (expected sm_<N>, e.g. sm_80 or sm_90)");
    if (failed(buildGpuPipeline(pm, options)) || failed(pm.run(module)))
      return fail("the GPU pipeline failed");
    if (!options.fatbin) {
      std::string listing = cuda::kernelsPtx(module);
      if (options.toolkitPath.empty() && cuda::callsLibdevice(listing))
        return fail("the kernels call CUDA's libdevice (__nv_* math "
                    "functions), but no CUDA toolkit with "
                    "nvvm/libdevice/libdevice.10.bc was found (looked at "
                    "$CUDA_ROOT, $CUDA_HOME, $CUDA_PATH, /usr/local/cuda)");
      if (ptx)
        *ptx = std::move(listing);
    }
    // The host code only launches kernels: portable x86-64 code, so that an
    // Executable compiled here runs on any GPU machine.
    objectOptions.cpu = "x86-64";
  } else if (target.gpuEmulation) {
    if (failed(buildGpuEmulationPipeline(pm)) || failed(pm.run(module)))
      return fail("the GPU emulation pipeline failed");
  } else if (failed(buildCpuPipeline(pm, precision)) ||
             failed(pm.run(module))) {
    return fail("the CPU pipeline failed");
  }
  if (loweredMlir) {
    llvm::raw_string_ostream os(*loweredMlir);
    module.print(os);
  }
  // The entry points are described: our argument and result attributes
  // have served. LLVM's translation would report each one it does not know
  // as a diagnostic that prints the whole function, which for a deep model
  // (hundreds of parameters) took longer than compiling it.
  dropUoEAttributes(module);
  TimingScope llvmScope = root.nest("LLVM: optimise and emit the object");
  FailureOr<std::string> object = cpu::emitObject(module, objectOptions);
  llvmScope.stop();
  if (failed(object))
    return fail("object code generation failed");

  executable.set_format_version(::uoe::rt::kFormatVersion);
  executable.set_target(target.isCuda()
                            ? target.cudaTargetDescription()
                            : "cpu:" + cpu::hostTargetDescription());
  executable.set_compiler(compilerIdentity());
  executable.set_object(std::move(*object));
  return executable;
}
