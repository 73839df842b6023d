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

/// Compiles `model` (resolved) for inputs of `batch` sequences of `seq`
/// tokens into an Executable for `artifacts.target` (default: the host
/// CPU). Its entry point `forward`
/// takes what the imported function takes (token ids i64 [B, T] with an
/// embedding, else hidden states f32 [B, T, d]) and returns its result
/// (logits or hidden states; see importModel). With `artifacts.decoding`,
/// the entry points are instead `prefill` (seq tokens) and `decode_step`
/// of importDecoder. Diagnostics become the error message.
llvm::Expected<::uoe::rt::proto::Executable>
compileModel(const model::Model &model, int64_t batch, int64_t seq,
             const CompileArtifacts &artifacts = {});

/// A hex SHA-256 over the resolved description, the input shape, the
/// compiler version and what of `artifacts` shapes the code (the target,
/// whether `forward_grad` is compiled, decoding, the GEMMs' precision): equal
/// keys mean interchangeable Executables.
std::string compileCacheKey(const model::Model &model, int64_t batch,
                            int64_t seq, const CompileArtifacts &artifacts = {});

} // namespace mlir::uoe

#endif // UOE_DRIVER_COMPILEMODEL_H
