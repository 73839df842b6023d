//===- NormsToLinalg.cpp - LayerNorm, RMSNorm and their gradients -------===//
//
// Both norms reduce over the last dimension into per-row statistics and
// then normalise elementwise: LayerNorm with the mean and the biased
// variance (two passes, for accuracy), RMSNorm with the mean square.
//
// Their gradients (`uoe.layer_norm_grad`, `uoe.rms_norm_grad`) recompute
// the statistics exactly as the forward does (the same `rowMean`), then
// take two row sums (`sum(g)` and `sum(g * xhat)` with `g = dy * gamma`;
// RMSNorm needs only `sum(g * x)`), write `dx` in one elementwise generic,
// and reduce the parameter gradients over the rows (loops over the rows
// are reductions, the column loop parallel).
//
//===----------------------------------------------------------------------===//

#include "passes/LinalgBuilder.h"
#include "passes/Lowerings.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace mlir::uoe;

//===----------------------------------------------------------------------===//
// Pieces of the forward and the backward
//===----------------------------------------------------------------------===//

/// Per-row mean of `f(x, rowValue)` over the last dimension of `x`
/// (`rowValue`, optional, has the leading shape of `x`): a sum in order,
/// then one division by d.
static Value
rowMean(ImplicitLocOpBuilder &b, Value x, Value rowValue,
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

/// `1 / sqrt(v + eps)` (not math.rsqrt: libm has no rsqrtf to lower it to).
static Value invSqrt(ImplicitLocOpBuilder &b, Value v, double eps) {
  Type t = v.getType();
  return arith::DivFOp::create(
      b, constFloat(b, t, 1.0),
      math::SqrtOp::create(b,
                           arith::AddFOp::create(b, v, constFloat(b, t, eps))));
}

//===----------------------------------------------------------------------===//
// Patterns
//===----------------------------------------------------------------------===//

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

/// Per row: mean, rstd, mean(g) and mean(g * xhat) (`g = dy * gamma`), then
/// `dx` elementwise; `dgamma`, `dbeta` as sums over the rows.
struct LayerNormGradToLinalg : OpRewritePattern<LayerNormGradOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(LayerNormGradOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Value x = op.getInput(), gamma = op.getGamma(), dy = op.getResultGrad();
    Type elt = op.getInput().getType().getElementType();
    double d = static_cast<double>(op.getInput().getType().getShape().back());
    double eps = op.getEps().convertToDouble();
    // The forward's statistics, computed as it does.
    Value mean =
        rowMean(b, x, Value(),
                [](ImplicitLocOpBuilder &, Value v, Value) { return v; });
    Value var =
        rowMean(b, x, mean, [](ImplicitLocOpBuilder &b, Value v, Value m) {
          Value c = arith::SubFOp::create(b, v, m);
          return arith::MulFOp::create(b, c, c).getResult();
        });
    Value rstd = elementwise(b, {{var, Role::Full}}, var, elt,
                             [&](ImplicitLocOpBuilder &b, ValueRange a) {
                               return SmallVector<Value>{invSqrt(b, a[0], eps)};
                             })[0];
    auto xhat = [](ImplicitLocOpBuilder &b, Value x, Value mean, Value rstd) {
      return arith::MulFOp::create(b, arith::SubFOp::create(b, x, mean), rstd)
          .getResult();
    };
    SmallVector<Operand> rowInputs{{x, Role::Full},
                                   {dy, Role::Full},
                                   {gamma, Role::Col},
                                   {mean, Role::Row},
                                   {rstd, Role::Row}};
    // sums[0] = sum(g), sums[1] = sum(g * xhat) per row.
    SmallVector<Value> sums =
        reduce(b, rowInputs, x, Role::Row, {0.0, 0.0}, elt,
               [&](ImplicitLocOpBuilder &b, ValueRange a) {
                 Value g = arith::MulFOp::create(b, a[1], a[2]);
                 Value gx =
                     arith::MulFOp::create(b, g, xhat(b, a[0], a[3], a[4]));
                 return SmallVector<Value>{arith::AddFOp::create(b, a[5], g),
                                           arith::AddFOp::create(b, a[6], gx)};
               });
    SmallVector<Operand> dxInputs(rowInputs);
    dxInputs.push_back({sums[0], Role::Row});
    dxInputs.push_back({sums[1], Role::Row});
    Value dx = elementwise(
        b, dxInputs, x, elt, [&](ImplicitLocOpBuilder &b, ValueRange a) {
          Value inv = constFloat(b, elt, 1.0 / d);
          Value g = arith::MulFOp::create(b, a[1], a[2]);
          Value meanG = arith::MulFOp::create(b, a[5], inv);
          Value meanGx = arith::MulFOp::create(b, a[6], inv);
          Value v = arith::SubFOp::create(
              b, arith::SubFOp::create(b, g, meanG),
              arith::MulFOp::create(b, xhat(b, a[0], a[3], a[4]), meanGx));
          return SmallVector<Value>{arith::MulFOp::create(b, a[4], v)};
        })[0];
    SmallVector<Value> params = reduce(
        b,
        {{x, Role::Full},
         {dy, Role::Full},
         {mean, Role::Row},
         {rstd, Role::Row}},
        x, Role::Col, {0.0, 0.0}, elt,
        [&](ImplicitLocOpBuilder &b, ValueRange a) {
          Value dxh = arith::MulFOp::create(b, a[1], xhat(b, a[0], a[2], a[3]));
          return SmallVector<Value>{arith::AddFOp::create(b, a[4], dxh),
                                    arith::AddFOp::create(b, a[5], a[1])};
        });
    rewriter.replaceOp(op, {dx, params[0], params[1]});
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

/// Per row: `r = rsqrt(mean(x^2) + eps)` and `sum(g * x)`, then
/// `dx = r (g - x r^2 mean(g x))`; `dgamma = sum_rows(dy x r)`.
struct RmsNormGradToLinalg : OpRewritePattern<RmsNormGradOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(RmsNormGradOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Value x = op.getInput(), gamma = op.getGamma(), dy = op.getResultGrad();
    Type elt = op.getInput().getType().getElementType();
    double d = static_cast<double>(op.getInput().getType().getShape().back());
    double eps = op.getEps().convertToDouble();
    Value ms =
        rowMean(b, x, Value(), [](ImplicitLocOpBuilder &b, Value v, Value) {
          return arith::MulFOp::create(b, v, v).getResult();
        });
    Value r = elementwise(b, {{ms, Role::Full}}, ms, elt,
                          [&](ImplicitLocOpBuilder &b, ValueRange a) {
                            return SmallVector<Value>{invSqrt(b, a[0], eps)};
                          })[0];
    Value gx = reduce(
        b, {{x, Role::Full}, {dy, Role::Full}, {gamma, Role::Col}}, x,
        Role::Row, {0.0}, elt, [&](ImplicitLocOpBuilder &b, ValueRange a) {
          Value g = arith::MulFOp::create(b, a[1], a[2]);
          return SmallVector<Value>{arith::AddFOp::create(
              b, a[3], arith::MulFOp::create(b, g, a[0]))};
        })[0];
    Value dx = elementwise(
        b,
        {{x, Role::Full},
         {dy, Role::Full},
         {gamma, Role::Col},
         {r, Role::Row},
         {gx, Role::Row}},
        x, elt, [&](ImplicitLocOpBuilder &b, ValueRange a) {
          Value g = arith::MulFOp::create(b, a[1], a[2]);
          Value r2 = arith::MulFOp::create(b, a[3], a[3]);
          Value meanGx =
              arith::MulFOp::create(b, a[4], constFloat(b, elt, 1.0 / d));
          Value v = arith::SubFOp::create(
              b, g,
              arith::MulFOp::create(b, a[0],
                                    arith::MulFOp::create(b, r2, meanGx)));
          return SmallVector<Value>{arith::MulFOp::create(b, a[3], v)};
        })[0];
    Value dgamma = reduce(
        b, {{x, Role::Full}, {dy, Role::Full}, {r, Role::Row}}, x, Role::Col,
        {0.0}, elt, [&](ImplicitLocOpBuilder &b, ValueRange a) {
          Value t = arith::MulFOp::create(
              b, arith::MulFOp::create(b, a[1], a[0]), a[2]);
          return SmallVector<Value>{arith::AddFOp::create(b, a[3], t)};
        })[0];
    rewriter.replaceOp(op, {dx, dgamma});
    return success();
  }
};

} // namespace

void uoe::populateNormsToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<LayerNormToLinalg, LayerNormGradToLinalg, RmsNormToLinalg,
               RmsNormGradToLinalg>(patterns.getContext());
}
