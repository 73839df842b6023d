//===- RoutingToLinalg.cpp - routing ops and their gradients to linalg ---===//
//
// Lowers `uoe.router`, `uoe.token_choice`, `uoe.expert_select` and
// `uoe.data_select`, and the gradients `uoe.router_grad`,
// `uoe.token_choice_grad` and `uoe.data_select_grad`, to linalg on tensors.
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
// The backward recomputes the forward's pieces (the probabilities it is
// given, the stable ranks, the top-k mask, the normalisations) and applies
// their Jacobians:
// - router: `dlogits` from the probabilities (softmax or sigmoid), then
//   `dx = dlogits W` and `dW = dlogits^T x` as `linalg.batch_matmul`s (BLAS
//   in f32) and `db` as a column sum;
// - token choice: the normalisations' Jacobians in reverse order, then the
//   recomputed top-k mask (the selection itself carries no gradient);
// - data selection: a gather of the weights' gradient through the inverse
//   index of the positions (passes/Lowerings.h), divided by the patch size.
// Every sum runs in a fixed order (reduction loops), so results are
// deterministic.
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

/// The stable rank (i64) of every entry of `scores` along its last
/// dimension: how many entries of its row beat it (see the file comment).
static Value stableRankLastDim(ImplicitLocOpBuilder &b, Value scores) {
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

/// `values` where `ranks < top`, else 0: the top-k mask of token choice.
static Value keepTopK(ImplicitLocOpBuilder &b, Value values, Value ranks,
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

/// Divides every entry of `s` by the sum over dimension `axis` (plus
/// `eps`), times `scale`; a zero denominator gives zero.
static Value normalizeOver(ImplicitLocOpBuilder &b, Value s, int64_t axis,
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
                         arith::AddFOp::create(b, a[2], a[0]),
                         arith::AddFOp::create(
                             b, a[3], arith::MulFOp::create(b, a[1], a[0]))};
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

//===----------------------------------------------------------------------===//
// Patterns
//===----------------------------------------------------------------------===//

Value uoe::dataSelectPatchScores(ImplicitLocOpBuilder &b, DataSelectOp op) {
  auto scoresType = op.getScores().getType();
  Type elt = scoresType.getElementType();
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
  return ps;
}

Value uoe::dataSelectLength(ImplicitLocOpBuilder &b, DataSelectOp op,
                            Value ps) {
  Type i64 = b.getI64Type();
  if (!op.isDynamic())
    return constInt(b, i64, op.getPositions().getType().getShape()[2]);
  auto psType = cast<RankedTensorType>(ps.getType());
  Type elt = psType.getElementType();
  int64_t e = psType.getShape()[0], r = psType.getShape()[1];
  Value countInit = filledTensor(b, {}, i64, b.getI64IntegerAttr(0));
  Value perRow =
      buildGeneric(b, ps,
                   filledTensor(b, {b.getIndexAttr(e), b.getIndexAttr(r)}, i64,
                                b.getI64IntegerAttr(0)),
                   {{0, 1, 2}, {0, 1}}, {kPar, kPar, kRed},
                   [&](ImplicitLocOpBuilder &b, ValueRange a) {
                     Value positive =
                         arith::CmpFOp::create(b, arith::CmpFPredicate::OGT,
                                               a[0], constFloat(b, elt, 0.0));
                     return SmallVector<Value>{arith::AddIOp::create(
                         b, a[1], arith::ExtUIOp::create(b, i64, positive))};
                   })[0];
  Value maxCount = buildGeneric(
      b, perRow, countInit, {{0, 1}, {}}, {kRed, kRed},
      [](ImplicitLocOpBuilder &b, ValueRange a) {
        return SmallVector<Value>{arith::MaxSIOp::create(b, a[0], a[1])};
      })[0];
  return tensor::ExtractOp::create(b, maxCount, ValueRange{});
}

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
    rewriter.replaceOp(op, routerScores(b, op.getScore(), logits));
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
                           return SmallVector<Value>{arith::AddFOp::create(
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
                        return SmallVector<Value>{
                            arith::AddFOp::create(b, a[1], a[0])};
                      })[0];
    rewriter.replaceOp(op, {dx, dw, db});
    return success();
  }
};

/// The token choice's forward chain before the normalisation over an axis:
/// stable ranks over the experts, the top-k mask applied (`kept`), and the
/// optional renormalisation over the experts (`renormalized`, `kept`
/// without it). Its gradient recomputes the same chain.
struct TopKChain {
  Value ranks, kept, renormalized;
};
static TopKChain topKChain(ImplicitLocOpBuilder &b, Value probs, int64_t top,
                           bool renormalize) {
  TopKChain chain;
  chain.ranks = stableRankLastDim(b, probs);
  chain.kept = keepTopK(b, probs, chain.ranks, top);
  int64_t rank = cast<RankedTensorType>(probs.getType()).getRank();
  chain.renormalized = renormalize
                           ? normalizeOver(b, chain.kept, rank - 1, /*eps=*/0.0,
                                           /*scale=*/1.0)
                           : chain.kept;
  return chain;
}

/// Spec §2's factor of the normalisation over `axis`:
/// g = s / (sum_axis(s) + eps) * floor(c * n_axis).
static double capacityScale(RankedTensorType type, int64_t axis,
                            APFloat capacity) {
  double n = static_cast<double>(type.getShape()[axis]);
  return std::floor(capacity.convertToDouble() * n);
}

/// s = probs where the stable rank is below top, else 0; then the optional
/// renormalisation over experts and normalisation over `axis`.
struct TokenChoiceToLinalg : OpRewritePattern<TokenChoiceOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(TokenChoiceOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    TopKChain chain =
        topKChain(b, op.getProbs(), op.getTop(), op.getRenormalize());
    Value s = chain.renormalized;
    if (std::optional<int64_t> axis = op.getAxis())
      s = normalizeOver(b, s, *axis, op.getEps().convertToDouble(),
                        capacityScale(op.getType(), *axis, op.getCapacity()));
    rewriter.replaceOp(op, s);
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
    TopKChain chain =
        topKChain(b, op.getProbs(), op.getTop(), op.getRenormalize());
    Value grad = op.getResultGrad();
    if (std::optional<int64_t> axis = op.getAxis())
      grad = normalizeOverGrad(
          b, chain.renormalized, grad, *axis, op.getEps().convertToDouble(),
          capacityScale(op.getType(), *axis, op.getCapacity()));
    if (op.getRenormalize())
      grad = normalizeOverGrad(b, chain.kept, grad, op.getType().getRank() - 1,
                               0.0, 1.0);
    rewriter.replaceOp(op, keepTopK(b, grad, chain.ranks, op.getTop()));
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
    Value ps = dataSelectPatchScores(b, op);
    Value ranks = stableRankLastDim(b, ps);
    // L: static, or the largest count of positive patch scores.
    Value l = dataSelectLength(b, op, ps);

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

/// `scores_grad[r, n, e] = weights_grad[e, r, slotOf[e, r, n / P]] / P`, 0
/// for a patch no slot holds (the combine's inverse index).
struct DataSelectGradToLinalg : OpRewritePattern<DataSelectGradOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(DataSelectGradOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    auto type = op.getType();
    Type elt = type.getElementType();
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
          auto [valid, slot] = lookupSlot(b, a[0]);
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

} // namespace

void uoe::populateRoutingToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<RouterToLinalg, RouterGradToLinalg, TokenChoiceToLinalg,
               TokenChoiceGradToLinalg, ExpertSelectToLinalg,
               DataSelectToLinalg, DataSelectGradToLinalg>(
      patterns.getContext());
}

Value uoe::routerScores(ImplicitLocOpBuilder &b, RouterScore score,
                        Value logits) {
  if (score == RouterScore::Softmax)
    return softmaxLastDim(b, logits);
  auto type = cast<RankedTensorType>(logits.getType());
  Type elt = type.getElementType();
  SmallVector<int64_t> map = iota(type.getRank());
  return buildGeneric(
      b, logits, emptyTensor(b, tensorSizes(b, logits), elt), {map, map},
      iteratorTypes(type.getRank(), 0),
      [&](ImplicitLocOpBuilder &b, ValueRange a) {
        Value one = constFloat(b, elt, 1.0);
        Value e = math::ExpOp::create(b, arith::NegFOp::create(b, a[0]));
        return SmallVector<Value>{
            arith::DivFOp::create(b, one, arith::AddFOp::create(b, one, e))};
      })[0];
}
