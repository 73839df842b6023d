//===- AttentionToLinalg.cpp - attention and its gradient to linalg ------===//
//
// Lowers `uoe.selective_attention` for each (expert, row, head):
//   1. rotary embedding of q and k (NeoX rotate-half) from a cos/sin table
//      computed in float64 and rounded once, so that long positions stay
//      accurate in float32 (the table, the rotation, the head reshapes and
//      the masked probabilities are shared with the backward);
//   2. S = q k^T as one `linalg.batch_matmul` over E*B*heads;
//   3. scale, causal mask (by original position) and key padding mask in one
//      generic, then a masked-row-safe softmax;
//   4. O = P v as a second batch matmul, back to [E, B, L, D].
// Dense `uoe.attention` is rewritten into the same ops with one expert that
// selects every token (positions 0..T-1).
//
// `uoe.selective_attention_grad` recomputes steps 1-3 with the same pieces,
// then:
//   5. dP = dO V^T (batch matmul); dS = P * (dP - rowsum(P * dP)) * scale,
//      in one reduction and one elementwise generic (rowsum(P * dP) is
//      rowsum(dO * O) without forming O; masked entries have P = 0, so
//      dS = 0 there);
//   6. dV = P^T dO, dQ = dS K, dK = dS^T Q: three batch matmuls over
//      E*B*heads (BLAS calls in f32);
//   7. back to [E, B, L, D], and dQ, dK rotated back by R^T (the rotation
//      is orthogonal per position).
// Dense attention needs no backward of its own: autodiff differentiates
// the selective form it expands into.
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

/// The number of rotary positions needed: L (compacted) or
/// max(positions) + 1 (original), as an index value.
static Value ropeTableLength(ImplicitLocOpBuilder &b, Value query,
                             Value positions, RopeMode rope) {
  if (rope == RopeMode::Compacted)
    return tensor::DimOp::create(b, query, 2);
  Type i64 = b.getI64Type();
  Value maxInit = filledTensor(b, {}, i64, b.getI64IntegerAttr(0));
  Value maxPos = buildGeneric(
      b, positions, maxInit, {{0, 1, 2}, {}}, {kRed, kRed, kRed},
      [](ImplicitLocOpBuilder &b, ValueRange a) {
        return SmallVector<Value>{arith::MaxSIOp::create(b, a[0], a[1])};
      })[0];
  Value m = tensor::ExtractOp::create(b, maxPos, ValueRange{});
  m = arith::AddIOp::create(b, m, constInt(b, i64, 1));
  return arith::IndexCastOp::create(b, b.getIndexType(), m);
}

/// The rotary cos/sin table `[n, dh/2, 2]` for `rope` (n = L when
/// compacted, max(positions) + 1 when original), computed in float64 and
/// rounded once to `elt`.
static Value ropeTable(ImplicitLocOpBuilder &b, Value query, Value positions,
                       RopeMode rope, int64_t dh, double base, Type elt) {
  Value length = ropeTableLength(b, query, positions, rope);
  return buildGeneric(
      b, {},
      emptyTensor(b, {length, b.getIndexAttr(dh / 2), b.getIndexAttr(2)}, elt),
      {{0, 1, 2}}, {kPar, kPar, kPar},
      [&](ImplicitLocOpBuilder &b, ValueRange) {
        Type f64 = b.getF64Type(), i64 = b.getI64Type();
        auto toF64 = [&](Value index) {
          return arith::SIToFPOp::create(
              b, f64, arith::IndexCastOp::create(b, i64, index));
        };
        Value pos = toF64(loopIndex(b, 0)), f = toF64(loopIndex(b, 1));
        // inv_freq = base^(-2f/dh) = exp(-2f/dh * ln(base)).
        Value exponent = arith::MulFOp::create(
            b, f, constFloat(b, f64, -2.0 * std::log(base) / dh));
        Value angle =
            arith::MulFOp::create(b, pos, math::ExpOp::create(b, exponent));
        Value isSin = arith::CmpIOp::create(b, arith::CmpIPredicate::eq,
                                            loopIndex(b, 2), constIndex(b, 1));
        Value v =
            arith::SelectOp::create(b, isSin, math::SinOp::create(b, angle),
                                    math::CosOp::create(b, angle));
        if (elt != f64)
          v = arith::TruncFOp::create(b, elt, v);
        return SmallVector<Value>{v};
      })[0];
}

/// Rotate-half rotary embedding of `x: [E, B, L, D]` (heads of width
/// `dh`); with `inverse`, the transposed rotation R^T, which undoes it.
static Value applyRope(ImplicitLocOpBuilder &b, Value x, Value positions,
                       Value table, RopeMode rope, int64_t dh,
                       bool inverse = false) {
  auto type = cast<RankedTensorType>(x.getType());
  bool compacted = rope == RopeMode::Compacted;
  int64_t half = dh / 2;
  return buildGeneric(
      b, {}, emptyTensor(b, tensorSizes(b, x), type.getElementType()),
      {{0, 1, 2, 3}}, {kPar, kPar, kPar, kPar},
      [&](ImplicitLocOpBuilder &b, ValueRange) {
        Value e = loopIndex(b, 0), r = loopIndex(b, 1), i = loopIndex(b, 2),
              c = loopIndex(b, 3);
        Value pos = i;
        if (!compacted)
          pos = arith::IndexCastOp::create(
              b, b.getIndexType(),
              tensor::ExtractOp::create(b, positions, ValueRange{e, r, i}));
        Value inHead = arith::RemUIOp::create(b, c, constIndex(b, dh));
        Value first = arith::CmpIOp::create(b, arith::CmpIPredicate::ult,
                                            inHead, constIndex(b, half));
        Value freq = arith::RemUIOp::create(b, inHead, constIndex(b, half));
        // The partner of channel c is c + half in the first half and
        // c - half in the second.
        Value partner = arith::SelectOp::create(
            b, first, arith::AddIOp::create(b, c, constIndex(b, half)),
            arith::SubIOp::create(b, c, constIndex(b, half)));
        Value self = tensor::ExtractOp::create(b, x, ValueRange{e, r, i, c});
        Value other =
            tensor::ExtractOp::create(b, x, ValueRange{e, r, i, partner});
        Value cos = tensor::ExtractOp::create(
            b, table, ValueRange{pos, freq, constIndex(b, 0)});
        Value sin = tensor::ExtractOp::create(
            b, table, ValueRange{pos, freq, constIndex(b, 1)});
        // first half: x cos - x' sin; second half: x cos + x' sin. The
        // inverse rotation (R^T) negates the sines.
        Value rotated = arith::MulFOp::create(b, other, sin);
        Value negateFirst = first;
        if (inverse)
          negateFirst = arith::XOrIOp::create(
              b, first, arith::ConstantOp::create(b, b.getBoolAttr(true)));
        rotated = arith::SelectOp::create(
            b, negateFirst, arith::NegFOp::create(b, rotated), rotated);
        return SmallVector<Value>{arith::AddFOp::create(
            b, arith::MulFOp::create(b, self, cos), rotated)};
      })[0];
}

/// `[E, B, L, D]` -> `[E*B*h, L, dh]` (`[E*B*h, dh, L]` with `transposed`).
static Value toHeads(ImplicitLocOpBuilder &b, Value x, int64_t heads,
                     bool transposed) {
  auto type = cast<RankedTensorType>(x.getType());
  ArrayRef<int64_t> s = type.getShape();
  int64_t dh = s[3] / heads;
  SmallVector<OpFoldResult> sizes = tensorSizes(b, x);
  auto split = RankedTensorType::get({s[0], s[1], s[2], heads, dh},
                                     type.getElementType());
  Value v = expand(b, x, split, {{0}, {1}, {2}, {3, 4}},
                   {sizes[0], sizes[1], sizes[2], b.getIndexAttr(heads),
                    b.getIndexAttr(dh)});
  v = transposed ? transpose(b, v, {0, 1, 3, 4, 2})
                 : transpose(b, v, {0, 1, 3, 2, 4});
  return collapse(b, v, {{0, 1, 2}, {3}, {4}});
}

/// `[E*B*h, L, dh]` -> `type` (`[E, B, L, D]`), `l` the size of L.
static Value fromHeads(ImplicitLocOpBuilder &b, Value x, RankedTensorType type,
                       int64_t heads, OpFoldResult l) {
  ArrayRef<int64_t> shape = type.getShape();
  int64_t e = shape[0], rows = shape[1], dh = shape[3] / heads;
  Type elt = type.getElementType();
  // [E*B*h, L, dh] -> [E, B, h, L, dh] -> [E, B, L, h, dh] -> [E, B, L, D].
  auto split = RankedTensorType::get({e, rows, heads, shape[2], dh}, elt);
  Value out = expand(b, x, split, {{0, 1, 2}, {3}, {4}},
                     {b.getIndexAttr(e), b.getIndexAttr(rows),
                      b.getIndexAttr(heads), l, b.getIndexAttr(dh)});
  out = transpose(b, out, {0, 1, 3, 2, 4});
  out = collapse(b, out, {{0}, {1}, {2}, {3, 4}});
  if (out.getType() != type)
    out = tensor::CastOp::create(b, type, out);
  return out;
}

/// The size of L of `query: [E, B, L, D]`: static when it is.
static OpFoldResult attentionLength(ImplicitLocOpBuilder &b, Value query) {
  // L is static for dense attention and dynamic after dynamic selection;
  // the reshapes must keep it static when it is, or their types would not
  // verify (a static dimension cannot expand into a `?`).
  int64_t lDim = cast<RankedTensorType>(query.getType()).getShape()[2];
  if (ShapedType::isDynamic(lDim))
    return tensor::DimOp::create(b, query, 2).getResult();
  return b.getIndexAttr(lDim);
}

/// The score scale: `scale` or `1 / sqrt(dh)`.
static double attentionScale(std::optional<APFloat> scale, int64_t dh) {
  return scale ? scale->convertToDouble()
               : 1.0 / std::sqrt(static_cast<double>(dh));
}

/// The attention probabilities `[E*B*h, L, L]` of (rotated) `q`, `k`:
/// scaled scores `q k^T` as one batch matmul, the causal and key-padding
/// masks by original position, then the masked-row-safe softmax.
static Value attentionProbs(ImplicitLocOpBuilder &b, Value q, Value k,
                            Value positions, Value padding, int64_t heads,
                            bool causal, double scale) {
  auto type = cast<RankedTensorType>(q.getType());
  Type elt = type.getElementType();
  ArrayRef<int64_t> shape = type.getShape();
  int64_t e = shape[0], rows = shape[1], lDim = shape[2];
  OpFoldResult l = attentionLength(b, q);
  Value scores =
      batchMatmul(b, toHeads(b, q, heads, false), toHeads(b, k, heads, true));
  auto scoresType = RankedTensorType::get({e, rows, heads, lDim, lDim}, elt);
  scores = expand(
      b, scores, scoresType, {{0, 1, 2}, {3}, {4}},
      {b.getIndexAttr(e), b.getIndexAttr(rows), b.getIndexAttr(heads), l, l});
  Value masked = buildGeneric(
      b, scores, emptyTensor(b, tensorSizes(b, scores), elt),
      {{0, 1, 2, 3, 4}, {0, 1, 2, 3, 4}}, {kPar, kPar, kPar, kPar, kPar},
      [&](ImplicitLocOpBuilder &b, ValueRange a) {
        Value v = arith::MulFOp::create(b, a[0], constFloat(b, elt, scale));
        Value ei = loopIndex(b, 0), ri = loopIndex(b, 1);
        Value keyPos = tensor::ExtractOp::create(
            b, positions, ValueRange{ei, ri, loopIndex(b, 4)});
        Value hide = arith::ConstantOp::create(b, b.getBoolAttr(false));
        if (causal) {
          Value queryPos = tensor::ExtractOp::create(
              b, positions, ValueRange{ei, ri, loopIndex(b, 3)});
          hide = arith::CmpIOp::create(b, arith::CmpIPredicate::sgt, keyPos,
                                       queryPos);
        }
        if (padding) {
          Value col = arith::IndexCastOp::create(b, b.getIndexType(), keyPos);
          Value pad =
              tensor::ExtractOp::create(b, padding, ValueRange{ri, col});
          hide = arith::OrIOp::create(b, hide, pad);
        }
        return SmallVector<Value>{
            arith::SelectOp::create(b, hide, constFloat(b, elt, -INFINITY), v)};
      })[0];
  Value probs = softmaxLastDim(b, masked);
  return collapse(b, probs, {{0, 1, 2}, {3}, {4}});
}

namespace {

/// The forward, steps 1-4 of the file comment.
struct SelectiveAttentionToLinalg : OpRewritePattern<SelectiveAttentionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(SelectiveAttentionOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    auto type = op.getType();
    int64_t heads = op.getHeads(), dh = type.getShape()[3] / heads;
    Value q = op.getQuery(), k = op.getKey();
    if (op.getRope() != RopeMode::None) {
      Value table =
          ropeTable(b, q, op.getPositions(), op.getRope(), dh,
                    op.getRopeBase().convertToDouble(), type.getElementType());
      q = applyRope(b, q, op.getPositions(), table, op.getRope(), dh);
      k = applyRope(b, k, op.getPositions(), table, op.getRope(), dh);
    }
    Value probs =
        attentionProbs(b, q, k, op.getPositions(), op.getKeyPadding(), heads,
                       op.getCausal(), attentionScale(op.getScale(), dh));
    Value out = batchMatmul(b, probs, toHeads(b, op.getValue(), heads, false));
    rewriter.replaceOp(
        op, fromHeads(b, out, type, heads, attentionLength(b, op.getQuery())));
    return success();
  }
};

/// The backward, steps 1-3 recomputed then 5-7 of the file comment.
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

/// `v` with a leading unit dimension: the single expert of a dense layer.
static Value withUnitExpert(ImplicitLocOpBuilder &b, Value v) {
  auto vt = cast<RankedTensorType>(v.getType());
  SmallVector<int64_t> shape{1};
  llvm::append_range(shape, vt.getShape());
  SmallVector<ReassociationIndices> groups{{0, 1}};
  for (int64_t i = 2; i <= vt.getRank(); ++i)
    groups.push_back({i});
  return tensor::ExpandShapeOp::create(
             b, RankedTensorType::get(shape, vt.getElementType()), v, groups)
      .getResult();
}

/// Entry `index` of a stacked `[3, ...]` tensor, keeping the leading 1 as
/// the single expert.
static Value stackedEntry(ImplicitLocOpBuilder &b, Value stacked,
                          int64_t index) {
  auto st = cast<RankedTensorType>(stacked.getType());
  SmallVector<OpFoldResult> offsets(st.getRank(), b.getIndexAttr(0));
  offsets[0] = b.getIndexAttr(index);
  SmallVector<OpFoldResult> sizes{b.getIndexAttr(1)},
      strides(st.getRank(), b.getIndexAttr(1));
  for (int64_t dim : st.getShape().drop_front())
    sizes.push_back(b.getIndexAttr(dim));
  SmallVector<int64_t> withUnit{1};
  llvm::append_range(withUnit, st.getShape().drop_front());
  return tensor::ExtractSliceOp::create(
             b, RankedTensorType::get(withUnit, st.getElementType()), stacked,
             offsets, sizes, strides)
      .getResult();
}

/// The query, key and value projections `[1, B, T, d]` of `input` `[B, T,
/// d]` by the stacked `wqkv`, `bqkv`: one-expert `uoe.expert_matmul`s,
/// which the CPU pipeline hands to its fused GEMM.
static SmallVector<Value, 3> projectQkv(ImplicitLocOpBuilder &b, Value input,
                                        Value wqkv, Value bqkv) {
  auto type = cast<RankedTensorType>(input.getType());
  auto projType = RankedTensorType::get(
      {1, type.getShape()[0], type.getShape()[1], type.getShape()[2]},
      type.getElementType());
  auto none = ActivationAttr::get(b.getContext(), Activation::None);
  Value x = withUnitExpert(b, input);
  SmallVector<Value, 3> qkv;
  for (int64_t i = 0; i < 3; ++i)
    qkv.push_back(ExpertMatmulOp::create(b, projType, x,
                                         stackedEntry(b, wqkv, i),
                                         stackedEntry(b, bqkv, i), none));
  return qkv;
}

/// The output projection of the attended values `o: [1, B, T, d]`, back to
/// `[B, T, d]`.
static Value projectOut(ImplicitLocOpBuilder &b, Value o, Value wo, Value bo) {
  auto none = ActivationAttr::get(b.getContext(), Activation::None);
  Value y = ExpertMatmulOp::create(b, o.getType(), o, withUnitExpert(b, wo),
                                   withUnitExpert(b, bo), none);
  return collapse(b, y, {{0, 1}, {2}, {3}});
}

namespace {

/// Dense attention = one expert that selects every token, in order.
struct AttentionToSelective : OpRewritePattern<AttentionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(AttentionOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    int64_t rows = op.getType().getShape()[0], t = op.getType().getShape()[1];
    SmallVector<Value, 3> qkv =
        projectQkv(b, op.getInput(), op.getWqkv(), op.getBqkv());
    SmallVector<int64_t> iota;
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t i = 0; i < t; ++i)
        iota.push_back(i);
    auto posType = RankedTensorType::get({1, rows, t}, b.getI64Type());
    Value positions = arith::ConstantOp::create(
        b, DenseElementsAttr::get(posType, ArrayRef<int64_t>(iota)));
    Value o = SelectiveAttentionOp::create(
        b, qkv[0].getType(), qkv[0], qkv[1], qkv[2], positions,
        op.getKeyPadding(), op.getHeadsAttr(), op.getCausalAttr(),
        op.getRopeAttr(), op.getRopeBaseAttr(), FloatAttr());
    rewriter.replaceOp(op, projectOut(b, o, op.getWo(), op.getBo()));
    return success();
  }
};

/// Cached attention = the same projections around `uoe.kv_attend`.
struct CachedAttentionToKvAttend : OpRewritePattern<CachedAttentionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(CachedAttentionOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    SmallVector<Value, 3> qkv =
        projectQkv(b, op.getInput(), op.getWqkv(), op.getBqkv());
    SmallVector<ReassociationIndices> merge{{0, 1}, {2}, {3}};
    Value attended = KvAttendOp::create(
        b, op.getType(), collapse(b, qkv[0], merge), collapse(b, qkv[1], merge),
        collapse(b, qkv[2], merge), op.getStart(), Value(), Value(),
        op.getCache(), op.getLayer(), op.getHeadsAttr(),
        RopeModeAttr::get(getContext(), RopeMode::None),
        b.getF64FloatAttr(10000.0), FloatAttr());
    rewriter.replaceOp(
        op, projectOut(b, withUnitExpert(b, attended), op.getWo(), op.getBo()));
    return success();
  }
};

} // namespace

void uoe::populateAttentionToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<SelectiveAttentionToLinalg, SelectiveAttentionGradToLinalg,
               AttentionToSelective>(patterns.getContext());
}

void uoe::populateDenseAttentionExpansionPatterns(RewritePatternSet &patterns) {
  patterns.add<AttentionToSelective, CachedAttentionToKvAttend>(
      patterns.getContext());
}
