//===- Lowerings.cpp - pieces several lowering families share -----------===//
//
// The pieces of passes/Lowerings.h that more than one op family builds
// with, so that the forward and backward lowerings that recompute a value
// compute it bit for bit as the op that produced it did:
// - `softmaxLastDim`: the router's softmax, the attention probabilities
//   (forward and backward) and the cross-entropy gradient;
// - `inversePositions`: the combine's scatter (expert compute) and the
//   data selection's gradient (routing) read the positions through the
//   same inverse index.
// A piece that one family alone uses stays in that family's file.
//
//===----------------------------------------------------------------------===//

#include "passes/Lowerings.h"
#include "passes/LinalgBuilder.h"

#include "mlir/Dialect/Math/IR/Math.h"

#include <cmath>

using namespace mlir;
using namespace mlir::uoe;

Value uoe::softmaxLastDim(ImplicitLocOpBuilder &b, Value logits) {
  auto type = cast<RankedTensorType>(logits.getType());
  Type elt = type.getElementType();
  int64_t rank = type.getRank();
  SmallVector<OpFoldResult> sizes = tensorSizes(b, logits);
  SmallVector<OpFoldResult> rowSizes(sizes.begin(), sizes.end() - 1);
  SmallVector<int64_t> all = iota(rank), rows = iota(rank - 1);

  Value maxInit =
      filledTensor(b, rowSizes, elt, b.getFloatAttr(elt, -INFINITY));
  Value rowMax = buildGeneric(
      b, logits, maxInit, {all, rows}, iteratorTypes(rank - 1, 1),
      [](ImplicitLocOpBuilder &b, ValueRange a) {
        return SmallVector<Value>{arith::MaximumFOp::create(b, a[0], a[1])};
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
  Value rowSum = buildGeneric(
      b, exps, sumInit, {all, rows}, iteratorTypes(rank - 1, 1),
      [](ImplicitLocOpBuilder &b, ValueRange a) {
        return SmallVector<Value>{arith::AddFOp::create(b, a[0], a[1])};
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

Value uoe::inversePositions(ImplicitLocOpBuilder &b, Value positions,
                            int64_t numPatches) {
  auto type = cast<RankedTensorType>(positions.getType());
  int64_t e = type.getShape()[0], r = type.getShape()[1];
  Type i64 = b.getI64Type();
  return buildGeneric(
      b, positions,
      filledTensor(
          b, {b.getIndexAttr(e), b.getIndexAttr(r), b.getIndexAttr(numPatches)},
          i64, b.getI64IntegerAttr(-1)),
      {{0, 1, 3}, {0, 1, 2}}, {kPar, kPar, kPar, kRed},
      [&](ImplicitLocOpBuilder &b, ValueRange a) {
        Value p = arith::IndexCastOp::create(b, i64, loopIndex(b, 2));
        Value i = arith::IndexCastOp::create(b, i64, loopIndex(b, 3));
        Value hit = arith::CmpIOp::create(b, arith::CmpIPredicate::eq, a[0], p);
        return SmallVector<Value>{arith::SelectOp::create(b, hit, i, a[1])};
      })[0];
}

uoe::SlotLookup uoe::lookupSlot(ImplicitLocOpBuilder &b, Value slotOrMinusOne) {
  Value zero = constInt(b, b.getI64Type(), 0);
  Value valid =
      arith::CmpIOp::create(b, arith::CmpIPredicate::sge, slotOrMinusOne, zero);
  Value slot = arith::IndexCastOp::create(
      b, b.getIndexType(),
      arith::SelectOp::create(b, valid, slotOrMinusOne, zero));
  return {valid, slot};
}
