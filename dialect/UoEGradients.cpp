//===- UoEGradients.cpp - the gradient rules of the uoe ops --------------===//
//
// Every uoe op with a gradient declares `UoE_DifferentiableOpInterface` in
// its ODS definition; its `buildGradient` is here, in the order of the ODS
// files (layer ops, routing and expert ops, loss and activation). Each rule
// reads the forward op's operands (and results) and emits the adjoints of
// its float operands through the reverse sweep's `AdjointBuilder`:
// - a `*_grad` op of UoEGradOps.td where the backward needs the forward's
//   intermediates (norm statistics, softmax probabilities, top-k masks,
//   attention probabilities): the `*_grad` op recomputes them, and its
//   lowering sits beside the forward's in passes/<Family>ToLinalg.cpp;
// - otherwise a short chain of ops that exist already: the transpose of
//   `uoe.dispatch` is a union `uoe.combine` and the other way round, an
//   expert GEMM's gradients are GEMMs.
// Integer operands (positions, ids, targets, masks) get no adjoint. The
// upstream ops (arith, tensor, linalg) keep their rules in
// passes/Autodiff.cpp, which cannot annotate them.
//
//===----------------------------------------------------------------------===//

#include "dialect/UoEOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::uoe;

//===----------------------------------------------------------------------===//
// Layer ops (UoELayerOps.td)
//===----------------------------------------------------------------------===//

LogicalResult LayerNormOp::buildGradient(AdjointBuilder &adjoints,
                                         ArrayRef<Value> resultGrads) {
  ImplicitLocOpBuilder &b = adjoints.builder();
  Type gammaType = getGamma().getType();
  auto grads = LayerNormGradOp::create(b, getInput().getType(), gammaType,
                                       gammaType, getInput(), getGamma(),
                                       resultGrads[0], getEpsAttr());
  adjoints.accumulate(getInput(), grads.getInputGrad());
  adjoints.accumulate(getGamma(), grads.getGammaGrad());
  adjoints.accumulate(getBeta(), grads.getBetaGrad());
  return success();
}

LogicalResult RmsNormOp::buildGradient(AdjointBuilder &adjoints,
                                       ArrayRef<Value> resultGrads) {
  ImplicitLocOpBuilder &b = adjoints.builder();
  auto grads = RmsNormGradOp::create(b, getInput().getType(),
                                     getGamma().getType(), getInput(),
                                     getGamma(), resultGrads[0], getEpsAttr());
  adjoints.accumulate(getInput(), grads.getInputGrad());
  adjoints.accumulate(getGamma(), grads.getGammaGrad());
  return success();
}

/// The table's adjoint is the scatter-add `uoe.embedding_grad`; row t of a
/// learned position table is added at position t of every sequence, so its
/// adjoint is the sum over the leading (batch) dimensions, written into the
/// first T rows of zeros.
LogicalResult EmbeddingOp::buildGradient(AdjointBuilder &adjoints,
                                         ArrayRef<Value> resultGrads) {
  ImplicitLocOpBuilder &b = adjoints.builder();
  Value dy = resultGrads[0];
  adjoints.accumulate(getTable(), EmbeddingGradOp::create(
                                      b, getTable().getType(), getIds(), dy));
  Value positions = getPositions();
  if (!positions)
    return success();
  auto dyType = cast<RankedTensorType>(dy.getType());
  SmallVector<int64_t> leading;
  for (int64_t i = 0; i + 2 < dyType.getRank(); ++i)
    leading.push_back(i);
  Value perPosition = leading.empty() ? dy : adjoints.sumOver(dy, leading);
  int64_t t = dyType.getShape()[dyType.getRank() - 2],
          d = dyType.getShape().back();
  SmallVector<OpFoldResult> offsets(2, b.getIndexAttr(0)),
      sizes{b.getIndexAttr(t), b.getIndexAttr(d)},
      strides(2, b.getIndexAttr(1));
  adjoints.accumulate(
      positions, tensor::InsertSliceOp::create(b, perPosition,
                                               adjoints.zerosLike(positions),
                                               offsets, sizes, strides));
  return success();
}

//===----------------------------------------------------------------------===//
// Routing and expert ops (UoERoutingOps.td)
//===----------------------------------------------------------------------===//

LogicalResult RouterOp::buildGradient(AdjointBuilder &adjoints,
                                      ArrayRef<Value> resultGrads) {
  ImplicitLocOpBuilder &b = adjoints.builder();
  auto grads = RouterGradOp::create(
      b, getInput().getType(), getWeight().getType(), getBias().getType(),
      getInput(), getWeight(), getProbs(), resultGrads[0], getScoreAttr());
  adjoints.accumulate(getInput(), grads.getInputGrad());
  adjoints.accumulate(getWeight(), grads.getWeightGrad());
  adjoints.accumulate(getBias(), grads.getBiasGrad());
  return success();
}

LogicalResult TokenChoiceOp::buildGradient(AdjointBuilder &adjoints,
                                           ArrayRef<Value> resultGrads) {
  ImplicitLocOpBuilder &b = adjoints.builder();
  adjoints.accumulate(
      getProbs(), TokenChoiceGradOp::create(b, getProbs().getType(), getProbs(),
                                            resultGrads[0], getTopAttr(),
                                            getRenormalizeAttr(), getAxisAttr(),
                                            getEpsAttr(), getCapacityAttr()));
  return success();
}

/// Only the weights are differentiable; the positions are not.
LogicalResult DataSelectOp::buildGradient(AdjointBuilder &adjoints,
                                          ArrayRef<Value> resultGrads) {
  ImplicitLocOpBuilder &b = adjoints.builder();
  if (Value dw = resultGrads[1])
    adjoints.accumulate(getScores(), DataSelectGradOp::create(
                                         b, getScores().getType(),
                                         getPositions(), dw, getPatchAttr()));
  return success();
}

/// The transpose of the gather is the union scatter-add of the same
/// positions.
LogicalResult DispatchOp::buildGradient(AdjointBuilder &adjoints,
                                        ArrayRef<Value> resultGrads) {
  ImplicitLocOpBuilder &b = adjoints.builder();
  adjoints.accumulate(
      getInput(),
      CombineOp::create(b, getInput().getType(), resultGrads[0], getPositions(),
                        Value(),
                        CombineModeAttr::get(getContext(), CombineMode::Union),
                        getPatchAttr()));
  return success();
}

/// `dlhs = dy rhs^T`, itself an expert matmul (so that the passes fuse the
/// selection around it as in the forward: the gather of `dy` where it is a
/// dispatch's, the combine that is the dispatch's gradient); with
/// `[E, ..., M, K]` flattened to `[E, S, K]`, `drhs = lhs^T dy`; `dbias` =
/// the column sums of `dy`. An activation must have been split out first
/// (prepareForAutodiff does), since its gradient needs the pre-activation.
LogicalResult ExpertMatmulOp::buildGradient(AdjointBuilder &adjoints,
                                            ArrayRef<Value> resultGrads) {
  if (getActivation() != Activation::None)
    return emitOpError("cannot be differentiated with a fused activation "
                       "(prepareForAutodiff splits it out)");
  ImplicitLocOpBuilder &b = adjoints.builder();
  Value dy = resultGrads[0];
  Value lhs = getLhs();
  auto lhsType = cast<RankedTensorType>(lhs.getType());
  int64_t rank = lhsType.getRank();
  ReassociationIndices rows;
  for (int64_t i = 1; i < rank - 1; ++i)
    rows.push_back(i);
  SmallVector<ReassociationIndices> groups{{0}, rows, {rank - 1}};
  auto flatten = [&](Value v) -> Value {
    if (rank == 3)
      return v;
    return tensor::CollapseShapeOp::create(b, v, groups);
  };
  Value lhs3 = flatten(lhs), dy3 = flatten(dy);
  auto none = ActivationAttr::get(getContext(), Activation::None);
  adjoints.accumulate(
      lhs, ExpertMatmulOp::create(b, lhsType, dy,
                                  adjoints.transpose(getRhs(), {0, 2, 1}),
                                  Value(), none));
  adjoints.accumulate(
      getRhs(), adjoints.batchMatmul(adjoints.transpose(lhs3, {0, 2, 1}), dy3));
  if (Value bias = getBias())
    adjoints.accumulate(bias, adjoints.sumOver(dy3, {1}));
  return success();
}

LogicalResult SelectiveAttentionOp::buildGradient(AdjointBuilder &adjoints,
                                                  ArrayRef<Value> resultGrads) {
  ImplicitLocOpBuilder &b = adjoints.builder();
  Type type = getQuery().getType();
  auto grads = SelectiveAttentionGradOp::create(
      b, type, type, type, getQuery(), getKey(), getValue(), getPositions(),
      getKeyPadding(), resultGrads[0], getHeadsAttr(), getCausalAttr(),
      getRopeAttr(), getRopeBaseAttr(), getScaleAttr());
  adjoints.accumulate(getQuery(), grads.getQueryGrad());
  adjoints.accumulate(getKey(), grads.getKeyGrad());
  adjoints.accumulate(getValue(), grads.getValueGrad());
  return success();
}

/// The transpose of the scatter is the gather of the same positions. Gated:
/// `out += w * y`, so `dy_e = w * gathered` and `dw = <gathered, y>` over
/// the patch's rows and the channels, with `[E, R, L*P, d]` viewed as
/// `[E, R, L, P, d]` to line the rows up with their patch's weight.
LogicalResult CombineOp::buildGradient(AdjointBuilder &adjoints,
                                       ArrayRef<Value> resultGrads) {
  ImplicitLocOpBuilder &b = adjoints.builder();
  Value ys = getInput();
  Value gathered = DispatchOp::create(b, ys.getType(), resultGrads[0],
                                      getPositions(), getPatchAttr());
  Value weights = getWeights();
  if (!weights) {
    adjoints.accumulate(ys, gathered);
    return success();
  }
  auto ysType = cast<RankedTensorType>(ys.getType());
  int64_t patch = getPatch(), d = ysType.getShape()[3];
  SmallVector<OpFoldResult> viewSizes = adjoints.sizes(getPositions());
  viewSizes.push_back(b.getIndexAttr(patch));
  viewSizes.push_back(b.getIndexAttr(d));
  SmallVector<int64_t> viewShape(getPositions().getType().getShape());
  viewShape.push_back(patch);
  viewShape.push_back(d);
  auto viewType = RankedTensorType::get(viewShape, ysType.getElementType());
  SmallVector<ReassociationIndices> groups{{0}, {1}, {2, 3}, {4}};
  Value gatheredView =
      tensor::ExpandShapeOp::create(b, viewType, gathered, groups, viewSizes);
  Value ysView =
      tensor::ExpandShapeOp::create(b, viewType, ys, groups, viewSizes);
  Value scaled = adjoints.broadcastMul(gatheredView, weights, {0, 1, 2});
  adjoints.accumulate(ys, tensor::CollapseShapeOp::create(b, scaled, groups));
  Value product = arith::MulFOp::create(b, gatheredView, ysView);
  adjoints.accumulate(weights, adjoints.sumOver(product, {3, 4}));
  return success();
}

//===----------------------------------------------------------------------===//
// Loss and activation (UoEGradOps.td)
//===----------------------------------------------------------------------===//

LogicalResult ActivationOp::buildGradient(AdjointBuilder &adjoints,
                                          ArrayRef<Value> resultGrads) {
  ImplicitLocOpBuilder &b = adjoints.builder();
  adjoints.accumulate(getInput(), ActivationGradOp::create(
                                      b, getInput().getType(), getInput(),
                                      resultGrads[0], getActivationAttr()));
  return success();
}

LogicalResult CrossEntropyOp::buildGradient(AdjointBuilder &adjoints,
                                            ArrayRef<Value> resultGrads) {
  ImplicitLocOpBuilder &b = adjoints.builder();
  adjoints.accumulate(getLogits(), CrossEntropyGradOp::create(
                                       b, getLogits().getType(), getLogits(),
                                       getTargets(), resultGrads[0]));
  return success();
}
