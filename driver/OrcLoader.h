//===- OrcLoader.h - loading CPU objects with LLVM's ORC JIT ----*- C++ -*-===//
//
// The ObjectLoader of the compiler build (runtime/ObjectLoader.h): links the
// ELF objects that ObjectEmitter produces into the running process with
// LLVM's ORC JIT (LLJIT and its JITLink object layer). Each loaded object
// gets its own LLJIT instance, so that objects are isolated from each other
// (two objects may both define `uoe_packed_forward`) and unloading one is
// destroying its instance.
//
// Symbol resolution for an object, in order: the symbols it defines; the
// caller's extra symbols (the runtime's functions, e.g. the BLAS binding of
// runtime/CpuBlas.h); the process's own exported symbols (libc: malloc,
// free, memcpy, memset; libm: expf, erff, tanhf, ...). Static initializers
// (.init_array) of the object are not run: the CPU back end emits none.
//
//===----------------------------------------------------------------------===//

#ifndef UOE_DRIVER_ORCLOADER_H
#define UOE_DRIVER_ORCLOADER_H

#include "runtime/ObjectLoader.h"

namespace mlir::uoe::cpu {

/// Loads host objects in-process with ORC. Holds no state of its own:
/// load() may be called from several threads at once, and the loader may be
/// destroyed while objects it loaded are alive. Each LoadedObject it returns
/// may be used from one thread at a time (see LoadedObject).
class OrcLoader final : public ::uoe::rt::ObjectLoader {
public:
  OrcLoader() = default;
  ~OrcLoader() override;

  /// See ObjectLoader::load. The whole object is linked before this
  /// returns; failures never abort the process. Codes: InvalidArgument for
  /// bytes that are not an object for this host or a symbol defined twice,
  /// NotFound for an undefined symbol that nothing resolves (the message
  /// names it), Internal for other JIT failures (the message is LLVM's).
  ::uoe::rt::StatusOr<std::unique_ptr<::uoe::rt::LoadedObject>>
  load(std::string_view objectBytes,
       const ::uoe::rt::SymbolMap &extraSymbols) override;
};

} // namespace mlir::uoe::cpu

#endif // UOE_DRIVER_ORCLOADER_H
