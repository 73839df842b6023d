//===- ModelDescription.h - parsing, defaults and checks --------*- C++ -*-===//
//
// A model description (frontend/model.proto, Protobuf text format) as a
// user writes it: parsed strictly, its defaults filled in and its sizes
// checked, every error naming the field at fault (`blocks[1].uome.experts:
// ...`). docs/MODEL_FORMAT.md describes the fields, their defaults and the
// limits. The description's weights are ModelParameters.h's, its IR
// ModelImporter.h's.
//
//===----------------------------------------------------------------------===//

#ifndef UOE_FRONTEND_MODELDESCRIPTION_H
#define UOE_FRONTEND_MODELDESCRIPTION_H

#include "frontend/model.pb.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>

namespace mlir::uoe {

/// The generated message classes of frontend/model.proto.
namespace model = ::uoe::model;

/// Limits on what a description may ask for, checked by resolveModel
/// before anything is expanded or allocated (docs/MODEL_FORMAT.md, "Limits"):
/// layers in all (blocks times their `repeat`), any one size field
/// (d_model, vocab_size, hidden, ...) and parameters in all.
constexpr int64_t kMaxModelLayers = 10000;
constexpr int64_t kMaxModelDimension = int64_t(1) << 24;
constexpr int64_t kMaxModelParameters = int64_t(1) << 36;

/// Parses `text` (Protobuf text format). Unknown fields and syntax errors
/// are errors naming the line and column in `fileName`.
llvm::Expected<model::Model> parseModelText(llvm::StringRef text,
                                            llvm::StringRef fileName);

/// Reads and parses a `.pbtxt` file.
llvm::Expected<model::Model> parseModelFile(llvm::StringRef path);

/// Fills every default of `model` in place and checks every size; the
/// error names the offending field (`blocks[1].uome.experts`).
llvm::Error resolveModel(model::Model &model);

/// The error "`field`: `message`", the form of every description error.
llvm::Error fieldError(const std::string &field, const llvm::Twine &message);

/// Calls `fn(layerIndex, block)` for every layer, expanding `repeat`.
template <typename Fn> void forEachLayer(const model::Model &model, Fn fn) {
  int64_t layer = 0;
  for (const model::Block &block : model.blocks())
    for (int64_t r = 0; r < block.repeat(); ++r)
      fn(layer++, block);
}

} // namespace mlir::uoe

#endif // UOE_FRONTEND_MODELDESCRIPTION_H
