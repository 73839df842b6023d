//===- CompileModel.h - model description to Executable --------*- C++ -*-===//
//
// The compiler driver shared by uoe-run (and later the C API): import a
// resolved model description for a batch and sequence length, run the CPU
// pipeline, emit object code and wrap it into an Executable with the
// entry point `forward`. Also the cache key of a compilation.
//
//===----------------------------------------------------------------------===//

#ifndef UOE_DRIVER_COMPILEMODEL_H
#define UOE_DRIVER_COMPILEMODEL_H

#include "driver/CompileTarget.h"
#include "driver/Version.h"
#include "frontend/ModelImporter.h"
#include "formats/executable.pb.h"

#include "llvm/Support/Error.h"

#include <string>

namespace mlir::uoe {

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
/// (host CPU, or CUDA chip), the compiler version, whether `forward_grad` is
/// compiled and the GEMMs' precision: equal keys mean interchangeable
/// Executables.
std::string compileCacheKey(const model::Model &model, int64_t batch,
                            int64_t seq, bool gradients = false,
                            const CompileTarget &target = {},
                            llvm::StringRef precision = "f32");

} // namespace mlir::uoe

#endif // UOE_DRIVER_COMPILEMODEL_H
