//===- NormsToLinalg.cpp - LayerNorm and RMSNorm to linalg ---------------===//
//
// Both norms reduce over the last dimension into per-row statistics and
// then normalise elementwise: LayerNorm with the mean and the biased
// variance (two passes, for accuracy), RMSNorm with the mean square.
//
//===----------------------------------------------------------------------===//

#include "passes/LinalgBuilder.h"
#include "passes/Lowerings.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace mlir::uoe;

Value uoe::rowMean(
    ImplicitLocOpBuilder &b, Value x, Value rowValue,
    function_ref<Value(ImplicitLocOpBuilder &, Value, Value)> f) {
  auto type = cast<RankedTensorType>(x.getType());
  Type elt = type.getElementType();
  int64_t rank = type.getRank(), d = type.getShape().back();
  SmallVector<OpFoldResult> sizes = tensorSizes(b, x);
  sizes.pop_back();
  SmallVector<int64_t> all, rows;
  for (int64_t i = 0; i < rank; ++i)
    all.push_back(i);
  rows.assign(all.begin(), all.end() - 1);
  SmallVector<IteratorType> its(rank - 1, kPar);
  its.push_back(kRed);
  SmallVector<Value> inputs{x};
  SmallVector<SmallVector<int64_t>> maps{all};
  if (rowValue) {
    inputs.push_back(rowValue);
    maps.push_back(rows);
  }
  maps.push_back(rows);
  Value sum = buildGeneric(
      b, inputs, filledTensor(b, sizes, elt, b.getFloatAttr(elt, 0.0)), maps,
      its, [&](ImplicitLocOpBuilder &b, ValueRange a) {
        Value v = f(b, a[0], rowValue ? a[1] : Value());
        return SmallVector<Value>{arith::AddFOp::create(b, a.back(), v)};
      })[0];
  return buildGeneric(b, sum, emptyTensor(b, sizes, elt), {rows, rows},
                      SmallVector<IteratorType>(rank - 1, kPar),
                      [&](ImplicitLocOpBuilder &b, ValueRange a) {
                        return SmallVector<Value>{arith::DivFOp::create(
                            b, a[0], constFloat(b, elt, static_cast<double>(d)))};
                      })[0];
}

/// y = (x - shift) * rsqrt(stat + eps) * gamma (+ beta).
static Value normalize(ImplicitLocOpBuilder &b, Value x, Value shift,
                       Value stat, double eps, Value gamma, Value beta) {
  auto type = cast<RankedTensorType>(x.getType());
  Type elt = type.getElementType();
  int64_t rank = type.getRank();
  SmallVector<int64_t> all, rows;
  for (int64_t i = 0; i < rank; ++i)
    all.push_back(i);
  rows.assign(all.begin(), all.end() - 1);
  SmallVector<Value> inputs{x, stat, gamma};
  SmallVector<SmallVector<int64_t>> maps{all, rows, {rank - 1}};
  if (shift) {
    inputs.push_back(shift);
    maps.push_back(rows);
  }
  if (beta) {
    inputs.push_back(beta);
    maps.push_back({rank - 1});
  }
  maps.push_back(all);
  return buildGeneric(
      b, inputs, emptyTensor(b, tensorSizes(b, x), elt), maps,
      SmallVector<IteratorType>(rank, kPar),
      [&](ImplicitLocOpBuilder &b, ValueRange a) {
        Value v = a[0];
        int64_t next = 3;
        if (shift)
          v = arith::SubFOp::create(b, v, a[next++]);
        // 1 / sqrt, not math.rsqrt: libm has no rsqrtf to lower it to.
        Value inv = arith::DivFOp::create(
            b, constFloat(b, elt, 1.0),
            math::SqrtOp::create(
                b, arith::AddFOp::create(b, a[1], constFloat(b, elt, eps))));
        v = arith::MulFOp::create(b, arith::MulFOp::create(b, v, inv), a[2]);
        if (beta)
          v = arith::AddFOp::create(b, v, a[next]);
        return SmallVector<Value>{v};
      })[0];
}

namespace {

struct LayerNormToLinalg : OpRewritePattern<LayerNormOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(LayerNormOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Value x = op.getInput();
    Value mean = rowMean(b, x, Value(),
                         [](ImplicitLocOpBuilder &, Value v, Value) { return v; });
    Value var = rowMean(b, x, mean, [](ImplicitLocOpBuilder &b, Value v, Value m) {
      Value c = arith::SubFOp::create(b, v, m);
      return arith::MulFOp::create(b, c, c).getResult();
    });
    rewriter.replaceOp(op, normalize(b, x, mean, var,
                                     op.getEps().convertToDouble(),
                                     op.getGamma(), op.getBeta()));
    return success();
  }
};

struct RmsNormToLinalg : OpRewritePattern<RmsNormOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(RmsNormOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Value x = op.getInput();
    Value ms = rowMean(b, x, Value(), [](ImplicitLocOpBuilder &b, Value v, Value) {
      return arith::MulFOp::create(b, v, v).getResult();
    });
    rewriter.replaceOp(op, normalize(b, x, Value(), ms,
                                     op.getEps().convertToDouble(),
                                     op.getGamma(), Value()));
    return success();
  }
};

} // namespace

void uoe::populateNormsToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<LayerNormToLinalg, RmsNormToLinalg>(patterns.getContext());
}
