//===- ExpertComputeToLinalg.cpp - expert compute and its gradient -------===//
//
// Lowers the data movement and compute of experts, forward and backward:
// - `uoe.dispatch`: a gather, one generic whose body reads the selected row;
// - `uoe.expert_matmul`: `linalg.batch_matmul` over experts (the batch
//   dimensions between E and M are folded into M) plus one epilogue generic
//   for bias and activation (shared with `uoe.activation`);
// - `uoe.expert_gemm` (the fused form of uoe-fuse-selection), where no
//   target kernel took it: back to dispatch, expert_matmul and combine;
// - `uoe.combine`: an inverse index (which slot of expert e holds patch p,
//   passes/Lowerings.h) and one generic that sums the experts' contributions
//   in order e = 0..E-1, as a reduction loop, so the result is
//   deterministic;
// - `uoe.dense_mlp`: rewritten as two single-expert `uoe.expert_matmul`s;
// - `uoe.activation`: the GEMM's epilogue alone (the autodiff pass splits
//   it out of `uoe.expert_matmul` to keep the pre-activation);
// - `uoe.activation_grad`: `dy * act'(x)` in one elementwise generic, with
//   the derivative written out per activation; SwiGLU's generic writes the
//   gate and up halves of the gradient in one pass.
// The gradients of dispatch, combine and expert_matmul are chains of ops
// that exist already (a union combine, a dispatch, GEMMs; their rules are in
// dialect/UoEGradients.cpp), so they have no `*_grad` op to lower.
//
//===----------------------------------------------------------------------===//

#include "passes/LinalgBuilder.h"
#include "passes/Lowerings.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/PatternMatch.h"

#include <cmath>

using namespace mlir;
using namespace mlir::uoe;

//===----------------------------------------------------------------------===//
// Pieces of the forward and the backward
//===----------------------------------------------------------------------===//

/// `act` on a scalar `x` (not SwiGLU, which needs two inputs).
static Value applyActivation(ImplicitLocOpBuilder &b, Activation act, Value x) {
  Type t = x.getType();
  switch (act) {
  case Activation::None:
  case Activation::SwiGlu:
    return x;
  case Activation::Gelu: {
    // 0.5 x (1 + erf(x / sqrt(2))): the exact GELU of the spec.
    Value erf = math::ErfOp::create(
        b, arith::MulFOp::create(b, x, constFloat(b, t, M_SQRT1_2)));
    Value onePlus = arith::AddFOp::create(b, constFloat(b, t, 1.0), erf);
    return arith::MulFOp::create(
        b, arith::MulFOp::create(b, x, constFloat(b, t, 0.5)), onePlus);
  }
  case Activation::GeluTanh: {
    Value x3 = arith::MulFOp::create(b, x, arith::MulFOp::create(b, x, x));
    Value inner = arith::AddFOp::create(
        b, x, arith::MulFOp::create(b, x3, constFloat(b, t, 0.044715)));
    Value th = math::TanhOp::create(
        b, arith::MulFOp::create(b, inner,
                                 constFloat(b, t, std::sqrt(2.0 / M_PI))));
    Value onePlus = arith::AddFOp::create(b, constFloat(b, t, 1.0), th);
    return arith::MulFOp::create(
        b, arith::MulFOp::create(b, x, constFloat(b, t, 0.5)), onePlus);
  }
  case Activation::Relu:
    return arith::MaximumFOp::create(b, x, constFloat(b, t, 0.0));
  case Activation::Silu: {
    Value e = math::ExpOp::create(b, arith::NegFOp::create(b, x));
    return arith::DivFOp::create(
        b, x, arith::AddFOp::create(b, constFloat(b, t, 1.0), e));
  }
  }
  llvm_unreachable("unknown activation");
}

/// `act(x + bias)` elementwise over `x: [..., N]`, `bias` (optional)
/// indexed by the loops `biasDims`; SwiGLU takes the `[gate | up]` halves
/// of the last dimension and yields `[..., N / 2]`.
static Value activationEpilogue(ImplicitLocOpBuilder &b, Value x, Value bias,
                                ArrayRef<int64_t> biasDims, Activation act) {
  auto type = cast<RankedTensorType>(x.getType());
  Type elt = type.getElementType();
  int64_t rank = type.getRank(), n = type.getShape().back();
  bool swiglu = act == Activation::SwiGlu;
  int64_t width = swiglu ? n / 2 : n;
  SmallVector<OpFoldResult> sizes = tensorSizes(b, x);
  sizes.back() = b.getIndexAttr(width);

  // The generic iterates over the result's [..., width]; SwiGLU reads its
  // [gate | up] halves (and those of the bias) as two slices of that width,
  // so that every operand of the generic has the loop's extent.
  auto half = [&](Value v, int64_t start) {
    auto vt = cast<RankedTensorType>(v.getType());
    int64_t rank = vt.getRank();
    SmallVector<OpFoldResult> offsets(rank, b.getIndexAttr(0)),
        sliceSizes = tensorSizes(b, v), strides(rank, b.getIndexAttr(1));
    offsets.back() = b.getIndexAttr(start);
    sliceSizes.back() = b.getIndexAttr(width);
    return tensor::ExtractSliceOp::create(b, v, offsets, sliceSizes, strides)
        .getResult();
  };
  SmallVector<int64_t> all;
  for (int64_t i = 0; i < rank; ++i)
    all.push_back(i);
  SmallVector<Value> inputs{swiglu ? half(x, 0) : x};
  SmallVector<SmallVector<int64_t>> maps{all};
  if (swiglu) {
    inputs.push_back(half(x, width));
    maps.push_back(all);
  }
  if (bias) {
    SmallVector<int64_t> biasMap(biasDims);
    inputs.push_back(swiglu ? half(bias, 0) : bias);
    maps.push_back(biasMap);
    if (swiglu) {
      inputs.push_back(half(bias, width));
      maps.push_back(biasMap);
    }
  }
  maps.push_back(all);
  bool hasBias = static_cast<bool>(bias);
  return buildGeneric(b, inputs, emptyTensor(b, sizes, elt), maps,
                      SmallVector<IteratorType>(rank, kPar),
                      [&](ImplicitLocOpBuilder &b, ValueRange a) {
                        if (!swiglu) {
                          Value v = hasBias
                                        ? arith::AddFOp::create(b, a[0], a[1])
                                        : a[0];
                          return SmallVector<Value>{applyActivation(b, act, v)};
                        }
                        // a = gate, up[, gate bias, up bias].
                        Value gate = a[0], up = a[1];
                        if (hasBias) {
                          gate = arith::AddFOp::create(b, gate, a[2]);
                          up = arith::AddFOp::create(b, up, a[3]);
                        }
                        return SmallVector<Value>{arith::MulFOp::create(
                            b, applyActivation(b, Activation::Silu, gate), up)};
                      })[0];
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

//===----------------------------------------------------------------------===//
// Patterns
//===----------------------------------------------------------------------===//

namespace {

/// result[e, r, i, c] = input[r, positions[e, r, i / P] * P + i % P, c].
struct DispatchToLinalg : OpRewritePattern<DispatchOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(DispatchOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    auto type = op.getType();
    int64_t patch = op.getPatch();
    SmallVector<OpFoldResult> sizes;
    for (auto [i, dim] : llvm::enumerate(type.getShape())) {
      if (!ShapedType::isDynamic(dim)) {
        sizes.push_back(b.getIndexAttr(dim));
        continue;
      }
      Value l = tensor::DimOp::create(b, op.getPositions(), 2);
      sizes.push_back(
          arith::MulIOp::create(b, l, constIndex(b, patch)).getResult());
    }
    Value x = op.getInput(), positions = op.getPositions();
    Value result = buildGeneric(
        b, {}, emptyTensor(b, sizes, type.getElementType()), {{0, 1, 2, 3}},
        {kPar, kPar, kPar, kPar}, [&](ImplicitLocOpBuilder &b, ValueRange) {
          Value e = loopIndex(b, 0), r = loopIndex(b, 1), i = loopIndex(b, 2),
                c = loopIndex(b, 3);
          Value p = constIndex(b, patch);
          Value slot = arith::DivUIOp::create(b, i, p);
          Value t = arith::RemUIOp::create(b, i, p);
          Value pos = tensor::ExtractOp::create(b, positions,
                                                ValueRange{e, r, slot});
          Value row = arith::AddIOp::create(
              b,
              arith::MulIOp::create(
                  b, arith::IndexCastOp::create(b, b.getIndexType(), pos), p),
              t);
          return SmallVector<Value>{
              tensor::ExtractOp::create(b, x, ValueRange{r, row, c})};
        })[0];
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// Ordered scatter-add through an inverse index (see the file comment).
struct CombineToLinalg : OpRewritePattern<CombineOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(CombineOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    auto type = op.getType();
    Type elt = type.getElementType();
    int64_t patch = op.getPatch();
    int64_t r = type.getShape()[0], n = type.getShape()[1],
            d = type.getShape()[2];
    Value positions = op.getPositions(), ys = op.getInput(),
          weights = op.getWeights();

    // slotOf[e, r, p] = the slot i with positions[e, r, i] == p, or -1.
    Value inverse = inversePositions(b, positions, n / patch);

    // out[r, n, c] = sum over e (in order) of w * ys[e, r, slot*P + n%P, c].
    // Loops (r, n, e, c): the experts stay in order for every element, and
    // the innermost loop runs along contiguous channels with the slot lookup
    // invariant in it, so that it vectorizes.
    MLIRContext *ctx = b.getContext();
    AffineExpr d0 = b.getAffineDimExpr(0), d1 = b.getAffineDimExpr(1),
               d2 = b.getAffineDimExpr(2), d3 = b.getAffineDimExpr(3);
    Value init = filledTensor(
        b, {b.getIndexAttr(r), b.getIndexAttr(n), b.getIndexAttr(d)}, elt,
        b.getFloatAttr(elt, 0.0));
    Value result = buildGenericMaps(
        b, inverse, init,
        {AffineMap::get(4, 0, {d2, d0, d1.floorDiv(patch)}, ctx),
         AffineMap::get(4, 0, {d0, d1, d3}, ctx)},
        {kPar, kPar, kRed, kPar}, [&](ImplicitLocOpBuilder &b, ValueRange a) {
          Value zero = constFloat(b, elt, 0.0);
          auto [valid, slot] = lookupSlot(b, a[0]);
          Value p = constIndex(b, patch);
          Value row = arith::AddIOp::create(
              b, arith::MulIOp::create(b, slot, p),
              arith::RemUIOp::create(b, loopIndex(b, 1), p));
          Value ei = loopIndex(b, 2), ri = loopIndex(b, 0);
          Value y = tensor::ExtractOp::create(
              b, ys, ValueRange{ei, ri, row, loopIndex(b, 3)});
          if (weights)
            y = arith::MulFOp::create(
                b, y,
                tensor::ExtractOp::create(b, weights, ValueRange{ei, ri, slot}));
          Value term = arith::SelectOp::create(b, valid, y, zero);
          return SmallVector<Value>{arith::AddFOp::create(b, a[1], term)};
        })[0];
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// [E, ..., M, K] x [E, K, N] as one batch matmul over E, then the epilogue.
struct ExpertMatmulToLinalg : OpRewritePattern<ExpertMatmulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ExpertMatmulOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    auto lhsType = op.getLhs().getType();
    auto type = op.getType();
    int64_t rank = lhsType.getRank();
    Activation act = op.getActivation();

    // Fold the batch dims and M: [E, B..., M, K] -> [E, X, K].
    Value lhs = op.getLhs();
    SmallVector<OpFoldResult> lhsSizes = tensorSizes(b, lhs);
    if (rank > 3) {
      ReassociationIndices middle;
      for (int64_t i = 1; i < rank - 1; ++i)
        middle.push_back(i);
      lhs = collapse(b, lhs, {{0}, middle, {rank - 1}});
    }
    Value product = batchMatmul(b, lhs, op.getRhs());
    int64_t n = cast<RankedTensorType>(product.getType()).getShape()[2];
    int64_t width = act == Activation::SwiGlu ? n / 2 : n;

    // Epilogue: bias, then activation.
    Value result = activationEpilogue(b, product, op.getBias(), {0, 2}, act);

    if (rank > 3) {
      SmallVector<OpFoldResult> outShape(lhsSizes.begin(), lhsSizes.end() - 1);
      outShape.push_back(b.getIndexAttr(width));
      ReassociationIndices middle;
      for (int64_t i = 1; i < rank - 1; ++i)
        middle.push_back(i);
      result = expand(b, result, type, {{0}, middle, {rank - 1}}, outShape);
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// The fused form back to its three ops (targets without a fused kernel;
/// uoe-fuse-selection's inverse).
struct ExpertGemmToUnfused : OpRewritePattern<ExpertGemmOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ExpertGemmOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    auto type = op.getType();
    Type elt = type.getElementType();
    int64_t patch = op.getPatch();
    Value lhs = op.getLhs();
    if (Value gather = op.getGatherPositions()) {
      auto xType = cast<RankedTensorType>(lhs.getType());
      auto posType = cast<RankedTensorType>(gather.getType());
      int64_t l = posType.getShape()[2];
      lhs = DispatchOp::create(
          b,
          RankedTensorType::get({posType.getShape()[0], posType.getShape()[1],
                                 ShapedType::isDynamic(l) ? l : l * patch,
                                 xType.getShape()[2]},
                                elt),
          lhs, gather, b.getI64IntegerAttr(patch));
    }
    Value combine = op.getCombinePositions();
    if (!combine) {
      rewriter.replaceOpWithNewOp<ExpertMatmulOp>(
          op, type, lhs, op.getRhs(), op.getBias(), op.getActivationAttr());
      return success();
    }
    auto lhsShape = cast<RankedTensorType>(lhs.getType()).getShape();
    SmallVector<int64_t> ysShape(lhsShape.drop_back());
    ysShape.push_back(type.getShape()[2]);
    Value ys = ExpertMatmulOp::create(b, RankedTensorType::get(ysShape, elt),
                                      lhs, op.getRhs(), op.getBias(),
                                      op.getActivationAttr());
    Value weights = op.getCombineWeights();
    rewriter.replaceOpWithNewOp<CombineOp>(
        op, type, ys, combine, weights,
        CombineModeAttr::get(getContext(),
                             weights ? CombineMode::Gated : CombineMode::Union),
        b.getI64IntegerAttr(patch));
    return success();
  }
};

/// A dense MLP is a single expert: reshape to [1, M, d] and reuse
/// `uoe.expert_matmul`.
struct DenseMlpToExpertMatmul : OpRewritePattern<DenseMlpOp> {
  using OpRewritePattern::OpRewritePattern;

  /// Prepends a unit dimension.
  static Value unitExpert(ImplicitLocOpBuilder &b, Value v) {
    auto type = cast<RankedTensorType>(v.getType());
    SmallVector<int64_t> shape{1};
    llvm::append_range(shape, type.getShape());
    SmallVector<ReassociationIndices> groups{{0, 1}};
    for (int64_t i = 2; i <= type.getRank(); ++i)
      groups.push_back({i});
    return tensor::ExpandShapeOp::create(
        b, RankedTensorType::get(shape, type.getElementType()), v, groups);
  }

  LogicalResult matchAndRewrite(DenseMlpOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    auto type = op.getType();
    Type elt = type.getElementType();
    int64_t d = type.getShape().back(), m = type.getNumElements() / d;
    if (!type.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "unsupported: dynamic input");
    ReassociationIndices rows;
    for (int64_t i = 0; i + 1 < type.getRank(); ++i)
      rows.push_back(i);
    Value x = op.getInput();
    if (type.getRank() > 2)
      x = collapse(b, x, {rows, {type.getRank() - 1}});
    if (type.getRank() == 1)
      x = unitExpert(b, x);
    x = unitExpert(b, x);
    int64_t f = op.getW2().getType().getShape()[0];
    auto none = ActivationAttr::get(getContext(), Activation::None);
    Value h = ExpertMatmulOp::create(
        b, RankedTensorType::get({1, m, f}, elt), x, unitExpert(b, op.getW1()),
        unitExpert(b, op.getB1()),
        ActivationAttr::get(getContext(), op.getActivation()));
    Value y = ExpertMatmulOp::create(b, RankedTensorType::get({1, m, d}, elt),
                                     h, unitExpert(b, op.getW2()),
                                     unitExpert(b, op.getB2()), none);
    y = collapse(b, y, {{0, 1}, {2}});
    if (type.getRank() != 2) {
      SmallVector<ReassociationIndices> groups;
      if (type.getRank() == 1)
        y = collapse(b, y, {{0, 1}});
      else
        y = tensor::ExpandShapeOp::create(
            b, type, y, SmallVector<ReassociationIndices>{rows, {type.getRank() - 1}});
    }
    rewriter.replaceOp(op, y);
    return success();
  }
};

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

} // namespace

void uoe::populateExpertComputeToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<DispatchToLinalg, CombineToLinalg, ExpertMatmulToLinalg,
               ExpertGemmToUnfused, DenseMlpToExpertMatmul, ActivationToLinalg,
               ActivationGradToLinalg>(patterns.getContext());
}

void uoe::populateDenseMlpExpansionPatterns(RewritePatternSet &patterns) {
  patterns.add<DenseMlpToExpertMatmul>(patterns.getContext());
}
