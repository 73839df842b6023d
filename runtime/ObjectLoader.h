//===- ObjectLoader.h - loading compiled CPU code ---------------*- C++ -*-===//
//
// The runtime's view of a code loader: it takes the bytes of a relocatable
// object (an ELF `.o` that the CPU back end emitted, see
// codegen/cpu/ObjectEmitter.h), links it into the running process and hands
// out the addresses of the symbols it defines. The interface has no LLVM in
// it, so that the runtime builds without LLVM; the compiler build provides
// the implementation on LLVM's ORC JIT (driver/OrcLoader.h), and a
// runtime-only build may provide another (e.g. one on dlopen of a shared
// object).
//
//===----------------------------------------------------------------------===//

#ifndef UOE_RUNTIME_OBJECTLOADER_H
#define UOE_RUNTIME_OBJECTLOADER_H

#include "support/Status.h"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace uoe::rt {

/// Functions and data of the runtime that loaded code may refer to, by their
/// (unmangled, C) symbol name, e.g. {"uoe_sgemm_batched", &fn}. The
/// addresses must stay valid while any object loaded with the map is alive.
using SymbolMap = std::map<std::string, void *, std::less<>>;

/// The functions (`void f()`) an object may define to be set up after
/// loading and torn down before unloading: the compiler exports the
/// object's global constructors / destructors under these names
/// (codegen/cpu/ObjectEmitter.cpp) and the program that loads an object
/// calls them (runtime/CpuDevice.cpp), whichever loader linked it. The GPU
/// pipeline's host code loads its kernel module in the first.
inline constexpr const char *kObjectInitSymbol = "uoe_object_init";
inline constexpr const char *kObjectFiniSymbol = "uoe_object_fini";

/// One object file linked into the process. Its code and data stay mapped
/// until the LoadedObject is destroyed; addresses returned by lookup() must
/// not be used after that.
///
/// Thread safety: a LoadedObject may be used (looked up, its functions
/// called) from one thread at a time; distinct LoadedObjects may be used
/// from distinct threads concurrently.
class LoadedObject {
public:
  virtual ~LoadedObject() = default;

  /// The address of the symbol `symbol` (its C name, unmangled) defined by
  /// the object. NotFound, naming the symbol, if the object does not define
  /// it.
  virtual StatusOr<void *> lookup(std::string_view symbol) = 0;
};

/// Links object files into the running process.
///
/// Thread safety: implementations document their own; the ORC one allows
/// concurrent load() calls.
class ObjectLoader {
public:
  virtual ~ObjectLoader() = default;

  /// Links the relocatable object `objectBytes` (copied; the argument may go
  /// away after the call) into the process. Undefined symbols of the object
  /// are resolved first from `extraSymbols` (copied), then from the process
  /// itself (libc, libm). Every symbol is resolved here, so that a missing
  /// one is reported by load() (with its name), never at call time. Errors:
  /// InvalidArgument for bytes that are not a loadable object, NotFound for
  /// an unresolved symbol, Internal for other linker failures; the message is
  /// the linker's.
  virtual StatusOr<std::unique_ptr<LoadedObject>>
  load(std::string_view objectBytes, const SymbolMap &extraSymbols) = 0;
};

} // namespace uoe::rt

#endif // UOE_RUNTIME_OBJECTLOADER_H
