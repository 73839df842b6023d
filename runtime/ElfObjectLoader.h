//===- ElfObjectLoader.h - loading CPU objects without LLVM -----*- C++ -*-===//
//
// An ObjectLoader (runtime/ObjectLoader.h) with no LLVM in it: a small static
// linker for the ELF64 x86-64 relocatable objects (`.o`) that the CPU back
// end emits (codegen/cpu/ObjectEmitter.h: position-independent, small code
// model). The runtime-only build (-DUOE_BUILD_COMPILER=OFF) runs CPU
// Executables with it; the compiler build uses LLVM's ORC by default
// (driver/OrcLoader.h) and may use this one instead (both give the
// same bits: the code is the same, only its address differs).
//
// What it supports:
//  - ELF64, little-endian, EM_X86_64, ET_REL; section and symbol tables are
//    validated and every offset, size, index and string is bounds-checked
//    before use, so malformed bytes are an InvalidArgument that names the
//    problem, never a crash;
//  - every SHF_ALLOC section (PROGBITS, NOBITS (zeroed), .init_array,
//    .fini_array, .eh_frame, ...) placed in ONE anonymous mmap with its
//    alignment: code and call stubs read+execute, read-only data and the GOT
//    read-only after relocation, writable data and .bss read+write; COMMON
//    symbols are allocated in the writable part. One mapping keeps every
//    section within +-2 GiB of every other, so 32-bit PC-relative
//    references inside the object always reach (an object needing more is
//    an OutOfRange error);
//  - undefined symbols resolved from `extraSymbols` first (the runtime's
//    functions, cpuRuntimeSymbols()), then from the process with
//    dlsym(RTLD_DEFAULT) (libm, libomp's __kmpc_*, libc); an undefined weak
//    symbol that nothing defines is 0; any other is NotFound naming it;
//  - RELA relocations R_X86_64_NONE, 64, PC32, PLT32, 32, 32S, GOT32,
//    GOTPCREL, GOTPCRELX, REX_GOTPCRELX, PC64, GOTOFF64, GOTPC32, GOT64,
//    GOTPCREL64, GOTPC64, SIZE32, SIZE64, each checked for overflow. A
//    GOT-relative reference gets a GOT slot holding the symbol's 64-bit
//    address; a PLT32 call of a symbol outside the object goes through a
//    stub `jmp *slot(%rip)` inside the mapping, since the function itself
//    may be farther than +-2 GiB. Any other type (TLS, dynamic-only ones,
//    REL sections without addends) is an InvalidArgument naming it;
//  - static initializers: .preinit_array, .init_array (by priority) and
//    .ctors run at the end of load(); .fini_array and .dtors run when the
//    LoadedObject is destroyed, before the mapping goes.
// Not supported (InvalidArgument naming it): thread-local storage, IFUNC
// definitions, extended section indices (SHN_XINDEX), sections both
// writable and executable. Unwind tables (.eh_frame) are loaded and
// relocated but not registered with the process's unwinder, so exceptions
// cannot propagate through loaded code (the back end's code throws none)
// and debuggers see no unwind information for it.
//
// Thread safety: the loader holds no state; load() may be called from
// several threads at once, and the loader may be destroyed while objects it
// loaded are alive. A LoadedObject may be used from one thread at a time.
//
//===----------------------------------------------------------------------===//

#ifndef UOE_RUNTIME_ELFOBJECTLOADER_H
#define UOE_RUNTIME_ELFOBJECTLOADER_H

#include "runtime/ObjectLoader.h"

namespace uoe::rt {

/// Links ELF64 x86-64 relocatable objects into the process without LLVM;
/// see the top of this file for what it supports.
class ElfObjectLoader final : public ObjectLoader {
public:
  ElfObjectLoader() = default;
  ~ElfObjectLoader() override;

  /// See ObjectLoader::load. The object is parsed and relocated completely,
  /// its initializers run, before this returns; `objectBytes` is not kept.
  /// Codes: InvalidArgument for bytes that are not a well-formed x86-64 ELF
  /// relocatable object or use a feature listed as unsupported above (the
  /// message names the section, symbol or relocation), NotFound for an
  /// undefined symbol that nothing resolves (the message names it),
  /// OutOfRange for an object over 2 GiB or a relocation whose value does
  /// not fit its field, Internal when the operating system refuses memory
  /// (mmap, mprotect).
  StatusOr<std::unique_ptr<LoadedObject>>
  load(std::string_view objectBytes, const SymbolMap &extraSymbols) override;
};

} // namespace uoe::rt

#endif // UOE_RUNTIME_ELFOBJECTLOADER_H
