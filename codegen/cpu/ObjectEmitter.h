//===- ObjectEmitter.h - LLVM dialect to host object code -------*- C++ -*-===//
//
// The last step of the CPU back end: a module that the CPU pipeline has
// lowered entirely to the LLVM dialect becomes an ELF relocatable object for
// the host CPU, which the runtime links into the process with an
// ObjectLoader (runtime/ObjectLoader.h, driver/OrcLoader.h).
//
// On the way the emitter gives every function with a C interface (one that
// carried `llvm.emit_c_interface` before lowering, hence has a
// `_mlir_ciface_<name>` variant) a *packed* entry point
//
//   void uoe_packed_<name>(void **args);
//
// so that the runtime calls every entry point through one C type. args[i]
// points to the i-th argument of `_mlir_ciface_<name>`, in order; if the
// C-interface function returns a value (a single non-memref result), it is
// stored to where args[n] points, n being the number of arguments. With MLIR's
// C interface a memref argument is a pointer to its descriptor, so for a
// memref args[i] points to a pointer to the descriptor; when the function
// returns memrefs (or several results) the C interface takes a pointer to
// the result descriptor (the struct of all result descriptors, one after
// the other) as its FIRST argument, so args[0] points to that pointer and
// the inputs follow. runtime/MemRefDescriptor.h builds such arguments.
//
//===----------------------------------------------------------------------===//

#ifndef UOE_CODEGEN_CPU_OBJECTEMITTER_H
#define UOE_CODEGEN_CPU_OBJECTEMITTER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LLVM.h"

#include <string>

namespace mlir::uoe::cpu {

/// The prefix of the packed entry points the emitter adds.
inline constexpr const char *kPackedPrefix = "uoe_packed_";

/// How to generate code. The defaults target the machine the compiler runs
/// on at -O2.
struct ObjectOptions {
  /// The LLVM CPU name to select instructions and tune for, e.g. "znver4";
  /// empty or "host" means the host CPU (llvm::sys::getHostCPUName()).
  std::string cpu;
  /// Subtarget features in LLVM's form, e.g. "+avx2,-avx512f". For the host
  /// CPU they are applied on top of the host's detected features; for a
  /// named CPU, on top of that CPU's own.
  std::string features;
  /// The optimisation level, 0 to 3, of both the IR pipeline and the code
  /// generator. 2 by default: on the benchmark layer of docs/PERFORMANCE.md,
  /// -O3 took 2.5x longer to compile (7.3 s against 2.9 s) for the same run
  /// time (its extra unrolling only grows the scheduler's blocks).
  unsigned optLevel = 2;
};

/// Translates `module` (which must contain only LLVM-dialect operations and
/// builtin ones, e.g. after convert-to-llvm, finalize-memref-to-llvm and
/// reconcile-unrealized-casts) to LLVM IR, adds the packed entry points
/// described at the top of this file, optimises at `options.optLevel` for
/// the target of `options` and returns the bytes of an ELF relocatable
/// object (position-independent, small code model). Every global and
/// function keeps its name; calls to undefined functions stay undefined
/// symbols for the loader to resolve.
///
/// If `optimizedIr` is non-null, it receives the textual LLVM IR after
/// optimisation. Errors (unsupported operations, a module for another
/// target, bad options, a name clash with a packed entry point) are emitted
/// as diagnostics on `module` and yield failure; the module is not changed,
/// except that the LLVM IR translation interfaces are registered in its
/// context. Not thread-safe with respect to other users of the same
/// MLIRContext that register dialects concurrently.
FailureOr<std::string> emitObject(ModuleOp module,
                                  const ObjectOptions &options = {},
                                  std::string *optimizedIr = nullptr);

/// The host target as code generation sees it, for cache keys and
/// Executable metadata: "<triple>:<cpu>:<digest>", where the digest (16 hex
/// digits) identifies the set of host CPU features, e.g.
/// "x86_64-pc-linux-gnu:znver4:3f9a0c2e1b7d6a54". Equal strings mean that
/// an object compiled with default ObjectOptions on one machine runs on the
/// other.
std::string hostTargetDescription();

} // namespace mlir::uoe::cpu

#endif // UOE_CODEGEN_CPU_OBJECTEMITTER_H
