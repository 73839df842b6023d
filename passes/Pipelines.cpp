//===- Pipelines.cpp - named pass pipelines ------------------------------===//
//
// The pipelines users name (`--uoe-cpu-pipeline` in uoe-opt, and the same
// function in uoe-run), defined once here. The CPU pipeline takes layer ops
// on tensors to the LLVM dialect:
//
//   uoe layer ops -> routing/expert ops -> linalg on tensors
//     -> buffers (one-shot bufferization, identity layouts at function
//        boundaries) -> f32 GEMMs as runtime BLAS calls -> loops -> LLVM.
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

#include "llvm/Support/FormatVariadic.h"

#include <mutex>

using namespace mlir;

namespace {
/// The options of `--uoe-gpu-pipeline` in uoe-opt.
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

/// The CPU pipeline after `convert-uoe-to-linalg`, in mlir-opt syntax so
/// that a dump of it can be replayed with uoe-opt as is.
static constexpr const char *kCpuLowering =
    // No CSE before bufferization: it would merge the zero-filled outputs
    // of GEMMs into one tensor, which bufferization then copies for each
    // GEMM; kept apart, every fill folds into its GEMM (beta = 0).
    "convert-elementwise-to-linalg,uoe-approximate-math,canonicalize,"
    "uoe-protect-arguments,"
    "one-shot-bufferize{bufferize-function-boundaries "
    "function-boundary-type-conversion=identity-layout-map},"
    "uoe-linalg-to-blas,"
    "buffer-deallocation-pipeline,convert-bufferization-to-memref,"
    // Parallel loop nests run on OpenMP threads (the runtime links LLVM's
    // libomp); alloca scopes must reach LLVM before scf-to-cf splits the
    // loops inside them into blocks.
    "convert-linalg-to-parallel-loops,uoe-serialize-inner-parallel-loops,"
    "expand-strided-metadata,lower-affine,"
    "convert-scf-to-openmp,finalize-memref-to-llvm{use-generic-functions},"
    "convert-scf-to-cf,convert-math-to-llvm,convert-math-to-libm,"
    "convert-arith-to-llvm,convert-index-to-llvm,convert-func-to-llvm,"
    "convert-cf-to-llvm,convert-openmp-to-llvm,reconcile-unrealized-casts,"
    "canonicalize,cse";

/// The GPU pipeline after `convert-uoe-to-linalg`: the same linalg and
/// buffer stages as the CPU's (the runtime binds the GEMM calls to cuBLAS),
/// then every parallel loop nest becomes a kernel, and the kernels go to
/// PTX with LLVM's NVPTX backend. `{0}` is the nvvm-attach-target options,
/// `{1}` the gpu-module-to-binary options (the format, isa: PTX or fatbin:
/// cubin from ptxas plus PTX; the CUDA toolkit, where libdevice and ptxas
/// are).
static constexpr const char *kGpuLowering =
    "convert-elementwise-to-linalg,uoe-approximate-math,canonicalize,"
    "uoe-protect-arguments,"
    "one-shot-bufferize{{bufferize-function-boundaries "
    "function-boundary-type-conversion=identity-layout-map},"
    "uoe-linalg-to-blas,"
    "buffer-deallocation-pipeline,convert-bufferization-to-memref,"
    "convert-linalg-to-parallel-loops,canonicalize,"
    "uoe-parallel-loops-to-gpu,canonicalize,gpu-launch-sink-index-computations,"
    "gpu-kernel-outlining,"
    "uoe-parallel-loops-to-gpu{{merge-modules},"
    "expand-strided-metadata,lower-affine,convert-scf-to-cf,"
    "nvvm-attach-target{{{0}},"
    "gpu.module(convert-gpu-to-nvvm,canonicalize,cse),"
    "finalize-memref-to-llvm{{use-generic-functions},"
    "convert-math-to-llvm,convert-math-to-libm,"
    "convert-arith-to-llvm,convert-index-to-llvm,convert-func-to-llvm,"
    "convert-cf-to-llvm,gpu-to-llvm,reconcile-unrealized-casts,"
    "gpu-module-to-binary{{{1}},canonicalize,cse";

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

LogicalResult uoe::buildCpuPipeline(OpPassManager &pm) {
  ensurePassesRegistered();
  pm.addPass(createUoEConvertUoEToLinalgPass());
  return parsePassPipeline(kCpuLowering, pm);
}

LogicalResult uoe::buildGpuPipeline(OpPassManager &pm,
                                    const GpuPipelineOptions &options) {
  ensurePassesRegistered();
  if (!llvm::StringRef(options.chip).starts_with("sm_"))
    return failure();
  pm.addPass(createUoEConvertUoEToLinalgPass());
  std::string target = llvm::formatv("chip={0} O={1}", options.chip,
                                     options.optLevel);
  std::string binary =
      std::string("format=") + (options.fatbin ? "fatbin" : "isa");
  if (!options.toolkitPath.empty())
    binary += " toolkit=" + options.toolkitPath;
  return parsePassPipeline(llvm::formatv(kGpuLowering, target, binary).str(),
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
  PassPipelineRegistration<>(
      "uoe-cpu-pipeline",
      "Compile uoe ops on tensors to the LLVM dialect for the CPU (GEMMs as "
      "calls to the runtime's BLAS)",
      [](OpPassManager &pm) {
        if (failed(buildCpuPipeline(pm)))
          llvm::report_fatal_error("invalid built-in CPU pipeline");
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
}
