//===- LossToLinalg.cpp - the cross-entropy loss and its gradient --------===//
//
// Lowers `uoe.cross_entropy` (the mean token cross-entropy over the items
// with a valid target) and `uoe.cross_entropy_grad` to linalg on tensors:
// - the loss: the row maximum, the sum of `exp(x - max)` per row, then one
//   reduction over all the items, in order, into a rank-0 total and count:
//   `lse - x[t] = (max - x[t]) + log(sum exp(x - max))` for a valid target,
//   nothing for an ignored one; the mean is `total / count` (0 when no item
//   is valid);
// - its gradient: `loss_grad / count * (softmax(x) - onehot(t))` on the valid
//   items and 0 elsewhere, with the masked-row-safe softmax the router and
//   attention use (passes/Lowerings.h).
// A target is valid when it is a class of `[0, V)`; any other value (e.g.
// -1 for padding) is ignored, never read out of range.
//
//===----------------------------------------------------------------------===//

#include "passes/LinalgBuilder.h"
#include "passes/Lowerings.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/PatternMatch.h"

#include <cmath>

using namespace mlir;
using namespace mlir::uoe;

/// Whether target `t` (i64) is a class of `[0, vocab)`.
static Value validTarget(ImplicitLocOpBuilder &b, Value t, int64_t vocab) {
  Type i64 = b.getI64Type();
  return arith::AndIOp::create(
      b,
      arith::CmpIOp::create(b, arith::CmpIPredicate::sge, t,
                            constInt(b, i64, 0)),
      arith::CmpIOp::create(b, arith::CmpIPredicate::slt, t,
                            constInt(b, i64, vocab)));
}

namespace {

/// `num / den` for scalar tensors of `elt`, 0 when `den` is 0 (no valid
/// item).
Value divideOrZero(ImplicitLocOpBuilder &b, Value num, Value den, Type elt) {
  return elementwise(b, {{num, Role::Full}, {den, Role::Full}}, den, elt,
                     [&](ImplicitLocOpBuilder &b, ValueRange a) {
                       Value zero = constFloat(b, elt, 0.0);
                       Value none = arith::CmpFOp::create(
                           b, arith::CmpFPredicate::OEQ, a[1], zero);
                       return SmallVector<Value>{arith::SelectOp::create(
                           b, none, zero,
                           arith::DivFOp::create(b, a[0], a[1]))};
                     })[0];
}

/// `sum(valid ? lse - x[t] : 0) / count(valid)` (0 without valid items):
/// row max, sum of exponentials, then one reduction over the items in
/// order.
struct CrossEntropyToLinalg : OpRewritePattern<CrossEntropyOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(CrossEntropyOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Value logits = op.getLogits(), targets = op.getTargets();
    auto type = op.getLogits().getType();
    Type elt = type.getElementType();
    int64_t rank = type.getRank(), vocab = type.getShape().back();
    Value rowMax = reduce(
        b, {{logits, Role::Full}}, logits, Role::Row, {-INFINITY}, elt,
        [](ImplicitLocOpBuilder &b, ValueRange a) {
          return SmallVector<Value>{arith::MaximumFOp::create(b, a[0], a[1])};
        })[0];
    Value sumExp = reduce(
        b, {{logits, Role::Full}, {rowMax, Role::Row}}, logits, Role::Row,
        {0.0}, elt, [](ImplicitLocOpBuilder &b, ValueRange a) {
          Value e =
              math::ExpOp::create(b, arith::SubFOp::create(b, a[0], a[1]));
          return SmallVector<Value>{arith::AddFOp::create(b, a[2], e)};
        })[0];
    // Loops over the items (targets' shape): total and count.
    SmallVector<Value> acc = reduce(
        b, {{targets, Role::Full}, {rowMax, Role::Full}, {sumExp, Role::Full}},
        targets, Role::Scalar, {0.0, 0.0}, elt,
        [&](ImplicitLocOpBuilder &b, ValueRange a) {
          Value valid = validTarget(b, a[0], vocab);
          Value t = arith::SelectOp::create(b, valid, a[0],
                                            constInt(b, b.getI64Type(), 0));
          SmallVector<Value> at;
          for (int64_t i = 0; i + 1 < rank; ++i)
            at.push_back(loopIndex(b, i));
          at.push_back(arith::IndexCastOp::create(b, b.getIndexType(), t));
          Value xt = tensor::ExtractOp::create(b, logits, at);
          // lse - x[t] = (max - x[t]) + log(sum exp(x - max)).
          Value term =
              arith::AddFOp::create(b, arith::SubFOp::create(b, a[1], xt),
                                    math::LogOp::create(b, a[2]));
          Value zero = constFloat(b, elt, 0.0);
          return SmallVector<Value>{
              arith::AddFOp::create(
                  b, a[3], arith::SelectOp::create(b, valid, term, zero)),
              arith::AddFOp::create(
                  b, a[4],
                  arith::SelectOp::create(b, valid, constFloat(b, elt, 1.0),
                                          zero))};
        });
    Value loss =
        divideOrZero(b, acc[0], acc[1], elt);
    rewriter.replaceOp(op, loss);
    return success();
  }
};

/// `loss_grad / n * (softmax(x) - onehot(t))` on the valid items, 0
/// elsewhere.
struct CrossEntropyGradToLinalg : OpRewritePattern<CrossEntropyGradOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(CrossEntropyGradOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Value logits = op.getLogits(), targets = op.getTargets();
    auto type = op.getLogits().getType();
    Type elt = type.getElementType(), i64 = b.getI64Type();
    int64_t rank = type.getRank(), vocab = type.getShape().back();
    Value count =
        reduce(b, {{targets, Role::Full}}, targets, Role::Scalar, {0.0}, elt,
               [&](ImplicitLocOpBuilder &b, ValueRange a) {
                 Value valid = validTarget(b, a[0], vocab);
                 return SmallVector<Value>{arith::AddFOp::create(
                     b, a[1],
                     arith::SelectOp::create(b, valid, constFloat(b, elt, 1.0),
                                             constFloat(b, elt, 0.0)))};
               })[0];
    // scale = loss_grad / n, or 0 when n = 0.
    Value scale =
        divideOrZero(b, op.getLossGrad(), count, elt);
    Value probs = softmaxLastDim(b, logits);
    Value grad = elementwise(
        b, {{probs, Role::Full}, {targets, Role::Row}, {scale, Role::Scalar}},
        logits, elt, [&](ImplicitLocOpBuilder &b, ValueRange a) {
          Value zero = constFloat(b, elt, 0.0);
          Value valid = validTarget(b, a[1], vocab);
          Value v = arith::IndexCastOp::create(b, i64, loopIndex(b, rank - 1));
          Value hit =
              arith::CmpIOp::create(b, arith::CmpIPredicate::eq, v, a[1]);
          Value onehot =
              arith::SelectOp::create(b, hit, constFloat(b, elt, 1.0), zero);
          Value g = arith::MulFOp::create(
              b, a[2], arith::SubFOp::create(b, a[0], onehot));
          return SmallVector<Value>{arith::SelectOp::create(b, valid, g, zero)};
        })[0];
    rewriter.replaceOp(op, grad);
    return success();
  }
};

} // namespace

void uoe::populateLossToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<CrossEntropyToLinalg, CrossEntropyGradToLinalg>(
      patterns.getContext());
}
