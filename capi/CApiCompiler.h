//===- CApiCompiler.h - what the C API needs from the compiler -*- C++ -*-===//
//
// The C API (CApi.cpp) is built twice: with the compiler, and in the
// runtime-only tree (-DUOE_BUILD_COMPILER=OFF) without LLVM or MLIR. The few
// things it needs from the compiler build are declared here with runtime
// types only and defined by exactly one of CApiCompiler.cpp (compiler build:
// compileModel, compileMlir, the ORC loader) or
// CApiRuntimeOnly.cpp (errors saying what this build cannot do).
//
//===----------------------------------------------------------------------===//

#ifndef UOE_CAPI_CAPICOMPILER_H
#define UOE_CAPI_CAPICOMPILER_H

#include "runtime/ObjectLoader.h"
#include "support/Status.h"
#include "formats/executable.pb.h"

#include <cstdint>
#include <memory>
#include <string>

namespace uoe::capi {

/// Where a compilation's source comes from.
enum class SourceKind { ModelText, ModelFile, MlirText };

/// Compiles a model description (text or file, `source`) for `batch` x `seq`
/// inputs, or MLIR text, for the host CPU or, with a non-empty `cudaChip`
/// ("sm_90"), for that GPU; a description with `gradients` also gets the
/// entry point `forward_grad`. With a non-empty `cacheDir`,
/// looks the Executable up in that compiled-model cache first and stores it
/// there after compiling (a failed store is not an error). `precision` is
/// a description's GEMMs' ("f32" or "bf16", CompileArtifacts::precision);
/// `decoding` compiles prefill and decode_step (CompileArtifacts::decoding).
/// Thread-safe.
rt::StatusOr<rt::proto::Executable>
compile(SourceKind kind, const std::string &source, int64_t batch, int64_t seq,
        const std::string &cacheDir, bool gradients = false,
        const std::string &cudaChip = "", const std::string &precision = "f32",
        bool decoding = false);

/// The loader for CPU object code: ORC in the compiler build, the runtime's
/// ELF loader in the runtime-only one. Thread-safe.
rt::StatusOr<std::unique_ptr<rt::ObjectLoader>> newCpuObjectLoader();

} // namespace uoe::capi

#endif // UOE_CAPI_CAPICOMPILER_H
