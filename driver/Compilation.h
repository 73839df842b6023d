//===- Compilation.h - one compilation for the CPU or a GPU ----*- C++ -*-===//
//
// What the compiler drivers (CompileModel.h, CompileMlir.h) share: an
// MLIRContext with every dialect the compiler uses, whose diagnostics are
// collected into the error a driver returns, and the step from a
// tensor-level module to an Executable: entry points from the signatures,
// the CPU or GPU pipeline, object code, one kernel. For a CUDA device that
// kernel is host code too: it carries the GPU kernels (PTX, or a fatbin of
// cubin and PTX) and launches them through the runtime (passes/Passes.h,
// buildGpuPipeline).
//
//===----------------------------------------------------------------------===//

#ifndef UOE_DRIVER_COMPILATION_H
#define UOE_DRIVER_COMPILATION_H

#include "driver/CompileTarget.h"
#include "formats/executable.pb.h"

#include "mlir/Support/Timing.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/Error.h"

#include <memory>
#include <string>

namespace mlir::uoe {

/// One compilation. Not copyable; not thread-safe (one per thread).
class Compilation {
public:
  Compilation();
  Compilation(const Compilation &) = delete;
  Compilation &operator=(const Compilation &) = delete;

  MLIRContext &getContext() { return context; }

  /// Times every phase of the compilations that follow (each pass of the
  /// pipeline, LLVM's optimisation and code generation) and prints the
  /// report on stderr when this object goes (`--timing`).
  void enableTiming();
  /// The timing report's root scope (a no-op scope without enableTiming):
  /// callers nest their own phases in it, e.g. the import.
  TimingScope timingScope();

  /// `what`, followed by every diagnostic emitted so far (with its
  /// location), as an error.
  llvm::Error fail(const llvm::Twine &what) const;

  /// Compiles `module` (tensor-level `uoe` and upstream ops) for
  /// `artifacts.target` (default: the host CPU). Every public `func.func` with `llvm.emit_c_interface` becomes an
  /// entry point of its name, its signature read before lowering: arguments
  /// are static-shaped tensors of f32, f64, i64 or i32; one with
  /// `uoe.param = "<name>"` is a parameter, any other an input (named by
  /// `uoe.input`, else "arg<i>"), and inputs precede parameters; results
  /// are named by `uoe.result`, else "result<i>". Fills everything but the
  /// cache key and the model name. `artifacts.loweredMlir`, when non-null,
  /// receives the IR after the pipeline.
  ///
  /// For a CUDA target, the kernels are embedded as a fatbin (cubin and
  /// PTX) when the CUDA toolkit's ptxas is found, else as PTX;
  /// `artifacts.ptx`, when non-null, receives the PTX of every kernel (one
  /// module).
  ///
  /// `artifacts.precision` is the GEMMs' ("f32", or "bf16" for the host
  /// CPU: buildCpuPipeline); anything else is an error naming it.
  /// `gradients` and `timing` are the callers' (the module has its entry
  /// points; enableTiming).
  llvm::Expected<::uoe::rt::proto::Executable>
  compile(ModuleOp module, const CompileArtifacts &artifacts = {});

private:
  MLIRContext context;
  std::unique_ptr<DefaultTimingManager> timing;
  std::string diagnostics;
  ScopedDiagnosticHandler handler;
};

} // namespace mlir::uoe

#endif // UOE_DRIVER_COMPILATION_H
