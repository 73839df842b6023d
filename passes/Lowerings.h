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
/// activation, the `*_grad` ops but selective_attention_grad, cross_entropy
/// and cross_entropy_grad (GradToLinalg.cpp).
void populateGradToLinalgPatterns(RewritePatternSet &patterns);
/// selective_attention_grad (AttentionGradToLinalg.cpp).
void populateAttentionGradToLinalgPatterns(RewritePatternSet &patterns);

//===----------------------------------------------------------------------===//
// Pieces shared by the forward and backward lowerings. All build on tensors
// through `b` and work for any float element type.
//===----------------------------------------------------------------------===//

/// Softmax over the last dimension of `logits`; a row that is entirely
/// -inf (fully masked) gives zeros instead of NaNs (RoutingToLinalg.cpp).
Value softmaxLastDim(ImplicitLocOpBuilder &b, Value logits);

/// The stable rank (i64) of every entry of `scores` along its last
/// dimension: how many entries of its row beat it (RoutingToLinalg.cpp).
Value stableRankLastDim(ImplicitLocOpBuilder &b, Value scores);

/// `values` where `ranks < top`, else 0: the top-k mask of token choice.
Value keepTopK(ImplicitLocOpBuilder &b, Value values, Value ranks, int64_t top);

/// Divides every entry of `s` by the sum over dimension `axis` (plus
/// `eps`), times `scale`; a zero denominator gives zero.
Value normalizeOver(ImplicitLocOpBuilder &b, Value s, int64_t axis, double eps,
                    double scale);

/// Per-row mean of `f(x, rowValue)` over the last dimension of `x`
/// (`rowValue`, optional, has the leading shape of `x`) (NormsToLinalg.cpp).
Value rowMean(ImplicitLocOpBuilder &b, Value x, Value rowValue,
              function_ref<Value(ImplicitLocOpBuilder &, Value, Value)> f);

/// `act` on a scalar `x` (not SwiGLU, which needs two inputs)
/// (ExpertComputeToLinalg.cpp).
Value applyActivation(ImplicitLocOpBuilder &b, Activation act, Value x);

/// `act(x + bias)` elementwise over `x: [..., N]`, `bias` (optional)
/// indexed by the loops `biasDims`; SwiGLU takes the `[gate | up]` halves
/// of the last dimension and yields `[..., N / 2]`.
Value activationEpilogue(ImplicitLocOpBuilder &b, Value x, Value bias,
                         ArrayRef<int64_t> biasDims, Activation act);

/// `slotOf[e, r, p]`: the slot `i` with `positions[e, r, i] == p`, or -1,
/// for `positions: [E, R, L]` of distinct patch indices in
/// `[0, numPatches)`.
Value inversePositions(ImplicitLocOpBuilder &b, Value positions,
                       int64_t numPatches);

/// The rotary cos/sin table `[n, dh/2, 2]` for `rope` (n = L when
/// compacted, max(positions) + 1 when original), computed in float64 and
/// rounded once to `elt` (AttentionToLinalg.cpp).
Value ropeTable(ImplicitLocOpBuilder &b, Value query, Value positions,
                RopeMode rope, int64_t dh, double base, Type elt);

/// Rotate-half rotary embedding of `x: [E, B, L, D]` (heads of width
/// `dh`); with `inverse`, the transposed rotation R^T, which undoes it.
Value applyRope(ImplicitLocOpBuilder &b, Value x, Value positions, Value table,
                RopeMode rope, int64_t dh, bool inverse = false);

/// `[E, B, L, D]` -> `[E*B*h, L, dh]` (`[E*B*h, dh, L]` with `transposed`).
Value toHeads(ImplicitLocOpBuilder &b, Value x, int64_t heads, bool transposed);

/// `[E*B*h, L, dh]` -> `type` (`[E, B, L, D]`), `l` the size of L.
Value fromHeads(ImplicitLocOpBuilder &b, Value x, RankedTensorType type,
                int64_t heads, OpFoldResult l);

/// The size of L of `query: [E, B, L, D]`: static when it is.
OpFoldResult attentionLength(ImplicitLocOpBuilder &b, Value query);

/// The score scale: `scale` or `1 / sqrt(dh)`.
double attentionScale(std::optional<APFloat> scale, int64_t dh);

/// The attention probabilities `[E*B*h, L, L]` of (rotated) `q`, `k`:
/// scaled scores `q k^T` as one batch matmul, the causal and key-padding
/// masks by original position, then the masked-row-safe softmax.
Value attentionProbs(ImplicitLocOpBuilder &b, Value q, Value k, Value positions,
                     Value padding, int64_t heads, bool causal, double scale);

} // namespace uoe
} // namespace mlir

#endif // UOE_PASSES_LOWERINGS_H
