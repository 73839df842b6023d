//===- ModelImporter.h - model descriptions to uoe IR ---------*- C++ -*-===//
//
// Reads a model description (frontend/model.proto, Protobuf text format),
// resolves its defaults, checks its sizes (errors name the field), lists
// the weights it needs (names and shapes, docs/MODEL_FORMAT.md) and builds
// `func.func @forward` of uoe layer ops for a given batch and sequence length.
//
//===----------------------------------------------------------------------===//

#ifndef UOE_FRONTEND_MODELIMPORTER_H
#define UOE_FRONTEND_MODELIMPORTER_H

#include "frontend/model.pb.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace mlir::uoe {

/// The generated message classes of frontend/model.proto.
namespace model = ::uoe::model;

/// One weight of a model: its name and shape (f32 in the compiled code).
struct ParamSpec {
  std::string name;
  std::vector<int64_t> shape;
};

/// Parses `text` (Protobuf text format). Unknown fields and syntax errors
/// are errors naming the line and column in `fileName`.
llvm::Expected<model::Model> parseModelText(llvm::StringRef text,
                                            llvm::StringRef fileName);

/// Reads and parses a `.pbtxt` file.
llvm::Expected<model::Model> parseModelFile(llvm::StringRef path);

/// Fills every default of `model` in place and checks every size; the
/// error names the offending field (`blocks[1].uome.experts`).
llvm::Error resolveModel(model::Model &model);

/// The weights of a resolved model, in the order of @forward's parameters.
std::vector<ParamSpec> modelParameters(const model::Model &model);

/// Builds `func.func @forward(%input, %params...)` for `batch` sequences of
/// `seq` tokens: `%input` is `tensor<B x T x d x f32>` (no embedding).
/// Parameters carry `uoe.param = "<name>"`; the function carries
/// `llvm.emit_c_interface`. `model` must be resolved.
llvm::Expected<OwningOpRef<ModuleOp>>
importModel(MLIRContext &context, const model::Model &model, int64_t batch,
            int64_t seq);

} // namespace mlir::uoe

#endif // UOE_FRONTEND_MODELIMPORTER_H
