//===- CompileModel.h - model description to Executable --------*- C++ -*-===//
//
// The compiler driver shared by uoe-run (and later the C API): import a
// resolved model description for a batch and sequence length, run the CPU
// pipeline, emit object code and wrap it into an Executable with the
// entry point `forward`. Also the cache key of a compilation.
//
//===----------------------------------------------------------------------===//

#ifndef UOE_CODEGEN_COMPILEMODEL_H
#define UOE_CODEGEN_COMPILEMODEL_H

#include "frontend/ModelImporter.h"
#include "runtime/executable.pb.h"

#include "llvm/Support/Error.h"

#include <string>

namespace mlir::uoe {

/// The compiler's version, recorded in Executables and cache keys.
inline constexpr const char *kCompilerVersion = "uoe 0.1";

/// The version and build of this compiler, e.g. "uoe 0.1 (build
/// 3f9a0c2e1b7d6a54)": the build is a hash of the compiler's sources
/// (cmake/UoEBuildId.cmake). Recorded in Executables and part of every cache
/// key, so that a rebuilt compiler never reuses another one's output.
const char *compilerIdentity();

/// What a compilation targets.
struct CompileTarget {
  /// Empty for the host CPU; otherwise the SM of a CUDA device ("sm_90").
  std::string cudaChip;
  /// For the host CPU only: compile with the GPU pipeline's mapping of loop
  /// nests to kernels, whose launches then run as CPU loops
  /// (buildGpuEmulationPipeline). For tests of the mapping where there is
  /// no GPU; the Executable runs on the cpu device.
  bool gpuEmulation = false;

  bool isCuda() const { return !cudaChip.empty(); }
  /// Whether `chip` names an SM: "sm_<digits>" (sm_80, sm_90, ...).
  static bool isCudaChip(llvm::StringRef chip);
  /// The Executable's `target` field for a CUDA device:
  /// "cuda:<chip>:<host triple>".
  std::string cudaTargetDescription() const;
};

/// What a compilation targets and produces besides the Executable, on
/// request.
struct CompileArtifacts {
  /// The IR after the pipeline (LLVM dialect), when non-null.
  std::string *loweredMlir = nullptr;
  /// Also compile the entry point `forward_grad` (`--uoe-autodiff`): the
  /// forward's inputs, then `d_<result>` (the gradient of an objective with
  /// respect to the result), then the parameters; it returns the result and
  /// `d_<name>` for every float input and every parameter.
  bool gradients = false;
  /// Where the code runs (default: the host CPU).
  CompileTarget target;
  /// For a CUDA target, when non-null: receives the PTX of the kernels
  /// (then embedded as PTX alone, not as a fatbin).
  std::string *ptx = nullptr;
  /// Print the time of every phase on stderr (`uoe-run --timing`).
  bool timing = false;
};

/// Compiles `model` (resolved) for inputs of `batch` sequences of `seq`
/// tokens into an Executable for `artifacts.target` (default: the host
/// CPU). Its entry point `forward`
/// takes what the imported function takes (token ids i64 [B, T] with an
/// embedding, else hidden states f32 [B, T, d]) and returns its result
/// (logits or hidden states; see importModel). Diagnostics become the error
/// message.
llvm::Expected<::uoe::rt::proto::Executable>
compileModel(const model::Model &model, int64_t batch, int64_t seq,
             const CompileArtifacts &artifacts = {});

/// A hex SHA-256 over the resolved description, the input shape, the target
/// (host CPU, or CUDA chip),
/// the compiler version and whether `forward_grad` is compiled: equal keys
/// mean interchangeable Executables.
std::string compileCacheKey(const model::Model &model, int64_t batch,
                            int64_t seq, bool gradients = false,
                            const CompileTarget &target = {});

} // namespace mlir::uoe

#endif // UOE_CODEGEN_COMPILEMODEL_H
