//===- GradToLinalg.cpp - loss and gradient ops to linalg ----------------===//
//
// Lowers the training ops of dialect/UoEGradOps.td (but the attention
// backward, AttentionGradToLinalg.cpp) to linalg on tensors. Every `*_grad`
// op recomputes what it needs from the forward operands with the forward's
// own pieces (softmax, stable top-k ranks, norm statistics, the inverse
// index of the combine, the expert activation), then applies the
// vector-Jacobian product of its description:
// - activations: `dy * act'(x)` elementwise; SwiGLU writes both halves;
// - norms: per-row statistics and two row sums, then `dx` elementwise, and
//   the parameter gradients as sums over the rows;
// - embedding: a scatter-add of rows, one token after the other (scf.for):
//   deterministic, and linear in the number of tokens;
// - router: `dlogits` from the probabilities, then `dx = dlogits W` and
//   `dW = dlogits^T x` as `linalg.batch_matmul`s (BLAS in f32);
// - token choice: the normalisations' Jacobians in reverse order, then the
//   recomputed top-k mask;
// - data selection: a gather through the inverse index of the positions;
// - cross-entropy: log-sum-exp with the row maximum subtracted, and its
//   gradient `softmax - onehot`, over the items with a valid target.
// Every sum runs in a fixed order (reduction loops, no atomics), so results
// are deterministic.
//
//===----------------------------------------------------------------------===//

#include "passes/LinalgBuilder.h"
#include "passes/Lowerings.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/PatternMatch.h"

#include <cmath>

using namespace mlir;
using namespace mlir::uoe;

//===----------------------------------------------------------------------===//
// Shared pieces
//===----------------------------------------------------------------------===//

/// `acc + v`, the body of a plain sum.
static Value add(ImplicitLocOpBuilder &b, Value acc, Value v) {
  return arith::AddFOp::create(b, acc, v);
}

/// `1 / sqrt(v + eps)` (not math.rsqrt: libm has no rsqrtf to lower it to).
static Value invSqrt(ImplicitLocOpBuilder &b, Value v, double eps) {
  Type t = v.getType();
  return arith::DivFOp::create(
      b, constFloat(b, t, 1.0),
      math::SqrtOp::create(b,
                           arith::AddFOp::create(b, v, constFloat(b, t, eps))));
}

/// The logistic function `1 / (1 + exp(-x))`.
static Value sigmoid(ImplicitLocOpBuilder &b, Value x) {
  Type t = x.getType();
  Value one = constFloat(b, t, 1.0);
  Value e = math::ExpOp::create(b, arith::NegFOp::create(b, x));
  return arith::DivFOp::create(b, one, arith::AddFOp::create(b, one, e));
}

/// `act'(x)` for the elementwise activations (not SwiGLU).
static Value activationDerivative(ImplicitLocOpBuilder &b, Activation act,
                                  Value x) {
  Type t = x.getType();
  auto c = [&](double v) { return constFloat(b, t, v); };
  auto mul = [&](Value l, Value r) {
    return arith::MulFOp::create(b, l, r).getResult();
  };
  auto addf = [&](Value l, Value r) {
    return arith::AddFOp::create(b, l, r).getResult();
  };
  switch (act) {
  case Activation::None:
  case Activation::SwiGlu:
    return c(1.0);
  case Activation::Gelu: {
    // d/dx x Phi(x) = Phi(x) + x phi(x).
    Value cdf =
        mul(c(0.5), addf(c(1.0), math::ErfOp::create(b, mul(x, c(M_SQRT1_2)))));
    Value pdf = mul(c(0.5 * M_2_SQRTPI * M_SQRT1_2),
                    math::ExpOp::create(b, mul(c(-0.5), mul(x, x))));
    return addf(cdf, mul(x, pdf));
  }
  case Activation::GeluTanh: {
    // y = x/2 (1 + tanh(u)), u = k (x + a x^3):
    // y' = (1 + tanh(u)) / 2 + x/2 (1 - tanh(u)^2) k (1 + 3 a x^2).
    double k = std::sqrt(2.0 / M_PI), a = 0.044715;
    Value x2 = mul(x, x);
    Value u = mul(c(k), addf(x, mul(c(a), mul(x2, x))));
    Value th = math::TanhOp::create(b, u);
    Value du = mul(c(k), addf(c(1.0), mul(c(3.0 * a), x2)));
    Value sech2 = arith::SubFOp::create(b, c(1.0), mul(th, th));
    return addf(mul(c(0.5), addf(c(1.0), th)),
                mul(mul(c(0.5), x), mul(sech2, du)));
  }
  case Activation::Relu: {
    // 0 at x = 0, as PyTorch's threshold backward.
    Value positive =
        arith::CmpFOp::create(b, arith::CmpFPredicate::OGT, x, c(0.0));
    return arith::SelectOp::create(b, positive, c(1.0), c(0.0));
  }
  case Activation::Silu: {
    // silu' = s (1 + x (1 - s)), s = sigmoid(x).
    Value s = sigmoid(b, x);
    return mul(s, addf(c(1.0), mul(x, arith::SubFOp::create(b, c(1.0), s))));
  }
  }
  llvm_unreachable("unknown activation");
}

/// A static tensor `[..., K]` as the single batch `[1, M, K]` of a batch
/// matmul (M the product of the leading sizes, 1 for a vector).
static Value asBatch(ImplicitLocOpBuilder &b, Value v) {
  auto type = cast<RankedTensorType>(v.getType());
  int64_t rank = type.getRank(), k = type.getShape().back();
  int64_t m = type.getNumElements() / k;
  auto batch = RankedTensorType::get({1, m, k}, type.getElementType());
  if (rank == 1)
    return tensor::ExpandShapeOp::create(
        b, batch, v, SmallVector<ReassociationIndices>{{0, 1, 2}});
  if (rank > 2) {
    ReassociationIndices rows;
    for (int64_t i = 0; i + 1 < rank; ++i)
      rows.push_back(i);
    v = collapse(b, v, {rows, {rank - 1}});
  }
  return tensor::ExpandShapeOp::create(
      b, batch, v, SmallVector<ReassociationIndices>{{0, 1}, {2}});
}

/// The inverse of `asBatch`: `[1, M, K]` back to `type`.
static Value fromBatch(ImplicitLocOpBuilder &b, Value v,
                       RankedTensorType type) {
  int64_t rank = type.getRank();
  if (rank == 1)
    return collapse(b, v, {{0, 1, 2}});
  v = collapse(b, v, {{0, 1}, {2}});
  if (rank == 2)
    return v;
  ReassociationIndices rows;
  for (int64_t i = 0; i + 1 < rank; ++i)
    rows.push_back(i);
  return tensor::ExpandShapeOp::create(
      b, type, v, SmallVector<ReassociationIndices>{rows, {rank - 1}});
}

/// The gradient of `normalizeOver(s, axis, eps, scale)` for the result
/// gradient `dout`: with `D = sum_axis(s) + eps`,
/// `ds = scale / D * (dout - sum_axis(dout * s) / D)`, and 0 where `D = 0`
/// (the forward gives 0 there).
static Value normalizeOverGrad(ImplicitLocOpBuilder &b, Value s, Value dout,
                               int64_t axis, double eps, double scale) {
  auto type = cast<RankedTensorType>(s.getType());
  Type elt = type.getElementType();
  int64_t rank = type.getRank();
  SmallVector<OpFoldResult> sizes = tensorSizes(b, s), reduced;
  SmallVector<int64_t> all, kept;
  for (int64_t d = 0; d < rank; ++d) {
    all.push_back(d);
    if (d != axis) {
      kept.push_back(d);
      reduced.push_back(sizes[d]);
    }
  }
  // Loops: the kept dims in order, then the reduced axis last (as the
  // forward's normalizeOver, so that D is bit for bit the forward's).
  SmallVector<int64_t> inMap(rank), outMap;
  for (auto [pos, d] : llvm::enumerate(kept))
    inMap[d] = pos;
  inMap[axis] = rank - 1;
  for (int64_t i = 0; i + 1 < rank; ++i)
    outMap.push_back(i);
  SmallVector<IteratorType> its(rank - 1, kPar);
  its.push_back(kRed);
  Value zeros = filledTensor(b, reduced, elt, b.getFloatAttr(elt, 0.0));
  SmallVector<Value> sums =
      buildGeneric(b, {s, dout}, {zeros, zeros}, {inMap, inMap, outMap, outMap},
                   its, [](ImplicitLocOpBuilder &b, ValueRange a) {
                     return SmallVector<Value>{
                         add(b, a[2], a[0]),
                         add(b, a[3], arith::MulFOp::create(b, a[1], a[0]))};
                   });
  return buildGeneric(
      b, {dout, sums[0], sums[1]}, emptyTensor(b, sizes, elt),
      {all, kept, kept, all}, SmallVector<IteratorType>(rank, kPar),
      [&](ImplicitLocOpBuilder &b, ValueRange a) {
        Value zero = constFloat(b, elt, 0.0);
        Value den = arith::AddFOp::create(b, a[1], constFloat(b, elt, eps));
        Value isZero =
            arith::CmpFOp::create(b, arith::CmpFPredicate::OEQ, den, zero);
        Value centred =
            arith::SubFOp::create(b, a[0], arith::DivFOp::create(b, a[2], den));
        Value g =
            arith::MulFOp::create(b, arith::DivFOp::create(b, centred, den),
                                  constFloat(b, elt, scale));
        return SmallVector<Value>{arith::SelectOp::create(b, isZero, zero, g)};
      })[0];
}

//===----------------------------------------------------------------------===//
// Patterns
//===----------------------------------------------------------------------===//

namespace {

/// The expert matmul's epilogue without the GEMM and bias; `none` is the
/// input itself.
struct ActivationToLinalg : OpRewritePattern<ActivationOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ActivationOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getActivation() == Activation::None) {
      rewriter.replaceOp(op, op.getInput());
      return success();
    }
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    rewriter.replaceOp(op, activationEpilogue(b, op.getInput(), Value(), {},
                                              op.getActivation()));
    return success();
  }
};

/// `dx = dy * act'(x)`; SwiGLU: `d gate = dy * up * silu'(gate)`,
/// `d up = dy * silu(gate)`, written into the two halves.
struct ActivationGradToLinalg : OpRewritePattern<ActivationGradOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ActivationGradOp op,
                                PatternRewriter &rewriter) const override {
    Activation act = op.getActivation();
    if (act == Activation::None) {
      rewriter.replaceOp(op, op.getResultGrad());
      return success();
    }
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Value x = op.getInput(), dy = op.getResultGrad();
    Type elt = op.getType().getElementType();
    if (act != Activation::SwiGlu) {
      rewriter.replaceOp(
          op, elementwise(b, {{x, Role::Full}, {dy, Role::Full}}, x, elt,
                          [&](ImplicitLocOpBuilder &b, ValueRange a) {
                            return SmallVector<Value>{arith::MulFOp::create(
                                b, a[1], activationDerivative(b, act, a[0]))};
                          })[0]);
      return success();
    }
    // One generic over [..., 2W] whose channel c reads its gate and up
    // partners (c and c + W, or c - W and c); writing two halves into one
    // tensor with insert_slice costs copies after bufferization.
    int64_t width = op.getType().getShape().back() / 2;
    int64_t rank = op.getType().getRank();
    Value result =
        elementwise(b, {}, x, elt, [&](ImplicitLocOpBuilder &b, ValueRange) {
          SmallVector<Value> at;
          for (int64_t i = 0; i < rank; ++i)
            at.push_back(loopIndex(b, i));
          Value c = at.back(), w = constIndex(b, width);
          Value isGate =
              arith::CmpIOp::create(b, arith::CmpIPredicate::ult, c, w);
          Value gc = arith::SelectOp::create(b, isGate, c,
                                             arith::SubIOp::create(b, c, w));
          at.back() = gc;
          Value gate = tensor::ExtractOp::create(b, x, at);
          Value g = tensor::ExtractOp::create(b, dy, at);
          at.back() = arith::AddIOp::create(b, gc, w);
          Value up = tensor::ExtractOp::create(b, x, at);
          Value dGate = arith::MulFOp::create(
              b, arith::MulFOp::create(b, g, up),
              activationDerivative(b, Activation::Silu, gate));
          Value dUp = arith::MulFOp::create(
              b, g, applyActivation(b, Activation::Silu, gate));
          return SmallVector<Value>{
              arith::SelectOp::create(b, isGate, dGate, dUp)};
        })[0];
    rewriter.replaceOp(op, result);
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
                 return SmallVector<Value>{add(b, a[5], g), add(b, a[6], gx)};
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
          return SmallVector<Value>{add(b, a[4], dxh), add(b, a[5], a[1])};
        });
    rewriter.replaceOp(op, {dx, params[0], params[1]});
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
          return SmallVector<Value>{
              add(b, a[3], arith::MulFOp::create(b, g, a[0]))};
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
          return SmallVector<Value>{add(b, a[3], t)};
        })[0];
    rewriter.replaceOp(op, {dx, dgamma});
    return success();
  }
};

/// `table_grad[clamp(id_i)] += dy[i]` for i = 0, 1, ... in order: a loop
/// over the tokens carrying the table, each step adding one row in place.
/// (A linalg formulation needs a pass over the whole table per token or a
/// sort; the loop is linear in the tokens and keeps the order.)
struct EmbeddingGradToLinalg : OpRewritePattern<EmbeddingGradOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(EmbeddingGradOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    auto type = op.getType();
    Type elt = type.getElementType(), i64 = b.getI64Type();
    int64_t vocab = type.getShape()[0], d = type.getShape()[1];
    Value ids = op.getIds(), dy = op.getResultGrad();
    int64_t rank = op.getIds().getType().getRank();
    // ids: [..., T] -> [N]; dy: [..., T, d] -> [N, d].
    if (rank > 1) {
      ReassociationIndices all;
      for (int64_t i = 0; i < rank; ++i)
        all.push_back(i);
      ids = collapse(b, ids, {all});
      dy = collapse(b, dy, {all, {rank}});
    }
    int64_t n = cast<RankedTensorType>(ids.getType()).getShape()[0];
    Value table = filledTensor(b, {b.getIndexAttr(vocab), b.getIndexAttr(d)},
                               elt, b.getFloatAttr(elt, 0.0));
    auto rowType = RankedTensorType::get({1, d}, elt);
    auto loop = scf::ForOp::create(
        b, constIndex(b, 0), constIndex(b, n), constIndex(b, 1),
        ValueRange{table},
        [&](OpBuilder &nested, Location loc, Value i, ValueRange iter) {
          ImplicitLocOpBuilder b(loc, nested);
          Value id = tensor::ExtractOp::create(b, ids, ValueRange{i});
          if (id.getType() != i64)
            id = arith::ExtSIOp::create(b, i64, id);
          // The forward's clamp to [0, V - 1].
          id = arith::MaxSIOp::create(b, id, constInt(b, i64, 0));
          id = arith::MinSIOp::create(b, id, constInt(b, i64, vocab - 1));
          Value row = arith::IndexCastOp::create(b, b.getIndexType(), id);
          SmallVector<OpFoldResult> sizes{b.getIndexAttr(1), b.getIndexAttr(d)},
              strides(2, b.getIndexAttr(1));
          SmallVector<OpFoldResult> at{row, b.getIndexAttr(0)},
              from{i, b.getIndexAttr(0)};
          Value acc = tensor::ExtractSliceOp::create(b, rowType, iter[0], at,
                                                     sizes, strides);
          Value g = tensor::ExtractSliceOp::create(b, rowType, dy, from, sizes,
                                                   strides);
          Value sum =
              buildGeneric(b, g, acc, {{0, 1}, {0, 1}}, {kPar, kPar},
                           [](ImplicitLocOpBuilder &b, ValueRange a) {
                             return SmallVector<Value>{add(b, a[1], a[0])};
                           })[0];
          Value updated = tensor::InsertSliceOp::create(b, sum, iter[0], at,
                                                        sizes, strides);
          scf::YieldOp::create(b, updated);
        });
    rewriter.replaceOp(op, loop.getResult(0));
    return success();
  }
};

/// `dlogits` from the probabilities, then two batch matmuls and a sum.
struct RouterGradToLinalg : OpRewritePattern<RouterGradOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(RouterGradOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Value p = op.getProbs(), dp = op.getProbsGrad();
    Type elt = op.getProbs().getType().getElementType();
    Value dlogits;
    if (op.getScore() == RouterScore::Softmax) {
      // dlogits = p * (dp - sum_e p dp).
      Value dot = reduce(b, {{p, Role::Full}, {dp, Role::Full}}, p, Role::Row,
                         {0.0}, elt, [](ImplicitLocOpBuilder &b, ValueRange a) {
                           return SmallVector<Value>{add(
                               b, a[2], arith::MulFOp::create(b, a[0], a[1]))};
                         })[0];
      dlogits =
          elementwise(b, {{p, Role::Full}, {dp, Role::Full}, {dot, Role::Row}},
                      p, elt, [](ImplicitLocOpBuilder &b, ValueRange a) {
                        return SmallVector<Value>{arith::MulFOp::create(
                            b, a[0], arith::SubFOp::create(b, a[1], a[2]))};
                      })[0];
    } else {
      // dlogits = dp * p * (1 - p).
      dlogits = elementwise(b, {{p, Role::Full}, {dp, Role::Full}}, p, elt,
                            [&](ImplicitLocOpBuilder &b, ValueRange a) {
                              Value q = arith::SubFOp::create(
                                  b, constFloat(b, elt, 1.0), a[0]);
                              return SmallVector<Value>{arith::MulFOp::create(
                                  b, a[1], arith::MulFOp::create(b, a[0], q))};
                            })[0];
    }
    // [..., E] and [..., d] as [1, M, E] and [1, M, d].
    Value dl = asBatch(b, dlogits), x = asBatch(b, op.getInput());
    Value w = asBatch(b, op.getWeight());
    Value dx = fromBatch(b, batchMatmul(b, dl, w), op.getInput().getType());
    Value dw = fromBatch(b, batchMatmul(b, transpose(b, dl, {0, 2, 1}), x),
                         op.getWeight().getType());
    Value db = reduce(b, {{dlogits, Role::Full}}, dlogits, Role::Col, {0.0},
                      elt, [](ImplicitLocOpBuilder &b, ValueRange a) {
                        return SmallVector<Value>{add(b, a[1], a[0])};
                      })[0];
    rewriter.replaceOp(op, {dx, dw, db});
    return success();
  }
};

/// The forward's chain (top-k mask, renormalisation, normalisation over
/// the axis) recomputed, then its Jacobians applied in reverse order.
struct TokenChoiceGradToLinalg : OpRewritePattern<TokenChoiceGradOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(TokenChoiceGradOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    auto type = op.getType();
    int64_t rank = type.getRank();
    Value ranks = stableRankLastDim(b, op.getProbs());
    Value s0 = keepTopK(b, op.getProbs(), ranks, op.getTop());
    Value s1 = op.getRenormalize()
                   ? normalizeOver(b, s0, rank - 1, /*eps=*/0.0, /*scale=*/1.0)
                   : s0;
    Value grad = op.getResultGrad();
    if (std::optional<int64_t> axis = op.getAxis()) {
      double n = static_cast<double>(type.getShape()[*axis]);
      double scale = std::floor(op.getCapacity().convertToDouble() * n);
      grad = normalizeOverGrad(b, s1, grad, *axis,
                               op.getEps().convertToDouble(), scale);
    }
    if (op.getRenormalize())
      grad = normalizeOverGrad(b, s0, grad, rank - 1, 0.0, 1.0);
    rewriter.replaceOp(op, keepTopK(b, grad, ranks, op.getTop()));
    return success();
  }
};

/// `scores_grad[r, n, e] = weights_grad[e, r, slotOf[e, r, n / P]] / P`, 0
/// for a patch no slot holds (the combine's inverse index).
struct DataSelectGradToLinalg : OpRewritePattern<DataSelectGradOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(DataSelectGradOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    auto type = op.getType();
    Type elt = type.getElementType(), i64 = b.getI64Type();
    int64_t patch = op.getPatch();
    int64_t r = type.getShape()[0], n = type.getShape()[1],
            e = type.getShape()[2];
    Value inverse = inversePositions(b, op.getPositions(), n / patch);
    Value dw = op.getWeightsGrad();
    MLIRContext *ctx = b.getContext();
    AffineExpr d0 = b.getAffineDimExpr(0), d1 = b.getAffineDimExpr(1),
               d2 = b.getAffineDimExpr(2);
    Value result = buildGenericMaps(
        b, inverse,
        emptyTensor(
            b, {b.getIndexAttr(r), b.getIndexAttr(n), b.getIndexAttr(e)}, elt),
        {AffineMap::get(3, 0, {d2, d0, d1.floorDiv(patch)}, ctx),
         AffineMap::get(3, 0, {d0, d1, d2}, ctx)},
        {kPar, kPar, kPar}, [&](ImplicitLocOpBuilder &b, ValueRange a) {
          Value zero = constFloat(b, elt, 0.0);
          Value valid = arith::CmpIOp::create(b, arith::CmpIPredicate::sge,
                                              a[0], constInt(b, i64, 0));
          Value slot = arith::IndexCastOp::create(
              b, b.getIndexType(),
              arith::SelectOp::create(b, valid, a[0], constInt(b, i64, 0)));
          Value g = tensor::ExtractOp::create(
              b, dw, ValueRange{loopIndex(b, 2), loopIndex(b, 0), slot});
          if (patch > 1)
            g = arith::DivFOp::create(
                b, g, constFloat(b, elt, static_cast<double>(patch)));
          return SmallVector<Value>{arith::SelectOp::create(b, valid, g, zero)};
        })[0];
    rewriter.replaceOp(op, result);
    return success();
  }
};

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
          return SmallVector<Value>{add(b, a[2], e)};
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
              add(b, a[3], arith::SelectOp::create(b, valid, term, zero)),
              add(b, a[4],
                  arith::SelectOp::create(b, valid, constFloat(b, elt, 1.0),
                                          zero))};
        });
    Value loss =
        elementwise(b, {{acc[0], Role::Full}, {acc[1], Role::Full}}, acc[0],
                    elt, [&](ImplicitLocOpBuilder &b, ValueRange a) {
                      Value zero = constFloat(b, elt, 0.0);
                      Value none = arith::CmpFOp::create(
                          b, arith::CmpFPredicate::OEQ, a[1], zero);
                      return SmallVector<Value>{arith::SelectOp::create(
                          b, none, zero, arith::DivFOp::create(b, a[0], a[1]))};
                    })[0];
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
                 return SmallVector<Value>{add(
                     b, a[1],
                     arith::SelectOp::create(b, valid, constFloat(b, elt, 1.0),
                                             constFloat(b, elt, 0.0)))};
               })[0];
    // scale = loss_grad / n, or 0 when n = 0.
    Value scale =
        elementwise(b, {{op.getLossGrad(), Role::Full}, {count, Role::Full}},
                    count, elt, [&](ImplicitLocOpBuilder &b, ValueRange a) {
                      Value zero = constFloat(b, elt, 0.0);
                      Value none = arith::CmpFOp::create(
                          b, arith::CmpFPredicate::OEQ, a[1], zero);
                      return SmallVector<Value>{arith::SelectOp::create(
                          b, none, zero, arith::DivFOp::create(b, a[0], a[1]))};
                    })[0];
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

void uoe::populateGradToLinalgPatterns(RewritePatternSet &patterns) {
  patterns
      .add<ActivationToLinalg, ActivationGradToLinalg, LayerNormGradToLinalg,
           RmsNormGradToLinalg, EmbeddingGradToLinalg, RouterGradToLinalg,
           TokenChoiceGradToLinalg, DataSelectGradToLinalg,
           CrossEntropyToLinalg, CrossEntropyGradToLinalg>(
          patterns.getContext());
}
