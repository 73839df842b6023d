//===- CompileTarget.h - what a compilation targets ------------*- C++ -*-===//
//
// The host CPU, a CUDA device by its SM, or the host CPU running the GPU
// pipeline's kernels as loops (for tests of the GPU mapping without a GPU).
// Every compile function of the driver takes one.
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

} // namespace mlir::uoe

#endif // UOE_DRIVER_COMPILETARGET_H
