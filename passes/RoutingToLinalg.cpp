//===- RoutingToLinalg.cpp - routing ops to linalg on tensors ------------===//
//
// Lowers `uoe.router`, `uoe.token_choice`, `uoe.expert_select` and
// `uoe.data_select` to `linalg.generic` ops on tensors.
//
// Every top-k here is rank based, which makes ties stable by construction:
// the rank of item `i` is the number of items that beat it, where `j` beats
// `i` when `s[j] > s[i]`, or `s[j] == s[i]` and `j < i`. Item `i` is kept
// when its rank is below `k`. Data selection then compacts the kept items in
// ascending index order: the slot of a kept item is the number of kept
// items before it. Both counts are reductions, so the whole selection is a
// handful of generics with no sort and no data-dependent control flow; its
// cost is O(n^2) per (expert, row), small against the expert GEMMs at the
// sizes UoE selects over.
//
//===----------------------------------------------------------------------===//

#include "passes/LinalgBuilder.h"
#include "passes/Lowerings.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace mlir::uoe;

//===----------------------------------------------------------------------===//
// Shared pieces
//===----------------------------------------------------------------------===//

Value uoe::softmaxLastDim(ImplicitLocOpBuilder &b, Value logits) {
  auto type = cast<RankedTensorType>(logits.getType());
  Type elt = type.getElementType();
  int64_t rank = type.getRank();
  SmallVector<OpFoldResult> sizes = tensorSizes(b, logits);
  SmallVector<OpFoldResult> rowSizes(sizes.begin(), sizes.end() - 1);
  SmallVector<int64_t> all = iota(rank), rows = iota(rank - 1);

  Value maxInit = filledTensor(b, rowSizes, elt,
                               b.getFloatAttr(elt, -INFINITY));
  Value rowMax = buildGeneric(b, logits, maxInit, {all, rows},
                              iteratorTypes(rank - 1, 1),
                              [](ImplicitLocOpBuilder &b, ValueRange a) {
                                return SmallVector<Value>{
                                    arith::MaximumFOp::create(b, a[0], a[1])};
                              })[0];
  // exp(x - max), with fully masked (-inf) rows giving zeros, not NaNs.
  Value expInit = emptyTensor(b, sizes, elt);
  Value exps = buildGeneric(
      b, {logits, rowMax}, expInit, {all, rows, all}, iteratorTypes(rank, 0),
      [&](ImplicitLocOpBuilder &b, ValueRange a) {
        Value negInf = constFloat(b, elt, -INFINITY);
        Value isMasked =
            arith::CmpFOp::create(b, arith::CmpFPredicate::OEQ, a[0], negInf);
        Value e = math::ExpOp::create(b, arith::SubFOp::create(b, a[0], a[1]));
        return SmallVector<Value>{
            arith::SelectOp::create(b, isMasked, constFloat(b, elt, 0.0), e)};
      })[0];
  Value sumInit = filledTensor(b, rowSizes, elt, b.getFloatAttr(elt, 0.0));
  Value rowSum = buildGeneric(b, exps, sumInit, {all, rows},
                              iteratorTypes(rank - 1, 1),
                              [](ImplicitLocOpBuilder &b, ValueRange a) {
                                return SmallVector<Value>{
                                    arith::AddFOp::create(b, a[0], a[1])};
                              })[0];
  return buildGeneric(
      b, {exps, rowSum}, emptyTensor(b, sizes, elt), {all, rows, all},
      iteratorTypes(rank, 0), [&](ImplicitLocOpBuilder &b, ValueRange a) {
        Value zero = constFloat(b, elt, 0.0);
        Value empty =
            arith::CmpFOp::create(b, arith::CmpFPredicate::OEQ, a[1], zero);
        Value q = arith::DivFOp::create(b, a[0], a[1]);
        return SmallVector<Value>{arith::SelectOp::create(b, empty, zero, q)};
      })[0];
}

Value uoe::stableRankLastDim(ImplicitLocOpBuilder &b, Value scores) {
  auto type = cast<RankedTensorType>(scores.getType());
  int64_t rank = type.getRank();
  SmallVector<OpFoldResult> sizes = tensorSizes(b, scores);
  Value init = filledTensor(b, sizes, b.getI64Type(), b.getI64IntegerAttr(0));
  // Loops: the entry's dims, then the competitor j along the last dim.
  SmallVector<int64_t> self = iota(rank), other = iota(rank - 1);
  other.push_back(rank);
  return buildGeneric(
      b, {scores, scores}, init, {self, other, self}, iteratorTypes(rank, 1),
      [&](ImplicitLocOpBuilder &b, ValueRange a) {
        Value i = loopIndex(b, rank - 1), j = loopIndex(b, rank);
        Value greater =
            arith::CmpFOp::create(b, arith::CmpFPredicate::OGT, a[1], a[0]);
        Value equal =
            arith::CmpFOp::create(b, arith::CmpFPredicate::OEQ, a[1], a[0]);
        Value before =
            arith::CmpIOp::create(b, arith::CmpIPredicate::ult, j, i);
        Value beats = arith::OrIOp::create(
            b, greater, arith::AndIOp::create(b, equal, before));
        Value one = arith::ExtUIOp::create(b, b.getI64Type(), beats);
        return SmallVector<Value>{arith::AddIOp::create(b, a[2], one)};
      })[0];
}

Value uoe::keepTopK(ImplicitLocOpBuilder &b, Value values, Value ranks,
                    int64_t top) {
  auto type = cast<RankedTensorType>(values.getType());
  Type elt = type.getElementType();
  SmallVector<int64_t> all = iota(type.getRank());
  return buildGeneric(
      b, {values, ranks}, emptyTensor(b, tensorSizes(b, ranks), elt),
      {all, all, all}, iteratorTypes(type.getRank(), 0),
      [&](ImplicitLocOpBuilder &b, ValueRange a) {
        Value keep = arith::CmpIOp::create(b, arith::CmpIPredicate::slt, a[1],
                                           constInt(b, b.getI64Type(), top));
        return SmallVector<Value>{
            arith::SelectOp::create(b, keep, a[0], constFloat(b, elt, 0.0))};
      })[0];
}

Value uoe::normalizeOver(ImplicitLocOpBuilder &b, Value s, int64_t axis,
                         double eps, double scale) {
  auto type = cast<RankedTensorType>(s.getType());
  Type elt = type.getElementType();
  int64_t rank = type.getRank();
  SmallVector<OpFoldResult> sizes = tensorSizes(b, s), reduced;
  SmallVector<int64_t> all = iota(rank), kept, loopsReduced;
  for (int64_t d = 0; d < rank; ++d)
    if (d != axis) {
      kept.push_back(d);
      reduced.push_back(sizes[d]);
    }
  // Loops: the kept dims in order, then the reduced axis last.
  SmallVector<int64_t> inMap(rank);
  for (auto [pos, d] : llvm::enumerate(kept))
    inMap[d] = pos;
  inMap[axis] = rank - 1;
  Value sums = buildGeneric(
      b, s, filledTensor(b, reduced, elt, b.getFloatAttr(elt, 0.0)),
      {inMap, iota(rank - 1)}, iteratorTypes(rank - 1, 1),
      [](ImplicitLocOpBuilder &b, ValueRange a) {
        return SmallVector<Value>{arith::AddFOp::create(b, a[0], a[1])};
      })[0];
  return buildGeneric(
      b, {s, sums}, emptyTensor(b, sizes, elt), {all, kept, all},
      iteratorTypes(rank, 0), [&](ImplicitLocOpBuilder &b, ValueRange a) {
        Value zero = constFloat(b, elt, 0.0);
        Value den = arith::AddFOp::create(b, a[1], constFloat(b, elt, eps));
        Value isZero =
            arith::CmpFOp::create(b, arith::CmpFPredicate::OEQ, den, zero);
        Value q = arith::MulFOp::create(b, arith::DivFOp::create(b, a[0], den),
                                        constFloat(b, elt, scale));
        return SmallVector<Value>{arith::SelectOp::create(b, isZero, zero, q)};
      })[0];
}

//===----------------------------------------------------------------------===//
// Patterns
//===----------------------------------------------------------------------===//

namespace {

/// probs = score(x Wg^T + bg) over the last (expert) dimension.
struct RouterToLinalg : OpRewritePattern<RouterOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(RouterOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    auto type = op.getType();
    Type elt = type.getElementType();
    int64_t rank = type.getRank();
    // Loops: the rows of x, the contraction k, then the expert e. Each
    // logit still sums over k in order, but the innermost loop over the few
    // experts carries no dependence, so the products of one k overlap
    // instead of waiting on one accumulator (k innermost was a latency-bound
    // scalar reduction).
    SmallVector<int64_t> xMap = iota(rank - 1), wMap{rank, rank - 1},
                         logitMap = iota(rank - 1), outMap = iota(rank);
    xMap.push_back(rank - 1);
    logitMap.push_back(rank);
    SmallVector<IteratorType> logitLoops = iteratorTypes(rank - 1, 1);
    logitLoops.push_back(kPar);
    Value bias = buildGeneric(
        b, op.getBias(), emptyTensor(b, tensorSizes(b, op.getProbs()), elt),
        {{rank - 1}, outMap}, iteratorTypes(rank, 0),
        [](ImplicitLocOpBuilder &, ValueRange a) {
          return SmallVector<Value>{a[0]};
        })[0];
    Value logits = buildGeneric(
        b, {op.getInput(), op.getWeight()}, bias, {xMap, wMap, logitMap},
        logitLoops, [](ImplicitLocOpBuilder &b, ValueRange a) {
          return SmallVector<Value>{arith::AddFOp::create(
              b, a[2], arith::MulFOp::create(b, a[0], a[1]))};
        })[0];
    Value probs;
    if (op.getScore() == RouterScore::Softmax) {
      probs = softmaxLastDim(b, logits);
    } else {
      probs = buildGeneric(
          b, logits, emptyTensor(b, tensorSizes(b, logits), elt),
          {outMap, outMap}, iteratorTypes(rank, 0),
          [&](ImplicitLocOpBuilder &b, ValueRange a) {
            Value one = constFloat(b, elt, 1.0);
            Value e = math::ExpOp::create(b, arith::NegFOp::create(b, a[0]));
            return SmallVector<Value>{arith::DivFOp::create(
                b, one, arith::AddFOp::create(b, one, e))};
          })[0];
    }
    rewriter.replaceOp(op, probs);
    return success();
  }
};

/// s = probs where the stable rank is below top, else 0; then the optional
/// renormalisation over experts and normalisation over `axis`.
struct TokenChoiceToLinalg : OpRewritePattern<TokenChoiceOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(TokenChoiceOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    auto type = op.getType();
    int64_t rank = type.getRank();
    Value ranks = stableRankLastDim(b, op.getProbs());
    Value s = keepTopK(b, op.getProbs(), ranks, op.getTop());
    if (op.getRenormalize())
      s = normalizeOver(b, s, rank - 1, /*eps=*/0.0, /*scale=*/1.0);
    if (std::optional<int64_t> axis = op.getAxis()) {
      // Spec §2: g = s / (sum_axis(s) + eps) * floor(c * n_axis).
      double n = static_cast<double>(type.getShape()[*axis]);
      double scale = std::floor(op.getCapacity().convertToDouble() * n);
      s = normalizeOver(b, s, *axis, op.getEps().convertToDouble(), scale);
    }
    rewriter.replaceOp(op, s);
    return success();
  }
};

/// experts[..., i] = the expert of stable rank i; weights its probability.
struct ExpertSelectToLinalg : OpRewritePattern<ExpertSelectOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ExpertSelectOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    auto type = op.getWeights().getType();
    Type elt = type.getElementType();
    int64_t rank = type.getRank();
    Value ranks = stableRankLastDim(b, op.getProbs());
    SmallVector<OpFoldResult> sizes = tensorSizes(b, op.getWeights());
    // Loops: rows, the slot i, then the expert e (reduction).
    SmallVector<int64_t> inMap = iota(rank - 1), outMap = iota(rank);
    inMap.push_back(rank);
    SmallVector<Value> results = buildGeneric(
        b, {op.getProbs(), ranks},
        {filledTensor(b, sizes, b.getI64Type(), b.getI64IntegerAttr(0)),
         filledTensor(b, sizes, elt, b.getFloatAttr(elt, 0.0))},
        {inMap, inMap, outMap, outMap}, iteratorTypes(rank, 1),
        [&](ImplicitLocOpBuilder &b, ValueRange a) {
          Value slot = arith::IndexCastOp::create(b, b.getI64Type(),
                                                  loopIndex(b, rank - 1));
          Value e = arith::IndexCastOp::create(b, b.getI64Type(),
                                               loopIndex(b, rank));
          Value hit =
              arith::CmpIOp::create(b, arith::CmpIPredicate::eq, a[1], slot);
          return SmallVector<Value>{
              arith::SelectOp::create(b, hit, e, a[2]),
              arith::SelectOp::create(b, hit, a[0], a[3])};
        });
    if (op.getRenormalize())
      results[1] = normalizeOver(b, results[1], rank - 1, 0.0, 1.0);
    rewriter.replaceOp(op, results);
    return success();
  }
};

/// Spec §3, in five generics: patch scores, stable ranks, L (dynamic only),
/// compaction slots, then the positions and weights of every slot.
struct DataSelectToLinalg : OpRewritePattern<DataSelectOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(DataSelectOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    auto scoresType = op.getScores().getType();
    Type elt = scoresType.getElementType(), i64 = b.getI64Type();
    int64_t r = scoresType.getShape()[0], e = scoresType.getShape()[2];
    int64_t patch = op.getPatch(), np = op.getNumPatches();

    // ps[e, r, j] = mean over the patch's tokens of scores[r, j*P + t, e],
    // reading scores as [R, N/P, P, E]: summed in token order, then divided
    // once by P. (Scaling every token by 1/P before the sum rounds each
    // term on its own, so two patches with equal means could differ in
    // the last bit and break the stable tie rule.)
    auto patched = RankedTensorType::get({r, np, patch, e}, elt);
    Value grouped = expand(b, op.getScores(), patched, {{0}, {1, 2}, {3}},
                           {b.getIndexAttr(r), b.getIndexAttr(np),
                            b.getIndexAttr(patch), b.getIndexAttr(e)});
    SmallVector<OpFoldResult> psSizes{b.getIndexAttr(e), b.getIndexAttr(r),
                                      b.getIndexAttr(np)};
    Value ps = buildGeneric(
        b, grouped, filledTensor(b, psSizes, elt, b.getFloatAttr(elt, 0.0)),
        {{1, 2, 3, 0}, {0, 1, 2}}, {kPar, kPar, kPar, kRed},
        [&](ImplicitLocOpBuilder &b, ValueRange a) {
          return SmallVector<Value>{arith::AddFOp::create(b, a[1], a[0])};
        })[0];
    if (patch > 1)
      ps = buildGeneric(
          b, ps, emptyTensor(b, psSizes, elt), {{0, 1, 2}, {0, 1, 2}},
          {kPar, kPar, kPar}, [&](ImplicitLocOpBuilder &b, ValueRange a) {
            return SmallVector<Value>{arith::DivFOp::create(
                b, a[0], constFloat(b, elt, static_cast<double>(patch)))};
          })[0];
    Value ranks = stableRankLastDim(b, ps);

    // L: static, or the largest count of positive patch scores.
    Value l;
    if (op.isDynamic()) {
      Value countInit =
          filledTensor(b, {}, i64, b.getI64IntegerAttr(0));
      Value perRow = buildGeneric(
          b, ps,
          filledTensor(b, {b.getIndexAttr(e), b.getIndexAttr(r)}, i64,
                       b.getI64IntegerAttr(0)),
          {{0, 1, 2}, {0, 1}}, {kPar, kPar, kRed},
          [&](ImplicitLocOpBuilder &b, ValueRange a) {
            Value positive = arith::CmpFOp::create(
                b, arith::CmpFPredicate::OGT, a[0], constFloat(b, elt, 0.0));
            return SmallVector<Value>{arith::AddIOp::create(
                b, a[1], arith::ExtUIOp::create(b, i64, positive))};
          })[0];
      Value maxCount = buildGeneric(
          b, perRow, countInit, {{0, 1}, {}}, {kRed, kRed},
          [](ImplicitLocOpBuilder &b, ValueRange a) {
            return SmallVector<Value>{arith::MaxSIOp::create(b, a[0], a[1])};
          })[0];
      l = tensor::ExtractOp::create(b, maxCount, ValueRange{});
    } else {
      l = constInt(b, i64, op.getPositions().getType().getShape()[2]);
    }

    // slot[e, r, j] = number of kept patches before j.
    Value slots = buildGeneric(
        b, ranks,
        filledTensor(b, tensorSizes(b, ranks), i64, b.getI64IntegerAttr(0)),
        {{0, 1, 3}, {0, 1, 2}}, {kPar, kPar, kPar, kRed},
        [&](ImplicitLocOpBuilder &b, ValueRange a) {
          Value kept =
              arith::CmpIOp::create(b, arith::CmpIPredicate::slt, a[0], l);
          Value before = arith::CmpIOp::create(b, arith::CmpIPredicate::ult,
                                               loopIndex(b, 3), loopIndex(b, 2));
          Value count = arith::ExtUIOp::create(
              b, i64, arith::AndIOp::create(b, kept, before));
          return SmallVector<Value>{arith::AddIOp::create(b, a[1], count)};
        })[0];

    // positions[e, r, i] = the kept j in slot i; weights its patch score.
    SmallVector<OpFoldResult> outSizes{
        b.getIndexAttr(e), b.getIndexAttr(r),
        op.isDynamic() ? OpFoldResult(arith::IndexCastOp::create(
                             b, b.getIndexType(), l).getResult())
                       : OpFoldResult(b.getIndexAttr(
                             op.getPositions().getType().getShape()[2]))};
    SmallVector<Value> results = buildGeneric(
        b, {ranks, slots, ps},
        {filledTensor(b, outSizes, i64, b.getI64IntegerAttr(0)),
         filledTensor(b, outSizes, elt, b.getFloatAttr(elt, 0.0))},
        {{0, 1, 3}, {0, 1, 3}, {0, 1, 3}, {0, 1, 2}, {0, 1, 2}},
        {kPar, kPar, kPar, kRed}, [&](ImplicitLocOpBuilder &b, ValueRange a) {
          Value slot = arith::IndexCastOp::create(b, i64, loopIndex(b, 2));
          Value j = arith::IndexCastOp::create(b, i64, loopIndex(b, 3));
          Value kept =
              arith::CmpIOp::create(b, arith::CmpIPredicate::slt, a[0], l);
          Value inSlot =
              arith::CmpIOp::create(b, arith::CmpIPredicate::eq, a[1], slot);
          Value hit = arith::AndIOp::create(b, kept, inSlot);
          return SmallVector<Value>{arith::SelectOp::create(b, hit, j, a[3]),
                                    arith::SelectOp::create(b, hit, a[2], a[4])};
        });
    rewriter.replaceOp(op, results);
    return success();
  }
};

} // namespace

void uoe::populateRoutingToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<RouterToLinalg, TokenChoiceToLinalg, ExpertSelectToLinalg,
               DataSelectToLinalg>(patterns.getContext());
}
