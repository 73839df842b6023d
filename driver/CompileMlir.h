//===- CompileMlir.h - uoe MLIR text to Executable ------------*- C++ -*-===//
//
// The second way into the compiler (beside CompileModel.h): a module of
// `uoe` and upstream tensor-level MLIR, as a user or a framework writes it,
// compiled into an Executable. Every public `func.func`
// with `llvm.emit_c_interface` becomes an entry point of its name; all of
// them live in one kernel (one object), each called through its packed
// wrapper (codegen/cpu/ObjectEmitter.h). Used by the C API.
//
//===----------------------------------------------------------------------===//

#ifndef UOE_DRIVER_COMPILEMLIR_H
#define UOE_DRIVER_COMPILEMLIR_H

#include "driver/CompileTarget.h"
#include "formats/executable.pb.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <string>

namespace mlir::uoe {

/// Compiles the MLIR module `text` (named `bufferName` in diagnostics) for
/// `target` (default: the host CPU). The entry points' signatures are read before lowering:
/// arguments are static-shaped tensors of f32, f64, i64 or i32; an argument
/// with `uoe.param = "<name>"` is a parameter, any other an input (named by
/// `uoe.input = "<name>"`, else "arg<i>"; an integer input with
/// `uoe.index_bound = N : i64` must hold values in [0, N), checked by the
/// runtime), and every input must precede every parameter (the runtime
/// passes inputs, then parameters). Results
/// are named by `uoe.result`, else "result<i>". Errors (parse errors, no
/// entry point, an unsupported signature, pipeline failures) carry the
/// diagnostics with their locations.
llvm::Expected<::uoe::rt::proto::Executable>
compileMlir(llvm::StringRef text, llvm::StringRef bufferName = "<mlir>",
                  const CompileTarget &target = {});

/// A hex SHA-256 over the text, the target and the compiler version: equal
/// keys mean interchangeable Executables (see compileCacheKey).
std::string compileMlirCacheKey(llvm::StringRef text,
                                const CompileTarget &target = {});

} // namespace mlir::uoe

#endif // UOE_DRIVER_COMPILEMLIR_H
