//===- ModelImporter.h - model descriptions to uoe IR ---------*- C++ -*-===//
//
// Builds `func.func @forward` of uoe layer ops (and the embedding and head
// around them) from a resolved model description for a given batch and
// sequence length. The frontend in three parts, by job: the description
// (parsing, defaults, checks: ModelDescription.h), its weights
// (ModelParameters.h) and the IR (here); this header includes the other
// two, so that it is the frontend's whole interface.
//
//===----------------------------------------------------------------------===//

#ifndef UOE_FRONTEND_MODELIMPORTER_H
#define UOE_FRONTEND_MODELIMPORTER_H

#include "frontend/ModelDescription.h"
#include "frontend/ModelParameters.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/Support/Error.h"


namespace mlir::uoe {

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

/// Why `model` cannot decode incrementally with a key/value cache (an
/// error naming the field), or success: a language model whose attention
/// is dense and causal without rotary embedding, or causal-safe causal
/// SMHA, and whose MLPs compute each token alone (dense, token-choice MoE,
/// or UoME with causal-safe routing along the sequence).
llvm::Error checkDecodable(const model::Model &model);

/// Builds the two entry points of incremental decoding (docs/SPEC.md,
/// "Decoding") for `batch` sequences:
///
///   @prefill(%tokens: [B, P], %start: [B], %last: [B], %kv_cache: i64,
///            %params...) -> logits [B, V]
///   @decode_step(%tokens: [B, 1], %start, %last, %kv_cache, %params...)
///
/// Each appends its tokens at positions `start[b] + t` to the cache named
/// by `kv_cache` (runtime/CpuKvCache.h) and returns the logits of token
/// `last[b]` of each sequence; P is `prefill`. Blocks are functions, as
/// with outlineBlocks. checkDecodable's errors pass unchanged.
llvm::Expected<OwningOpRef<ModuleOp>> importDecoder(MLIRContext &context,
                                                    const model::Model &model,
                                                    int64_t batch,
                                                    int64_t prefill);

} // namespace mlir::uoe

#endif // UOE_FRONTEND_MODELIMPORTER_H
