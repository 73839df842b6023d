//===- CompileTarget.h - what a compilation targets ------------*- C++ -*-===//
//
// The host CPU, a CUDA device by its SM, or the host CPU running the GPU
// pipeline's kernels as loops (for tests of the GPU mapping without a GPU).
// Every compile function of the driver takes one, inside the
// CompileArtifacts that also say what else a compilation produces.
//
//===----------------------------------------------------------------------===//

#ifndef UOE_DRIVER_COMPILETARGET_H
#define UOE_DRIVER_COMPILETARGET_H

#include "llvm/ADT/StringRef.h"

#include <string>

namespace mlir::uoe {

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
  /// The GEMMs' products: "f32", or "bf16" (every GEMM operand rounded to
  /// bf16, sums in f32, everything else f32: `uoe-run --precision bf16`).
  /// bf16 is for the host CPU only.
  std::string precision = "f32";
  /// Compile incremental decoding instead of `forward`: the entry points
  /// `prefill` (seq tokens per sequence) and `decode_step` (one) of
  /// importDecoder, over a key/value cache (host CPU, f32, no gradients).
  bool decoding = false;
};

} // namespace mlir::uoe

#endif // UOE_DRIVER_COMPILETARGET_H
