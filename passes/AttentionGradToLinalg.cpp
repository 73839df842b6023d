//===- AttentionGradToLinalg.cpp - the attention backward to linalg ------===//
//
// Lowers `uoe.selective_attention_grad` for each (expert, row, head), with
// the forward's pieces (AttentionToLinalg.cpp) for the recomputation:
//   1. rotate q and k as the forward does and recompute the probabilities
//      P (scores as one batch matmul, masks, safe softmax);
//   2. dP = dO V^T (batch matmul); dS = P * (dP - rowsum(P * dP)) * scale,
//      in one reduction and one elementwise generic (rowsum(P * dP) is
//      rowsum(dO * O) without forming O; masked entries have P = 0, so
//      dS = 0 there);
//   3. dV = P^T dO, dQ = dS K, dK = dS^T Q: three batch matmuls over
//      E*B*heads (BLAS calls in f32);
//   4. back to [E, B, L, D], and dQ, dK rotated back by R^T (the rotation
//      is orthogonal per position).
//
//===----------------------------------------------------------------------===//

#include "passes/LinalgBuilder.h"
#include "passes/Lowerings.h"

#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace mlir::uoe;

namespace {

struct SelectiveAttentionGradToLinalg
    : OpRewritePattern<SelectiveAttentionGradOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(SelectiveAttentionGradOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    auto type = cast<RankedTensorType>(op.getQuery().getType());
    Type elt = type.getElementType();
    int64_t heads = op.getHeads(), dh = type.getShape()[3] / heads;
    RopeMode rope = op.getRope();
    Value positions = op.getPositions();
    Value q = op.getQuery(), k = op.getKey(), table;
    if (rope != RopeMode::None) {
      table = ropeTable(b, q, positions, rope, dh,
                        op.getRopeBase().convertToDouble(), elt);
      q = applyRope(b, q, positions, table, rope, dh);
      k = applyRope(b, k, positions, table, rope, dh);
    }
    double scale = attentionScale(op.getScale(), dh);
    // [N, L, L] with N = E*B*heads.
    Value probs = attentionProbs(b, q, k, positions, op.getKeyPadding(), heads,
                                 op.getCausal(), scale);
    Value dO = toHeads(b, op.getResultGrad(), heads, false);
    Value dP = batchMatmul(b, dO, toHeads(b, op.getValue(), heads, true));

    // delta[n, i] = sum_j P[n, i, j] dP[n, i, j], in order of j.
    SmallVector<OpFoldResult> sizes = tensorSizes(b, probs);
    Value delta = buildGeneric(
        b, {probs, dP},
        filledTensor(b, {sizes[0], sizes[1]}, elt, b.getFloatAttr(elt, 0.0)),
        {{0, 1, 2}, {0, 1, 2}, {0, 1}}, {kPar, kPar, kRed},
        [](ImplicitLocOpBuilder &b, ValueRange a) {
          return SmallVector<Value>{arith::AddFOp::create(
              b, a[2], arith::MulFOp::create(b, a[0], a[1]))};
        })[0];
    // dS = P * (dP - delta) * scale: the gradient of the unscaled scores.
    Value dS = buildGeneric(
        b, {probs, dP, delta}, emptyTensor(b, sizes, elt),
        {{0, 1, 2}, {0, 1, 2}, {0, 1}, {0, 1, 2}}, {kPar, kPar, kPar},
        [&](ImplicitLocOpBuilder &b, ValueRange a) {
          Value centred = arith::SubFOp::create(b, a[1], a[2]);
          return SmallVector<Value>{
              arith::MulFOp::create(b, arith::MulFOp::create(b, a[0], centred),
                                    constFloat(b, elt, scale))};
        })[0];

    OpFoldResult l = attentionLength(b, op.getQuery());
    Value dV = batchMatmul(b, transpose(b, probs, {0, 2, 1}), dO);
    Value dQ = batchMatmul(b, dS, toHeads(b, k, heads, false));
    Value dK = batchMatmul(b, transpose(b, dS, {0, 2, 1}),
                           toHeads(b, q, heads, false));
    dQ = fromHeads(b, dQ, type, heads, l);
    dK = fromHeads(b, dK, type, heads, l);
    dV = fromHeads(b, dV, type, heads, l);
    if (rope != RopeMode::None) {
      dQ = applyRope(b, dQ, positions, table, rope, dh, /*inverse=*/true);
      dK = applyRope(b, dK, positions, table, rope, dh, /*inverse=*/true);
    }
    rewriter.replaceOp(op, {dQ, dK, dV});
    return success();
  }
};

} // namespace

void uoe::populateAttentionGradToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<SelectiveAttentionGradToLinalg>(patterns.getContext());
}
