//===- ObjectEmitter.cpp - LLVM dialect to host object code ---------------===//
//
// See ObjectEmitter.h for the contract. The steps, each of which reports
// failure as a diagnostic on the module rather than aborting:
//
//   1. check that only LLVM-dialect (and builtin) operations are left, so
//      that a module lowered halfway gets a message that says so;
//   2. translate to LLVM IR with the builtin and LLVM dialect translations;
//   3. pick the target (host CPU and features unless told otherwise), set
//      the triple and data layout, add the packed entry points;
//   4. run LLVM's default per-module pipeline (new pass manager) at the
//      requested level, with the target's cost model so that loops are
//      vectorised for its vector width (AVX-512 on Zen 4);
//   5. run the code generator into an in-memory ELF object.
//
// LLVM reports some problems through the LLVMContext's diagnostic handler,
// whose default prints them and exits the process on errors; we install one
// that turns them into MLIR diagnostics instead.
//
//===----------------------------------------------------------------------===//

#include "codegen/cpu/ObjectEmitter.h"

#include "runtime/ObjectLoader.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Target/LLVMIR/Dialect/GPU/GPUToLLVMIRTranslation.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/OpenMP/OpenMPDialect.h"
#include "mlir/IR/BuiltinDialect.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/OpenMP/OpenMPToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/IR/DiagnosticInfo.h"
#include "llvm/IR/DiagnosticPrinter.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/IR/Verifier.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Support/xxhash.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/Triple.h"

#include <algorithm>
#include <memory>

using namespace mlir;
using namespace mlir::uoe;
using cpu::ObjectOptions;

static constexpr llvm::StringLiteral kCifacePrefix = "_mlir_ciface_";

/// Registers the host target with LLVM once per process.
static void initializeNativeTarget() {
  static const bool initialized = [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    return true;
  }();
  (void)initialized;
}

/// The host's CPU features in LLVM's form ("+avx2,+avx512f,-amx-tile,..."),
/// sorted by name so that equal feature sets give equal strings.
static std::string hostFeatureString() {
  llvm::StringMap<bool> features = llvm::sys::getHostCPUFeatures();
  std::vector<std::string> parts;
  parts.reserve(features.size());
  for (const auto &feature : features)
    parts.push_back((feature.getValue() ? "+" : "-") + feature.getKey().str());
  std::sort(parts.begin(), parts.end(), [](const auto &a, const auto &b) {
    return llvm::StringRef(a).drop_front() < llvm::StringRef(b).drop_front();
  });
  return llvm::join(parts, ",");
}

std::string cpu::hostTargetDescription() {
  uint64_t digest = llvm::xxh3_64bits(hostFeatureString());
  std::string text;
  llvm::raw_string_ostream os(text);
  os << llvm::sys::getProcessTriple() << ":" << llvm::sys::getHostCPUName()
     << ":" << llvm::format_hex_no_prefix(digest, 16);
  return text;
}

namespace {

/// Collects the LLVMContext's diagnostics: errors are kept to be reported
/// on the module, warnings go out as MLIR warnings right away, remarks are
/// dropped (the handler respects the remark filters, which are off).
struct LLVMDiagnostics {
  Location loc;
  SmallVector<std::string> errors;

  explicit LLVMDiagnostics(Location loc) : loc(loc) {}

  static void handle(const llvm::DiagnosticInfo *info, void *context) {
    auto *self = static_cast<LLVMDiagnostics *>(context);
    std::string message;
    llvm::raw_string_ostream os(message);
    llvm::DiagnosticPrinterRawOStream printer(os);
    info->print(printer);
    switch (info->getSeverity()) {
    case llvm::DS_Error:
      self->errors.push_back(std::move(message));
      break;
    case llvm::DS_Warning:
      emitWarning(self->loc) << "LLVM: " << message;
      break;
    default:
      break;
    }
  }

  /// Emits the collected errors, if any, after `stage` and clears them.
  LogicalResult check(llvm::StringRef stage) {
    if (errors.empty())
      return success();
    InFlightDiagnostic diag = emitError(loc) << stage << " failed";
    for (const std::string &error : errors)
      diag.attachNote() << error;
    errors.clear();
    return failure();
  }
};

/// What to generate code for, resolved from ObjectOptions.
struct TargetChoice {
  llvm::Triple triple;
  std::string cpu;
  std::string features;
};

} // namespace

/// Step 1: points at the first operation that is neither builtin nor LLVM.
static LogicalResult checkFullyLowered(ModuleOp module) {
  Operation *offending = nullptr;
  module.walk<WalkOrder::PreOrder>([&](Operation *op) {
    Dialect *dialect = op->getDialect();
    // OpenMP regions (parallel loops) translate with their bodies.
    if (isa_and_nonnull<LLVM::LLVMDialect, BuiltinDialect, omp::OpenMPDialect>(
            dialect))
      return WalkResult::advance();
    // The GPU pipeline's kernels (a gpu.binary) and their launches
    // translate to the module's constants and runtime calls.
    if (isa<gpu::BinaryOp, gpu::LaunchFuncOp>(op))
      return WalkResult::skip();
    offending = op;
    return WalkResult::interrupt();
  });
  if (!offending)
    return success();
  return offending->emitOpError()
         << "is not in the LLVM dialect; the CPU back end needs a module "
            "lowered completely to the LLVM dialect (e.g. by the CPU "
            "pipeline)";
}

/// Resolves and validates the CPU and features of `options`.
static FailureOr<TargetChoice> chooseTarget(ModuleOp module,
                                            const ObjectOptions &options,
                                            const llvm::Target *&target) {
  TargetChoice choice;
  choice.triple = llvm::Triple(llvm::sys::getProcessTriple());
  std::string error;
  target = llvm::TargetRegistry::lookupTarget(choice.triple, error);
  if (!target)
    return module.emitError() << "no LLVM target for the host triple '"
                              << choice.triple.str() << "': " << error;

  // A module that names another target (e.g. an NVPTX module) is not ours.
  if (auto attr = module->getAttrOfType<StringAttr>(
          LLVM::LLVMDialect::getTargetTripleAttrName())) {
    llvm::Triple requested(attr.getValue());
    if (!requested.isCompatibleWith(choice.triple))
      return module.emitError()
             << "the module targets '" << attr.getValue()
             << "' but the CPU back end generates code for the host, '"
             << choice.triple.str() << "'";
  }

  bool host = options.cpu.empty() || options.cpu == "host";
  choice.cpu = host ? llvm::sys::getHostCPUName().str() : options.cpu;
  std::string features = host ? hostFeatureString() : std::string();
  if (!options.features.empty())
    features += (features.empty() ? "" : ",") + options.features;
  choice.features = features;

  // LLVM only warns on stderr about unknown CPUs and features and then
  // ignores them; make them errors instead.
  std::unique_ptr<llvm::MCSubtargetInfo> info(
      target->createMCSubtargetInfo(choice.triple, "", ""));
  if (!info)
    return module.emitError() << "the target '" << choice.triple.str()
                              << "' has no subtarget information";
  if (!info->isCPUStringValid(choice.cpu))
    return module.emitError()
           << "unknown CPU '" << choice.cpu << "' for the target '"
           << choice.triple.str() << "'";
  llvm::ArrayRef<llvm::SubtargetFeatureKV> known =
      info->getAllProcessorFeatures();
  SmallVector<llvm::StringRef> requested;
  llvm::StringRef(options.features)
      .split(requested, ',', /*MaxSplit=*/-1, /*KeepEmpty=*/false);
  for (llvm::StringRef feature : requested) {
    feature = feature.trim();
    if (!feature.consume_front("+") && !feature.consume_front("-"))
      return module.emitError()
             << "feature '" << feature
             << "' must start with '+' (enable) or '-' (disable)";
    bool isKnown = llvm::any_of(known, [&](const llvm::SubtargetFeatureKV &kv) {
      return feature == kv.Key;
    });
    if (!isKnown)
      return module.emitError()
             << "unknown CPU feature '" << feature << "' for the target '"
             << choice.triple.str() << "'";
  }
  return choice;
}

/// Adds `uoe_packed_<name>(void **args)` for every defined
/// `_mlir_ciface_<name>`: loads argument i from *args[i], calls, and stores
/// a returned value to *args[n]. The module's data layout must be set.
static LogicalResult addPackedEntryPoints(llvm::Module &llvmModule,
                                          ModuleOp module) {
  SmallVector<llvm::Function *> cifaces;
  for (llvm::Function &function : llvmModule)
    if (!function.isDeclaration() &&
        function.getName().starts_with(kCifacePrefix))
      cifaces.push_back(&function);

  llvm::LLVMContext &context = llvmModule.getContext();
  llvm::PointerType *ptrType = llvm::PointerType::getUnqual(context);
  llvm::FunctionType *packedType = llvm::FunctionType::get(
      llvm::Type::getVoidTy(context), {ptrType}, /*isVarArg=*/false);
  for (llvm::Function *ciface : cifaces) {
    std::string name = (cpu::kPackedPrefix +
                        ciface->getName().drop_front(kCifacePrefix.size()))
                           .str();
    if (llvmModule.getNamedValue(name))
      return module.emitError()
             << "cannot add the packed entry point '" << name
             << "': the module already has a symbol of that name";
    llvm::Function *packed = llvm::Function::Create(
        packedType, llvm::GlobalValue::ExternalLinkage, name, llvmModule);
    llvm::Argument *args = packed->getArg(0);
    args->setName("args");

    llvm::IRBuilder<> builder(
        llvm::BasicBlock::Create(context, "entry", packed));
    SmallVector<llvm::Value *> operands;
    for (llvm::Argument &parameter : ciface->args()) {
      llvm::Value *slot =
          builder.CreateConstGEP1_64(ptrType, args, parameter.getArgNo());
      llvm::Value *address = builder.CreateLoad(ptrType, slot);
      operands.push_back(builder.CreateLoad(parameter.getType(), address));
    }
    llvm::CallInst *call = builder.CreateCall(ciface, operands);
    if (!call->getType()->isVoidTy()) {
      llvm::Value *slot =
          builder.CreateConstGEP1_64(ptrType, args, ciface->arg_size());
      builder.CreateStore(call, builder.CreateLoad(ptrType, slot));
    }
    builder.CreateRetVoid();
  }
  return success();
}

/// Replaces the module's `llvm.global_ctors` / `llvm.global_dtors` (the GPU
/// pipeline's kernel-module loading and unloading) by one exported
/// function each, `initSymbol` and `finiSymbol` of runtime/ObjectLoader.h,
/// that calls them in priority order. The runtime calls those after loading
/// and before unloading the object, whichever loader linked it: loaders
/// need not know about initializer sections.
static LogicalResult exportInitializers(llvm::Module &llvmModule,
                                        ModuleOp module) {
  llvm::LLVMContext &context = llvmModule.getContext();
  for (auto [array, exported] :
       {std::pair<const char *, const char *>{"llvm.global_ctors",
                                              ::uoe::rt::kObjectInitSymbol},
        {"llvm.global_dtors", ::uoe::rt::kObjectFiniSymbol}}) {
    llvm::GlobalVariable *list = llvmModule.getNamedGlobal(array);
    if (!list)
      continue;
    if (llvmModule.getNamedValue(exported))
      return module.emitError() << "cannot export the initializers as '"
                                << exported
                                << "': the module already has that symbol";
    SmallVector<std::pair<uint64_t, llvm::Function *>> calls;
    if (auto *entries =
            dyn_cast_or_null<llvm::ConstantArray>(list->getInitializer())) {
      for (llvm::Value *entry : entries->operands()) {
        auto *fields = dyn_cast<llvm::ConstantStruct>(entry);
        if (!fields || fields->getNumOperands() < 2)
          return module.emitError() << "malformed " << array;
        auto *priority = dyn_cast<llvm::ConstantInt>(fields->getOperand(0));
        auto *function = dyn_cast<llvm::Function>(fields->getOperand(1));
        if (!priority || !function)
          return module.emitError() << "malformed " << array;
        calls.emplace_back(priority->getZExtValue(), function);
      }
    }
    llvm::stable_sort(calls, llvm::less_first());
    list->eraseFromParent();
    llvm::Function *function = llvm::Function::Create(
        llvm::FunctionType::get(llvm::Type::getVoidTy(context), false),
        llvm::GlobalValue::ExternalLinkage, exported, llvmModule);
    llvm::IRBuilder<> builder(
        llvm::BasicBlock::Create(context, "entry", function));
    for (auto &[priority, callee] : calls)
      builder.CreateCall(callee);
    builder.CreateRetVoid();
  }
  return success();
}

/// Step 4: LLVM's default -O<level> pipeline with the target's cost model.
static void optimize(llvm::Module &llvmModule, llvm::TargetMachine &machine,
                     unsigned optLevel) {
  // Declared in this order so that they are destroyed in the reverse one.
  llvm::LoopAnalysisManager loopAnalyses;
  llvm::FunctionAnalysisManager functionAnalyses;
  llvm::CGSCCAnalysisManager cgsccAnalyses;
  llvm::ModuleAnalysisManager moduleAnalyses;

  llvm::PipelineTuningOptions tuning;
  tuning.LoopInterleaving = optLevel >= 2;
  tuning.LoopVectorization = optLevel >= 2;
  tuning.SLPVectorization = optLevel >= 2;
  llvm::PassBuilder passBuilder(&machine, tuning);
  passBuilder.registerModuleAnalyses(moduleAnalyses);
  passBuilder.registerCGSCCAnalyses(cgsccAnalyses);
  passBuilder.registerFunctionAnalyses(functionAnalyses);
  passBuilder.registerLoopAnalyses(loopAnalyses);
  passBuilder.crossRegisterProxies(loopAnalyses, functionAnalyses,
                                   cgsccAnalyses, moduleAnalyses);

  static const llvm::OptimizationLevel levels[] = {
      llvm::OptimizationLevel::O0, llvm::OptimizationLevel::O1,
      llvm::OptimizationLevel::O2, llvm::OptimizationLevel::O3};
  llvm::OptimizationLevel level = levels[optLevel];
  llvm::ModulePassManager passes =
      optLevel == 0 ? passBuilder.buildO0DefaultPipeline(level)
                    : passBuilder.buildPerModuleDefaultPipeline(level);
  passes.run(llvmModule, moduleAnalyses);
}

FailureOr<std::string> cpu::emitObject(ModuleOp module,
                                       const ObjectOptions &options,
                                       std::string *optimizedIr) {
  if (options.optLevel > 3)
    return module.emitError() << "optimisation level " << options.optLevel
                              << " is out of range; expected 0 to 3";
  if (failed(checkFullyLowered(module)))
    return failure();

  initializeNativeTarget();
  const llvm::Target *target = nullptr;
  FailureOr<TargetChoice> choice = chooseTarget(module, options, target);
  if (failed(choice))
    return failure();

  // Step 2: translation. Its errors are MLIR diagnostics already.
  MLIRContext *context = module.getContext();
  registerBuiltinDialectTranslation(*context);
  registerLLVMDialectTranslation(*context);
  registerOpenMPDialectTranslation(*context);
  registerGPUDialectTranslation(*context);
  DialectRegistry offloading;
  gpu::registerOffloadingLLVMTranslationInterfaceExternalModels(offloading);
  context->appendDialectRegistry(offloading);
  llvm::LLVMContext llvmContext;
  LLVMDiagnostics diagnostics(module.getLoc());
  llvmContext.setDiagnosticHandlerCallBack(&LLVMDiagnostics::handle,
                                           &diagnostics,
                                           /*RespectFilters=*/true);
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, llvmContext, "uoe-cpu");
  if (!llvmModule) {
    (void)diagnostics.check("translation to LLVM IR");
    return module.emitError() << "cannot translate the module to LLVM IR";
  }
  if (failed(diagnostics.check("translation to LLVM IR")))
    return failure();

  // Step 3: target. Position-independent code, so that the loader may place
  // the object anywhere relative to libc and the runtime (calls and data
  // references go through the GOT/PLT the JIT linker builds).
  auto codeGenLevel = static_cast<llvm::CodeGenOptLevel>(options.optLevel);
  std::unique_ptr<llvm::TargetMachine> machine(target->createTargetMachine(
      choice->triple, choice->cpu, choice->features, llvm::TargetOptions(),
      llvm::Reloc::PIC_, llvm::CodeModel::Small, codeGenLevel));
  if (!machine)
    return module.emitError()
           << "cannot create an LLVM target machine for '"
           << choice->triple.str() << "' (" << choice->cpu << ")";
  llvmModule->setTargetTriple(machine->getTargetTriple());
  llvmModule->setDataLayout(machine->createDataLayout());
  if (failed(addPackedEntryPoints(*llvmModule, module)) ||
      failed(exportInitializers(*llvmModule, module)))
    return failure();
  // Record the choice on every function, so that the optimised IR (the
  // `optimizedIr` dump) compiles to the same code on its own.
  for (llvm::Function &function : *llvmModule) {
    if (function.isDeclaration())
      continue;
    if (!function.hasFnAttribute("target-cpu"))
      function.addFnAttr("target-cpu", choice->cpu);
    if (!function.hasFnAttribute("target-features") &&
        !choice->features.empty())
      function.addFnAttr("target-features", choice->features);
  }
  std::string verifierMessage;
  llvm::raw_string_ostream verifierStream(verifierMessage);
  if (llvm::verifyModule(*llvmModule, &verifierStream))
    return module.emitError()
           << "the translated LLVM IR is invalid: " << verifierMessage;

  // Step 4: optimisation.
  optimize(*llvmModule, *machine, options.optLevel);
  if (failed(diagnostics.check("LLVM optimisation")))
    return failure();
  if (optimizedIr) {
    optimizedIr->clear();
    llvm::raw_string_ostream os(*optimizedIr);
    llvmModule->print(os, /*AAW=*/nullptr);
  }

  // Step 5: code generation.
  llvm::SmallVector<char, 0> buffer;
  llvm::raw_svector_ostream os(buffer);
  llvm::legacy::PassManager codeGen;
  if (machine->addPassesToEmitFile(codeGen, os, /*DwoOut=*/nullptr,
                                   llvm::CodeGenFileType::ObjectFile))
    return module.emitError() << "the LLVM target for '" << choice->triple.str()
                              << "' cannot emit object files";
  codeGen.run(*llvmModule);
  if (failed(diagnostics.check("LLVM code generation")))
    return failure();
  return std::string(buffer.begin(), buffer.end());
}
