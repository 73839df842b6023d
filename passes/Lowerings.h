//===- Lowerings.h - uoe to linalg lowering patterns ----------*- C++ -*-===//
//
// The pattern sets of `--convert-uoe-to-linalg`, one per op family and
// file, and the pieces they share.
//
//===----------------------------------------------------------------------===//

#ifndef UOE_PASSES_LOWERINGS_H
#define UOE_PASSES_LOWERINGS_H

#include "dialect/UoEOps.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace mlir {
class RewritePatternSet;
namespace uoe {

/// router, token_choice, expert_select, data_select (RoutingToLinalg.cpp).
void populateRoutingToLinalgPatterns(RewritePatternSet &patterns);
/// dispatch, combine, expert_matmul, and dense_mlp through expert_matmul
/// (ExpertComputeToLinalg.cpp).
void populateExpertComputeToLinalgPatterns(RewritePatternSet &patterns);
/// selective_attention, and attention through it (AttentionToLinalg.cpp).
void populateAttentionToLinalgPatterns(RewritePatternSet &patterns);
/// layer_norm, rms_norm (NormsToLinalg.cpp).
void populateNormsToLinalgPatterns(RewritePatternSet &patterns);
/// embedding (EmbeddingToLinalg.cpp).
void populateEmbeddingToLinalgPatterns(RewritePatternSet &patterns);

/// Softmax over the last dimension of `logits`; a row that is entirely
/// -inf (fully masked) gives zeros instead of NaNs.
Value softmaxLastDim(ImplicitLocOpBuilder &b, Value logits);

} // namespace uoe
} // namespace mlir

#endif // UOE_PASSES_LOWERINGS_H
