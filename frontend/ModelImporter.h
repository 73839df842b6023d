//===- ModelImporter.h - model descriptions to uoe IR ---------*- C++ -*-===//
//
// Reads a model description (frontend/model.proto, Protobuf text format),
// resolves its defaults, checks its sizes (errors name the field), lists
// the weights it needs (names and shapes, docs/MODEL_FORMAT.md) and builds
// `func.func @forward` of uoe layer ops (and the embedding and head around
// them) for a given batch and sequence length.
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

/// Limits on what a description may ask for, checked by resolveModel
/// before anything is expanded or allocated (docs/MODEL_FORMAT.md, "Limits"):
/// layers in all (blocks times their `repeat`), any one size field
/// (d_model, vocab_size, hidden, ...) and parameters in all.
constexpr int64_t kMaxModelLayers = 10000;
constexpr int64_t kMaxModelDimension = int64_t(1) << 24;
constexpr int64_t kMaxModelParameters = int64_t(1) << 36;

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

/// The weights of a resolved model, in the order of @forward's parameters
/// (the order in which it uses them): embeddings, then per layer its
/// sub-layers (a post-LN norm after its layer, a pre-RMSNorm norm before),
/// the final norm, the head.
std::vector<ParamSpec> modelParameters(const model::Model &model);

/// The number of values in `params` (saturating at INT64_MAX rather than
/// overflowing), e.g. the parameters of a model.
int64_t parameterCount(const std::vector<ParamSpec> &params);

/// Builds `func.func @forward(%input, [%attention_mask], [%token_type_ids],
/// %params...) -> %result` for `batch` sequences of `seq` tokens. `%input`
/// is token ids `tensor<B x T x i64>` (`uoe.input = "tokens"`) when the
/// model has an embedding, else hidden states `tensor<B x T x d x f32>`
/// (`uoe.input = "hidden"`); the optional inputs are `tensor<B x T x i64>`
/// named by their `uoe.input`, present when the model's `attention_mask` /
/// `token_type_ids` is set. The result is
/// `uoe.result = "logits"`, `[B, T, V]` (lm_head) or `[B, C]` (classifier),
/// or `"hidden"`, `[B, T, d]`, without a head. Parameters carry
/// `uoe.param = "<name>"`; the function carries `llvm.emit_c_interface`.
/// `model` must be resolved; sizes that depend on the shape are checked here
/// (errors name the field: `embedding.max_positions` when T exceeds it).
/// With `outlineBlocks`, each block of the description becomes a private
/// `func.func @block<i>(%x, [%key_padding], %layer_params...)` that
/// @forward calls once per layer (compile time then grows with the blocks,
/// not the layers); without, every layer is inline in @forward (what
/// autodiff and the GPU pipeline take).
llvm::Expected<OwningOpRef<ModuleOp>>
importModel(MLIRContext &context, const model::Model &model, int64_t batch,
            int64_t seq, bool outlineBlocks = false);

} // namespace mlir::uoe

#endif // UOE_FRONTEND_MODELIMPORTER_H
