//===- ExpandLayers.cpp - expert layers to routing and expert ops --------===//
//
// Expands the expert layer ops into level-2 ops, one pattern per layer:
//
//   uome:  router -> token_choice (normalise over axis 0) -> data_select
//          (static capacity along axis 1) -> dispatch -> expert_matmul (W1,
//          activation) -> expert_matmul (W2) -> combine
//   smha:  as uome with dynamic capacity along T, three projections, then
//          selective_attention over each head-group's tokens -> Wo -> combine
//   moe:   router -> token_choice (per-token top-k, optional renormalise)
//          -> data_select (dynamic: every expert takes the tokens that chose
//          it, padded with zero-weight tokens) -> expert MLP -> gated combine
//
// With `routing causal_safe` (spec §7) uome and smha route as moe does: no
// normalisation across tokens and dynamic capacity, so every expert takes
// exactly the tokens that chose it. The padding slots of that selection
// are real tokens of score 0; they must contribute nothing. The combine is
// gated with weight 0 for them (union mode: the 0/1 indicator of a chosen
// slot), and smha masks them as keys. That mask depends on the expert, and
// selective_attention's key padding is per row, so the attention runs on
// [1, E*B, L, De] (every (expert, row) pair a row) with the key padding
// `[E*B, T]`: token t is padding for (e, b) when it did not choose e (or is
// padding of the input).
//
// The patterns only restate the spec in smaller ops; fusion and lowering are
// later passes.
//
//===----------------------------------------------------------------------===//

#include "passes/LinalgBuilder.h"
#include "passes/Passes.h"

#include "mlir/IR/ImplicitLocOpBuilder.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::uoe {
#define GEN_PASS_DEF_UOEEXPANDLAYERSPASS
#include "passes/Passes.h.inc"
} // namespace mlir::uoe

using namespace mlir;
using namespace mlir::uoe;

namespace {

RankedTensorType tensorOf(ArrayRef<int64_t> shape, Type elementType) {
  return RankedTensorType::get(shape, elementType);
}

/// The routed and selected form shared by the three layers: the selection
/// positions, their weights and the dispatched tokens.
struct Selection {
  Value positions;
  Value weights;
  Value dispatched;
  /// The token-choice scores `[R, N, E]` (0 where a token did not choose
  /// the expert).
  Value scores;
};

/// Emits router -> token_choice -> data_select -> dispatch for
/// `x: [R, N, d]` routed over `E` experts.
Selection emitRoutingAndDispatch(PatternRewriter &rewriter, Location loc,
                                 Value x, Value wg, Value bg,
                                 RouterScore score, int64_t top,
                                 bool renormalize, std::optional<int64_t> axis,
                                 double eps, double normCapacity,
                                 int64_t patch,
                                 std::optional<double> capacity) {
  auto xType = cast<RankedTensorType>(x.getType());
  Type elt = xType.getElementType();
  int64_t r = xType.getShape()[0], n = xType.getShape()[1],
          d = xType.getShape()[2];
  int64_t e = cast<RankedTensorType>(wg.getType()).getShape()[0];
  MLIRContext *ctx = rewriter.getContext();

  auto probsType = tensorOf({r, n, e}, elt);
  Value probs = RouterOp::create(rewriter, loc, probsType, x, wg, bg,
                                 RouterScoreAttr::get(ctx, score));
  IntegerAttr axisAttr = axis ? rewriter.getI64IntegerAttr(*axis) : nullptr;
  Value scores = TokenChoiceOp::create(
      rewriter, loc, probsType, probs, rewriter.getI64IntegerAttr(top),
      renormalize ? rewriter.getUnitAttr() : nullptr, axisAttr,
      rewriter.getF64FloatAttr(eps), rewriter.getF64FloatAttr(normCapacity));

  int64_t l = ShapedType::kDynamic;
  FloatAttr capacityAttr;
  if (capacity) {
    l = static_cast<int64_t>(std::floor(*capacity * (n / patch)));
    capacityAttr = rewriter.getF64FloatAttr(*capacity);
  }
  auto select = DataSelectOp::create(
      rewriter, loc, tensorOf({e, r, l}, rewriter.getI64Type()),
      tensorOf({e, r, l}, elt), scores, rewriter.getI64IntegerAttr(patch),
      capacityAttr);
  int64_t rows = ShapedType::isDynamic(l) ? l : l * patch;
  Value dispatched = DispatchOp::create(
      rewriter, loc, tensorOf({e, r, rows, d}, elt), x, select.getPositions(),
      rewriter.getI64IntegerAttr(patch));
  return {select.getPositions(), select.getWeights(), dispatched, scores};
}

/// Emits `act(xs W1 + b1)` then `. W2 + b2` per expert.
Value emitExpertMlp(PatternRewriter &rewriter, Location loc, Value xs,
                    Value w1, Value b1, Value w2, Value b2, Activation act) {
  auto xsType = cast<RankedTensorType>(xs.getType());
  int64_t fe = cast<RankedTensorType>(w2.getType()).getShape()[1];
  int64_t d = xsType.getShape().back();
  SmallVector<int64_t> hShape(xsType.getShape().drop_back());
  hShape.push_back(fe);
  MLIRContext *ctx = rewriter.getContext();
  Value h = ExpertMatmulOp::create(rewriter, loc,
                                   tensorOf(hShape, xsType.getElementType()),
                                   xs, w1, b1, ActivationAttr::get(ctx, act));
  hShape.back() = d;
  return ExpertMatmulOp::create(
      rewriter, loc, tensorOf(hShape, xsType.getElementType()), h, w2, b2,
      ActivationAttr::get(ctx, Activation::None));
}

/// Emits the combine of `ys` into `resultType`, gated or union.
Value emitCombine(PatternRewriter &rewriter, Location loc, Type resultType,
                  Value ys, const Selection &sel, CombineMode mode,
                  int64_t patch) {
  Value weights = mode == CombineMode::Gated ? sel.weights : Value();
  return CombineOp::create(rewriter, loc, resultType, ys, sel.positions,
                           weights,
                           CombineModeAttr::get(rewriter.getContext(), mode),
                           rewriter.getI64IntegerAttr(patch));
}

/// Causal-safe routing (spec §7): each token's own top-k, no normalisation,
/// every expert takes the tokens that chose it (dynamic capacity).
Selection emitCausalSafeRouting(PatternRewriter &rewriter, Location loc,
                                Value x, Value wg, Value bg, RouterScore score,
                                int64_t top) {
  return emitRoutingAndDispatch(rewriter, loc, x, wg, bg, score, top,
                                /*renormalize=*/false, /*axis=*/std::nullopt,
                                /*eps=*/0.0, /*normCapacity=*/1.0,
                                /*patch=*/1, /*capacity=*/std::nullopt);
}

/// The combine of a causal-safe selection: gated by the token's score, or
/// in union mode by 1 for a chosen slot and 0 for a padding slot (score 0).
/// The indicator is an integer comparison cast to float, so it carries no
/// gradient, as union mode does not.
Value emitCausalSafeCombine(PatternRewriter &rewriter, Location loc,
                            Type resultType, Value ys, const Selection &sel,
                            CombineMode mode) {
  Value weights = sel.weights;
  if (mode == CombineMode::Union) {
    ImplicitLocOpBuilder b(loc, rewriter);
    auto type = cast<RankedTensorType>(weights.getType());
    Value chosen = buildGeneric(
        b, weights, emptyTensor(b, tensorSizes(b, weights), b.getI1Type()),
        {{0, 1, 2}, {0, 1, 2}}, {kPar, kPar, kPar},
        [](ImplicitLocOpBuilder &b, ValueRange a) {
          Value zero = constFloat(b, a[0].getType(), 0.0);
          return SmallVector<Value>{
              arith::CmpFOp::create(b, arith::CmpFPredicate::OGT, a[0], zero)};
        })[0];
    weights = arith::UIToFPOp::create(b, type, chosen);
  }
  return CombineOp::create(
      rewriter, loc, resultType, ys, sel.positions, weights,
      CombineModeAttr::get(rewriter.getContext(), CombineMode::Gated),
      rewriter.getI64IntegerAttr(1));
}

struct ExpandUome : OpRewritePattern<UomeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(UomeOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    int64_t patch = op.getPatch();
    if (op.getRouting() == RoutingMode::CausalSafe) {
      Selection sel =
          emitCausalSafeRouting(rewriter, loc, op.getInput(), op.getWg(),
                                op.getBg(), op.getScore(), op.getTop());
      Value ys =
          emitExpertMlp(rewriter, loc, sel.dispatched, op.getW1(), op.getB1(),
                        op.getW2(), op.getB2(), op.getActivation());
      rewriter.replaceOp(op, emitCausalSafeCombine(rewriter, loc, op.getType(),
                                                   ys, sel, op.getCombine()));
      return success();
    }
    // Spec §6: normalise over axis 0, select along axis 1.
    Selection sel = emitRoutingAndDispatch(
        rewriter, loc, op.getInput(), op.getWg(), op.getBg(), op.getScore(),
        op.getTop(), /*renormalize=*/false, /*axis=*/0,
        op.getEps().convertToDouble(), op.getNormCapacity().convertToDouble(),
        patch, op.getCapacity().convertToDouble());
    Value ys = emitExpertMlp(rewriter, loc, sel.dispatched, op.getW1(),
                             op.getB1(), op.getW2(), op.getB2(),
                             op.getActivation());
    rewriter.replaceOp(op, emitCombine(rewriter, loc, op.getType(), ys, sel,
                                       op.getCombine(), patch));
    return success();
  }
};

struct ExpandSmha : OpRewritePattern<SmhaOp> {
  using OpRewritePattern::OpRewritePattern;

  /// `stacked[index]` of a `[3, ...]` tensor, with the leading 3 dropped.
  static Value slice(PatternRewriter &rewriter, Location loc, Value stacked,
                     int64_t index) {
    auto type = cast<RankedTensorType>(stacked.getType());
    int64_t rank = type.getRank();
    SmallVector<OpFoldResult> offsets(rank, rewriter.getIndexAttr(0));
    offsets[0] = rewriter.getIndexAttr(index);
    SmallVector<OpFoldResult> sizes, strides(rank, rewriter.getIndexAttr(1));
    sizes.push_back(rewriter.getIndexAttr(1));
    for (int64_t dim : type.getShape().drop_front())
      sizes.push_back(rewriter.getIndexAttr(dim));
    auto resultType =
        tensorOf(type.getShape().drop_front(), type.getElementType());
    return tensor::ExtractSliceOp::create(rewriter, loc, resultType, stacked,
                                          offsets, sizes, strides);
  }

  /// The key padding `[E*B, T]` of the causal-safe attention: token t is
  /// padding for expert e in row b when it did not choose e (its score is
  /// 0) or is padding of the input.
  static Value slotKeyPadding(ImplicitLocOpBuilder &b, Value scores,
                              Value keyPadding) {
    auto type = cast<RankedTensorType>(scores.getType());
    int64_t rows = type.getShape()[0], t = type.getShape()[1],
            e = type.getShape()[2];
    SmallVector<Value> inputs{scores};
    // Loops (e, b, t): scores[b, t, e], keyPadding[b, t].
    SmallVector<SmallVector<int64_t>> maps{{1, 2, 0}};
    if (keyPadding) {
      inputs.push_back(keyPadding);
      maps.push_back({1, 2});
    }
    maps.push_back({0, 1, 2});
    bool padded = static_cast<bool>(keyPadding);
    Value mask = buildGeneric(
        b, inputs,
        emptyTensor(
            b, {b.getIndexAttr(e), b.getIndexAttr(rows), b.getIndexAttr(t)},
            b.getI1Type()),
        maps, {kPar, kPar, kPar},
        [padded](ImplicitLocOpBuilder &b, ValueRange a) {
          Value zero = constFloat(b, a[0].getType(), 0.0);
          Value hide =
              arith::CmpFOp::create(b, arith::CmpFPredicate::OLE, a[0], zero);
          if (padded)
            hide = arith::OrIOp::create(b, hide, a[1]);
          return SmallVector<Value>{hide};
        })[0];
    return collapse(b, mask, {{0, 1}, {2}});
  }

  /// `[E, B, ...]` to `[1, E*B, ...]` and back.
  static Value toPairs(ImplicitLocOpBuilder &b, Value v) {
    auto type = cast<RankedTensorType>(v.getType());
    SmallVector<ReassociationIndices> merge{{0, 1}};
    for (int64_t i = 2; i < type.getRank(); ++i)
      merge.push_back({i});
    Value flat = collapse(b, v, merge);
    SmallVector<int64_t> shape{1, type.getShape()[0] * type.getShape()[1]};
    llvm::append_range(shape, type.getShape().drop_front(2));
    SmallVector<ReassociationIndices> lead{{0, 1}};
    for (int64_t i = 2; i < type.getRank(); ++i)
      lead.push_back({i});
    SmallVector<OpFoldResult> sizes{b.getIndexAttr(1)};
    llvm::append_range(sizes, tensorSizes(b, flat));
    return expand(b, flat, RankedTensorType::get(shape, type.getElementType()),
                  lead, sizes);
  }
  static Value fromPairs(ImplicitLocOpBuilder &b, Value v,
                         RankedTensorType type, ArrayRef<OpFoldResult> sizes) {
    auto vType = cast<RankedTensorType>(v.getType());
    SmallVector<ReassociationIndices> merge{{0, 1}};
    for (int64_t i = 2; i < vType.getRank(); ++i)
      merge.push_back({i});
    Value flat = collapse(b, v, merge);
    return expand(b, flat, type, merge, sizes);
  }

  LogicalResult matchAndRewrite(SmhaOp op,
                                PatternRewriter &rewriter) const override {
    SmhaParts parts = SmhaParts::of(op);
    parts.causal = op.getCausalAttr();
    parts.causalSafe = op.getRouting() == RoutingMode::CausalSafe;
    parts.eps = op.getEps().convertToDouble();
    parts.normCapacity = op.getNormCapacity().convertToDouble();
    rewriter.replaceOp(op,
                       expandLayer(rewriter, op.getLoc(), op.getType(), parts));
    return success();
  }

  /// What the expansion of uoe.smha and uoe.cached_smha reads of the op.
  struct SmhaParts {
    Value input, wg, bg, wqkv, bqkv, wo, bo, keyPadding;
    int64_t experts, heads, top;
    RopeModeAttr rope;
    FloatAttr ropeBase;
    RouterScore score;
    CombineMode combine;
    UnitAttr causal = {};
    bool causalSafe = false;
    double eps = 0.0, normCapacity = 1.0;
    /// Decoding (uoe.cached_smha): positions, cache and its layer.
    Value start = {}, cache = {}, layer = {};

    /// The operands and attributes both ops have.
    template <class Op> static SmhaParts of(Op op) {
      return SmhaParts{
          op.getInput(),        op.getWg(),         op.getBg(),
          op.getWqkv(),         op.getBqkv(),       op.getWo(),
          op.getBo(),           op.getKeyPadding(), op.getNumExperts(),
          op.getHeads(),        op.getTop(),        op.getRopeAttr(),
          op.getRopeBaseAttr(), op.getScore(),      op.getCombine()};
    }
  };

  static Value expandLayer(PatternRewriter &rewriter, Location loc,
                           RankedTensorType type, const SmhaParts &op) {
    // Spec §6: route [B, T, d], normalise over the batch, dynamic L along T;
    // spec §7 (causal-safe): each token's own top-k, no normalisation.
    Selection sel =
        op.causalSafe
            ? emitCausalSafeRouting(rewriter, loc, op.input, op.wg, op.bg,
                                    op.score, op.top)
            : emitRoutingAndDispatch(rewriter, loc, op.input, op.wg, op.bg,
                                     op.score, op.top,
                                     /*renormalize=*/false,
                                     /*axis=*/0, op.eps, op.normCapacity,
                                     /*patch=*/1, /*capacity=*/std::nullopt);

    auto xsType = cast<RankedTensorType>(sel.dispatched.getType());
    int64_t de = cast<RankedTensorType>(op.wo.getType()).getShape()[1];
    SmallVector<int64_t> projShape(xsType.getShape().drop_back());
    projShape.push_back(de);
    auto projType = tensorOf(projShape, xsType.getElementType());
    auto none = ActivationAttr::get(rewriter.getContext(), Activation::None);
    SmallVector<Value, 3> qkv;
    for (int64_t i = 0; i < 3; ++i)
      qkv.push_back(
          ExpertMatmulOp::create(rewriter, loc, projType, sel.dispatched,
                                 slice(rewriter, loc, op.wqkv, i),
                                 slice(rewriter, loc, op.bqkv, i), none));

    auto heads = rewriter.getI64IntegerAttr(op.heads / op.experts);
    Value attended;
    if (op.causalSafe) {
      ImplicitLocOpBuilder b(loc, rewriter);
      SmallVector<OpFoldResult> sizes = tensorSizes(b, qkv[0]);
      Value q = toPairs(b, qkv[0]), k = toPairs(b, qkv[1]),
            v = toPairs(b, qkv[2]), positions = toPairs(b, sel.positions);
      Value mask = slotKeyPadding(b, sel.scores, op.keyPadding);
      Value pairs;
      if (op.cache) {
        // Decoding: [1, E*B, L, De] as the cache kernel's rows [E*B, L, De].
        SmallVector<ReassociationIndices> rows{{0, 1}, {2}, {3}};
        Value attendedRows = KvAttendOp::create(
            b, collapse(b, q, rows).getType(), collapse(b, q, rows),
            collapse(b, k, rows), collapse(b, v, rows), op.start,
            collapse(b, positions, {{0, 1}, {2}}), mask, op.cache, op.layer,
            heads, op.rope, op.ropeBase, /*scale=*/FloatAttr());
        pairs =
            uoe::expand(b, attendedRows, cast<RankedTensorType>(q.getType()),
                        rows, tensorSizes(b, q));
      } else {
        pairs = SelectiveAttentionOp::create(
            rewriter, loc, q.getType(), q, k, v, positions, mask, heads,
            op.causal, op.rope, op.ropeBase, /*scale=*/FloatAttr());
      }
      attended = fromPairs(b, pairs, projType, sizes);
    } else {
      attended = SelectiveAttentionOp::create(
          rewriter, loc, projType, qkv[0], qkv[1], qkv[2], sel.positions,
          op.keyPadding, heads, op.causal, op.rope, op.ropeBase,
          /*scale=*/FloatAttr());
    }
    Value ys = ExpertMatmulOp::create(rewriter, loc, xsType, attended, op.wo,
                                      op.bo, none);
    if (op.causalSafe)
      return emitCausalSafeCombine(rewriter, loc, type, ys, sel, op.combine);
    return emitCombine(rewriter, loc, type, ys, sel, op.combine, /*patch=*/1);
  }
};

/// Cached SMHA: the causal-safe expansion of uoe.smha with the attention
/// over the per-expert caches.
struct ExpandCachedSmha : OpRewritePattern<CachedSmhaOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(CachedSmhaOp op,
                                PatternRewriter &rewriter) const override {
    auto parts = ExpandSmha::SmhaParts::of(op);
    parts.causal = rewriter.getUnitAttr();
    parts.causalSafe = true;
    parts.start = op.getStart();
    parts.cache = op.getCache();
    parts.layer = op.getLayer();
    rewriter.replaceOp(op, ExpandSmha::expandLayer(rewriter, op.getLoc(),
                                                   op.getType(), parts));
    return success();
  }
};

struct ExpandMoe : OpRewritePattern<MoeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(MoeOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = op.getType();
    int64_t d = type.getShape().back();
    int64_t tokens = type.getNumElements() / d;
    if (ShapedType::isDynamic(tokens) || !type.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "unsupported: dynamic input shape");

    // All tokens form one row: x [..., d] -> [1, N, d].
    auto flatType = tensorOf({1, tokens, d}, type.getElementType());
    SmallVector<ReassociationIndices> toFlat(2);
    for (int64_t i = 0; i + 1 < type.getRank(); ++i)
      toFlat[0].push_back(i);
    toFlat[1].push_back(type.getRank() - 1);
    Value flat = tensor::CollapseShapeOp::create(rewriter, loc, op.getInput(),
                                                 toFlat);
    flat = tensor::ExpandShapeOp::create(
        rewriter, loc, flatType, flat,
        SmallVector<ReassociationIndices>{{0, 1}, {2}});

    Selection sel = emitRoutingAndDispatch(
        rewriter, loc, flat, op.getWg(), op.getBg(), op.getScore(),
        op.getTop(), op.getRenormalize(), /*axis=*/std::nullopt,
        /*eps=*/0.0, /*normCapacity=*/1.0, /*patch=*/1,
        /*capacity=*/std::nullopt);
    Value ys = emitExpertMlp(rewriter, loc, sel.dispatched, op.getW1(),
                             op.getB1(), op.getW2(), op.getB2(),
                             op.getActivation());
    Value combined = emitCombine(rewriter, loc, flatType, ys, sel,
                                 CombineMode::Gated, /*patch=*/1);

    Value result = tensor::CollapseShapeOp::create(
        rewriter, loc, combined,
        SmallVector<ReassociationIndices>{{0, 1}, {2}});
    result = tensor::ExpandShapeOp::create(rewriter, loc, type, result, toFlat);
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct UoEExpandLayersPass
    : uoe::impl::UoEExpandLayersPassBase<UoEExpandLayersPass> {
  using UoEExpandLayersPassBase::UoEExpandLayersPassBase;
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateExpandLayersPatterns(patterns);
    if (denseLayers)
      populateDenseLayerExpansionPatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace

void uoe::populateExpandLayersPatterns(RewritePatternSet &patterns) {
  patterns.add<ExpandUome, ExpandSmha, ExpandCachedSmha, ExpandMoe>(
      patterns.getContext());
}

void uoe::populateDenseLayerExpansionPatterns(RewritePatternSet &patterns) {
  populateDenseMlpExpansionPatterns(patterns);
  populateDenseAttentionExpansionPatterns(patterns);
}
