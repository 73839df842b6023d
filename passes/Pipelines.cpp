//===- Pipelines.cpp - named pass pipelines ------------------------------===//
//
// The pipelines users name (`--uoe-cpu-pipeline`, `--uoe-gpu-pipeline` in
// uoe-opt, and the same functions in uoe-run), defined once here. The CPU
// pipeline takes layer ops on tensors to the LLVM dialect:
//
//   uoe layer ops -> routing/expert ops -> expert GEMMs fused with their
//     selection (CPU: calls of the runtime's fused kernel) -> linalg on tensors
//     -> buffers (one-shot bufferization, identity layouts at function
//        boundaries) -> f32 GEMMs as runtime BLAS calls -> loops -> LLVM.
//
// The GPU pipeline shares everything up to the loops; then every loop nest
// becomes a kernel (NVVM, PTX) launched by host code in the LLVM dialect.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/InitAllPasses.h"
#include "mlir/Target/LLVM/NVVM/Target.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/GPU/GPUToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/NVVM/NVVMToLLVMIRTranslation.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

#include <mutex>

using namespace mlir;

namespace {
/// The options of `--uoe-gpu-pipeline` in uoe-opt.
struct CpuPipelineCliOptions
    : public PassPipelineOptions<CpuPipelineCliOptions> {
  Option<std::string> precision{
      *this, "precision",
      llvm::cl::desc("The GEMMs' products: f32, or bf16 with f32 "
                     "accumulation"),
      llvm::cl::init("f32")};
};
struct GpuPipelineCliOptions
    : public PassPipelineOptions<GpuPipelineCliOptions> {
  Option<std::string> chip{*this, "chip",
                           llvm::cl::desc("The SM to compile for"),
                           llvm::cl::init("sm_90")};
  Option<std::string> toolkit{
      *this, "toolkit",
      llvm::cl::desc("The CUDA toolkit (libdevice, ptxas); default: MLIR's "
                     "search ($CUDA_ROOT, $CUDA_HOME, $CUDA_PATH)"),
      llvm::cl::init("")};
  Option<bool> fatbin{*this, "fatbin",
                      llvm::cl::desc("Embed cubin (ptxas) and PTX instead "
                                     "of PTX alone"),
                      llvm::cl::init(false)};
};
} // namespace

// The pipelines after `convert-uoe-to-linalg`, in mlir-opt syntax so that a
// dump of them can be replayed with uoe-opt as is, in three pieces.

/// Every pipeline's first half: linalg on tensors to parallel loop nests
/// over buffers.
static constexpr const char *kToParallelLoops =
    // No CSE before bufferization: it would merge the zero-filled outputs
    // of GEMMs into one tensor, which bufferization then copies for each
    // GEMM; kept apart, every fill folds into its GEMM (beta = 0).
    "convert-elementwise-to-linalg,uoe-approximate-math,canonicalize,"
    "uoe-protect-arguments,"
    "one-shot-bufferize{bufferize-function-boundaries "
    "function-boundary-type-conversion=identity-layout-map},"
    "uoe-linalg-to-blas{precision=%PRECISION%},"
    "buffer-deallocation-pipeline,convert-bufferization-to-memref,"
    "convert-linalg-to-parallel-loops,";

/// The CPU's second half: parallel loop nests run on OpenMP threads (the
/// runtime links LLVM's libomp); alloca scopes must reach LLVM before
/// scf-to-cf splits the loops inside them into blocks.
static constexpr const char *kCpuLoopsToLlvm =
    "uoe-serialize-inner-parallel-loops,"
    "expand-strided-metadata,lower-affine,"
    "convert-scf-to-openmp,finalize-memref-to-llvm{use-generic-functions},"
    "convert-scf-to-cf,convert-math-to-llvm,convert-math-to-libm,"
    "convert-arith-to-llvm,convert-index-to-llvm,convert-func-to-llvm,"
    "convert-cf-to-llvm,convert-openmp-to-llvm,reconcile-unrealized-casts,"
    "canonicalize,cse";

/// The GPU's loop mapping: every parallel loop nest becomes a launch.
static constexpr const char *kLoopsToLaunches =
    "canonicalize,uoe-parallel-loops-to-gpu,canonicalize,";

/// The GPU's second half after the mapping: kernels outlined into one
/// gpu.module, lowered through NVVM and compiled to PTX by LLVM's NVPTX
/// backend; the host code (GEMM calls, which the cuda runtime binds to
/// cuBLAS, and allocation) to the LLVM dialect.
static std::string gpuLaunchesToLlvm(const uoe::GpuPipelineOptions &options) {
  std::string binary =
      std::string("format=") + (options.fatbin ? "fatbin" : "isa");
  if (!options.toolkitPath.empty())
    binary += " toolkit=" + options.toolkitPath;
  return "gpu-launch-sink-index-computations,gpu-kernel-outlining,"
         "uoe-parallel-loops-to-gpu{merge-modules},"
         "expand-strided-metadata,lower-affine,convert-scf-to-cf,"
         "nvvm-attach-target{chip=" +
         options.chip + " O=" + std::to_string(options.optLevel) +
         "},"
         "gpu.module(convert-gpu-to-nvvm,uoe-gpu-native-math,canonicalize,cse),"
         "finalize-memref-to-llvm{use-generic-functions},"
         "convert-math-to-llvm,convert-math-to-libm,"
         "convert-arith-to-llvm,convert-index-to-llvm,convert-func-to-llvm,"
         "convert-cf-to-llvm,gpu-to-llvm,reconcile-unrealized-casts,"
         "gpu-module-to-binary{" +
         binary + "},canonicalize,cse";
}

/// The textual pipeline names upstream passes and ours: make sure they are
/// registered also in programs that are not uoe-opt (uoe-run, the C API).
/// Registering a pass twice under the same name is harmless.
static void ensurePassesRegistered() {
  static std::once_flag once;
  std::call_once(once, [] {
    registerAllPasses();
    uoe::registerUoEPasses();
  });
}

/// kToParallelLoops with the GEMMs' precision filled in.
static std::string toParallelLoops(llvm::StringRef precision = "f32") {
  std::string text = kToParallelLoops;
  static constexpr llvm::StringLiteral kHole = "%PRECISION%";
  text.replace(text.find(kHole), kHole.size(), precision.str());
  return text;
}

LogicalResult uoe::buildCpuPipeline(OpPassManager &pm,
                                    llvm::StringRef precision) {
  ensurePassesRegistered();
  if (!isCpuGemmPrecision(precision))
    return failure();
  // Selection fused with the expert GEMMs and the attention, which the
  // runtime's fused kernels compute tile by tile; the data selection's
  // ranking and the norms (with their residual add) in the runtime too; the
  // rest is lowered to linalg.
  pm.addPass(createUoEExpandLayersPass(
      UoEExpandLayersPassOptions{/*denseLayers=*/true}));
  pm.addPass(createUoEFuseSelectionPass());
  pm.addPass(createUoEExpertGemmToCallsPass(
      UoEExpertGemmToCallsPassOptions{precision.str()}));
  pm.addPass(createUoEAttentionToCallsPass());
  pm.addPass(createUoERoutingToCallsPass());
  pm.addPass(createUoENormsToCallsPass());
  pm.addPass(createUoEConvertUoEToLinalgPass());
  return parsePassPipeline(toParallelLoops(precision) + kCpuLoopsToLlvm, pm);
}

LogicalResult uoe::buildGpuPipeline(OpPassManager &pm,
                                    const GpuPipelineOptions &options) {
  ensurePassesRegistered();
  if (!llvm::StringRef(options.chip).starts_with("sm_"))
    return failure();
  pm.addPass(createUoEConvertUoEToLinalgPass());
  return parsePassPipeline(toParallelLoops() + kLoopsToLaunches +
                               gpuLaunchesToLlvm(options),
                           pm);
}

LogicalResult uoe::buildGpuEmulationPipeline(OpPassManager &pm) {
  ensurePassesRegistered();
  pm.addPass(createUoEConvertUoEToLinalgPass());
  return parsePassPipeline(toParallelLoops() + kLoopsToLaunches +
                               "uoe-gpu-launch-to-loops,canonicalize," +
                               kCpuLoopsToLlvm,
                           pm);
}

void uoe::registerPipelineDependencies(DialectRegistry &registry) {
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  registerGPUDialectTranslation(registry);
  registerNVVMDialectTranslation(registry);
  NVVM::registerNVVMTargetInterfaceExternalModels(registry);
  gpu::registerOffloadingLLVMTranslationInterfaceExternalModels(registry);
}

void uoe::registerPipelines() {
  PassPipelineRegistration<CpuPipelineCliOptions>(
      "uoe-cpu-pipeline",
      "Compile uoe ops on tensors to the LLVM dialect for the CPU (GEMMs as "
      "calls to the runtime's BLAS)",
      [](OpPassManager &pm, const CpuPipelineCliOptions &cli) {
        if (failed(buildCpuPipeline(pm, cli.precision)))
          llvm::report_fatal_error("invalid CPU pipeline options (precision "
                                   "is f32 or bf16)");
      });
  PassPipelineRegistration<GpuPipelineCliOptions>(
      "uoe-gpu-pipeline",
      "Compile uoe ops on tensors to host code in the LLVM dialect that "
      "launches PTX kernels (gpu.binary) and calls the runtime's GEMM",
      [](OpPassManager &pm, const GpuPipelineCliOptions &cli) {
        GpuPipelineOptions options;
        options.chip = cli.chip;
        options.fatbin = cli.fatbin;
        options.toolkitPath = cli.toolkit;
        if (failed(buildGpuPipeline(pm, options)))
          llvm::report_fatal_error("invalid GPU pipeline options");
      });
  PassPipelineRegistration<>(
      "uoe-gpu-emulation-pipeline",
      "The GPU pipeline's mapping of loop nests to kernels, with the "
      "kernels run as CPU loops (for checking the mapping without a GPU)",
      [](OpPassManager &pm) {
        if (failed(buildGpuEmulationPipeline(pm)))
          llvm::report_fatal_error("invalid built-in GPU emulation pipeline");
      });
}
