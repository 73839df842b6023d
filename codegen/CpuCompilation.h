//===- CpuCompilation.h - one compilation for the CPU ----------*- C++ -*-===//
//
// What the compiler drivers (CompileModel.h, CompileMlir.h) share: an
// MLIRContext with every dialect the compiler uses, whose diagnostics are
// collected into the error a driver returns, and the step from a
// tensor-level module to an Executable: entry points from the signatures,
// the CPU pipeline, object code, one kernel.
//
//===----------------------------------------------------------------------===//

#ifndef UOE_CODEGEN_CPUCOMPILATION_H
#define UOE_CODEGEN_CPUCOMPILATION_H

#include "runtime/executable.pb.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/Error.h"

#include <string>

namespace mlir::uoe {

/// One compilation. Not copyable; not thread-safe (one per thread).
class CpuCompilation {
public:
  CpuCompilation();
  CpuCompilation(const CpuCompilation &) = delete;
  CpuCompilation &operator=(const CpuCompilation &) = delete;

  MLIRContext &getContext() { return context; }

  /// `what`, followed by every diagnostic emitted so far (with its
  /// location), as an error.
  llvm::Error fail(const llvm::Twine &what) const;

  /// Compiles `module` (tensor-level `uoe` and upstream ops) for the host
  /// CPU. Every public `func.func` with `llvm.emit_c_interface` becomes an
  /// entry point of its name, its signature read before lowering: arguments
  /// are static-shaped tensors of f32, f64, i64 or i32; one with
  /// `uoe.param = "<name>"` is a parameter, any other an input (named by
  /// `uoe.input`, else "arg<i>"), and inputs precede parameters; results
  /// are named by `uoe.result`, else "result<i>". Fills everything but the
  /// cache key and the model name. `loweredMlir`, when non-null, receives
  /// the IR after the CPU pipeline.
  llvm::Expected<::uoe::rt::proto::Executable>
  compile(ModuleOp module, std::string *loweredMlir = nullptr);

private:
  MLIRContext context;
  std::string diagnostics;
  ScopedDiagnosticHandler handler;
};

} // namespace mlir::uoe

#endif // UOE_CODEGEN_CPUCOMPILATION_H
