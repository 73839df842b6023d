//===- Lowerings.h - uoe to linalg lowering patterns ----------*- C++ -*-===//
//
// The pattern sets of `--convert-uoe-to-linalg`, one per op family and
// file, each holding the family's forward ops and their `*_grad` ops, and
// the few pieces that several families build with (Lowerings.cpp). A piece
// that one family alone uses is private to that family's file; the
// generic-op builder itself is passes/LinalgBuilder.h.
//
//===----------------------------------------------------------------------===//

#ifndef UOE_PASSES_LOWERINGS_H
#define UOE_PASSES_LOWERINGS_H

#include "dialect/UoEOps.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace mlir {
class RewritePatternSet;
namespace uoe {

/// router, router_grad, token_choice, token_choice_grad, expert_select,
/// data_select, data_select_grad (RoutingToLinalg.cpp).
void populateRoutingToLinalgPatterns(RewritePatternSet &patterns);
/// dispatch, combine, expert_matmul, dense_mlp through expert_matmul,
/// activation, activation_grad (ExpertComputeToLinalg.cpp).
void populateExpertComputeToLinalgPatterns(RewritePatternSet &patterns);
/// selective_attention, selective_attention_grad, and attention through
/// selective_attention (AttentionToLinalg.cpp).
void populateAttentionToLinalgPatterns(RewritePatternSet &patterns);
/// layer_norm, layer_norm_grad, rms_norm, rms_norm_grad (NormsToLinalg.cpp).
void populateNormsToLinalgPatterns(RewritePatternSet &patterns);
/// embedding, embedding_grad (EmbeddingToLinalg.cpp).
void populateEmbeddingToLinalgPatterns(RewritePatternSet &patterns);
/// cross_entropy, cross_entropy_grad (LossToLinalg.cpp).
void populateLossToLinalgPatterns(RewritePatternSet &patterns);

//===----------------------------------------------------------------------===//
// Pieces several families share (Lowerings.cpp). Both build on tensors
// through `b` and work for any float element type; a backward that
// recomputes a forward value calls the same piece, so that it gets the
// forward's value bit for bit.
//===----------------------------------------------------------------------===//

/// Softmax over the last dimension of `logits`; a row that is entirely
/// -inf (fully masked) gives zeros instead of NaNs. Used by the router,
/// attention (forward and backward) and the cross-entropy gradient.
Value softmaxLastDim(ImplicitLocOpBuilder &b, Value logits);

/// `slotOf[e, r, p]`: the slot `i` with `positions[e, r, i] == p`, or -1,
/// for `positions: [E, R, L]` of distinct patch indices in
/// `[0, numPatches)`. Used by the combine and the data selection's
/// gradient.
Value inversePositions(ImplicitLocOpBuilder &b, Value positions,
                       int64_t numPatches);

/// One element of inversePositions' result, read inside a generic's body:
/// whether a slot holds the patch, and that slot as an index (0 when none,
/// so that it can address a tensor; select on `valid` before using what it
/// reads).
struct SlotLookup {
  Value valid, slot;
};
SlotLookup lookupSlot(ImplicitLocOpBuilder &b, Value slotOrMinusOne);

/// The router's probabilities from its logits `[..., E]`: softmax over the
/// experts, or the elementwise sigmoid. Used by the router's linalg
/// lowering and by uoe-routing-to-calls, whose logits are the runtime's.
Value routerScores(ImplicitLocOpBuilder &b, RouterScore score, Value logits);

/// The patch scores `[E, R, N/P]` of a data selection: each patch's
/// scores summed in token order, then divided once by P (spec §3).
Value dataSelectPatchScores(ImplicitLocOpBuilder &b, DataSelectOp op);

/// The data selection's slot count L as an i64: its static capacity, or
/// (dynamic) the largest number of positive patch scores `ps` over all
/// (expert, row).
Value dataSelectLength(ImplicitLocOpBuilder &b, DataSelectOp op, Value ps);

} // namespace uoe
} // namespace mlir

#endif // UOE_PASSES_LOWERINGS_H
