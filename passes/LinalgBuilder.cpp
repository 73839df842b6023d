//===- LinalgBuilder.cpp - small helpers to build linalg on tensors ------===//
//
// See LinalgBuilder.h.
//
//===----------------------------------------------------------------------===//

#include "passes/LinalgBuilder.h"

#include "mlir/Dialect/Utils/StaticValueUtils.h"

using namespace mlir;
using namespace mlir::uoe;

SmallVector<int64_t> uoe::iota(int64_t n, int64_t start) {
  SmallVector<int64_t> dims;
  for (int64_t i = 0; i < n; ++i)
    dims.push_back(start + i);
  return dims;
}

SmallVector<IteratorType> uoe::iteratorTypes(int64_t numPar, int64_t numRed) {
  SmallVector<IteratorType> its(numPar, kPar);
  its.append(numRed, kRed);
  return its;
}

SmallVector<Value> uoe::buildGenericMaps(ImplicitLocOpBuilder &b,
                                         ValueRange inputs, ValueRange inits,
                                         ArrayRef<AffineMap> maps,
                                         ArrayRef<IteratorType> iterators,
                                         GenericBody body) {
  SmallVector<Type> resultTypes;
  for (Value init : inits)
    resultTypes.push_back(init.getType());
  auto op = linalg::GenericOp::create(
      b, b.getLoc(), resultTypes, inputs, inits, maps, iterators,
      [&](OpBuilder &nested, Location loc, ValueRange args) {
        ImplicitLocOpBuilder inner(loc, nested);
        SmallVector<Value> yielded = body(inner, args);
        linalg::YieldOp::create(inner, yielded);
      });
  return SmallVector<Value>(op.getResults().begin(), op.getResults().end());
}

SmallVector<Value> uoe::buildGeneric(ImplicitLocOpBuilder &b, ValueRange inputs,
                                     ValueRange inits,
                                     ArrayRef<SmallVector<int64_t>> maps,
                                     ArrayRef<IteratorType> iterators,
                                     GenericBody body) {
  SmallVector<AffineMap> affineMaps;
  for (ArrayRef<int64_t> dims : maps) {
    SmallVector<AffineExpr> exprs;
    for (int64_t dim : dims)
      exprs.push_back(b.getAffineDimExpr(dim));
    affineMaps.push_back(
        AffineMap::get(iterators.size(), 0, exprs, b.getContext()));
  }
  return buildGenericMaps(b, inputs, inits, affineMaps, iterators, body);
}

Value uoe::emptyTensor(ImplicitLocOpBuilder &b, ArrayRef<OpFoldResult> sizes,
                       Type elementType) {
  return tensor::EmptyOp::create(b, sizes, elementType);
}

Value uoe::filledTensor(ImplicitLocOpBuilder &b, ArrayRef<OpFoldResult> sizes,
                        Type elementType, Attribute value) {
  Value empty = emptyTensor(b, sizes, elementType);
  Value scalar = arith::ConstantOp::create(b, cast<TypedAttr>(value));
  return linalg::FillOp::create(b, ValueRange{scalar}, ValueRange{empty})
      .getResult(0);
}

SmallVector<OpFoldResult> uoe::tensorSizes(ImplicitLocOpBuilder &b,
                                           Value tensor) {
  auto type = cast<RankedTensorType>(tensor.getType());
  SmallVector<OpFoldResult> sizes;
  for (auto [i, dim] : llvm::enumerate(type.getShape())) {
    if (ShapedType::isDynamic(dim))
      sizes.push_back(tensor::DimOp::create(b, tensor, i).getResult());
    else
      sizes.push_back(b.getIndexAttr(dim));
  }
  return sizes;
}

Value uoe::constFloat(ImplicitLocOpBuilder &b, Type type, double value) {
  return arith::ConstantOp::create(b, b.getFloatAttr(type, value));
}

Value uoe::constIndex(ImplicitLocOpBuilder &b, int64_t value) {
  return arith::ConstantIndexOp::create(b, value);
}

Value uoe::constInt(ImplicitLocOpBuilder &b, Type type, int64_t value) {
  return arith::ConstantOp::create(b, b.getIntegerAttr(type, value));
}

Value uoe::loopIndex(ImplicitLocOpBuilder &b, int64_t dim) {
  return linalg::IndexOp::create(b, dim);
}

Value uoe::collapse(ImplicitLocOpBuilder &b, Value tensor,
                    ArrayRef<ReassociationIndices> groups) {
  return tensor::CollapseShapeOp::create(b, tensor, groups);
}

Value uoe::expand(ImplicitLocOpBuilder &b, Value tensor, RankedTensorType type,
                  ArrayRef<ReassociationIndices> groups,
                  ArrayRef<OpFoldResult> outputShape) {
  return tensor::ExpandShapeOp::create(b, type, tensor, groups, outputShape);
}

Value uoe::transpose(ImplicitLocOpBuilder &b, Value tensor,
                     ArrayRef<int64_t> permutation) {
  SmallVector<OpFoldResult> sizes = tensorSizes(b, tensor);
  SmallVector<OpFoldResult> permuted;
  for (int64_t p : permutation)
    permuted.push_back(sizes[p]);
  auto elt = cast<RankedTensorType>(tensor.getType()).getElementType();
  Value init = emptyTensor(b, permuted, elt);
  return linalg::TransposeOp::create(b, tensor, init, permutation)
      .getResult()[0];
}

Value uoe::batchMatmul(ImplicitLocOpBuilder &b, Value lhs, Value rhs) {
  SmallVector<OpFoldResult> l = tensorSizes(b, lhs), r = tensorSizes(b, rhs);
  auto elt = cast<RankedTensorType>(lhs.getType()).getElementType();
  Value init =
      filledTensor(b, {l[0], l[1], r[2]}, elt, b.getFloatAttr(elt, 0.0));
  return linalg::BatchMatmulOp::create(b, TypeRange{init.getType()},
                                       ValueRange{lhs, rhs}, ValueRange{init})
      .getResult(0);
}

//===----------------------------------------------------------------------===//
// Generics over the loops of a tensor `[..., d]`
//===----------------------------------------------------------------------===//

/// The loops of `role` in a nest over a rank-`rank` tensor.
static SmallVector<int64_t> loopsOf(Role role, int64_t rank) {
  SmallVector<int64_t> dims;
  switch (role) {
  case Role::Full:
    for (int64_t i = 0; i < rank; ++i)
      dims.push_back(i);
    break;
  case Role::Row:
    for (int64_t i = 0; i + 1 < rank; ++i)
      dims.push_back(i);
    break;
  case Role::Col:
    dims.push_back(rank - 1);
    break;
  case Role::Scalar:
    break;
  }
  return dims;
}

/// The sizes of a `role` tensor in a nest over `like`.
static SmallVector<OpFoldResult> sizesOf(ImplicitLocOpBuilder &b, Value like,
                                         Role role) {
  SmallVector<OpFoldResult> all = tensorSizes(b, like), sizes;
  for (int64_t d : loopsOf(role, all.size()))
    sizes.push_back(all[d]);
  return sizes;
}

SmallVector<Value> uoe::elementwise(ImplicitLocOpBuilder &b,
                                    ArrayRef<Operand> inputs, Value like,
                                    Type elt, GenericBody body,
                                    int64_t numResults) {
  int64_t rank = cast<RankedTensorType>(like.getType()).getRank();
  SmallVector<Value> ins, inits;
  SmallVector<SmallVector<int64_t>> maps;
  for (const Operand &in : inputs) {
    ins.push_back(in.value);
    maps.push_back(loopsOf(in.role, rank));
  }
  for (int64_t i = 0; i < numResults; ++i) {
    inits.push_back(emptyTensor(b, tensorSizes(b, like), elt));
    maps.push_back(loopsOf(Role::Full, rank));
  }
  return buildGeneric(b, ins, inits, maps,
                      SmallVector<IteratorType>(rank, kPar), body);
}

SmallVector<Value> uoe::reduce(ImplicitLocOpBuilder &b,
                               ArrayRef<Operand> inputs, Value like, Role out,
                               ArrayRef<double> inits, Type elt,
                               GenericBody body) {
  int64_t rank = cast<RankedTensorType>(like.getType()).getRank();
  SmallVector<Value> ins, outs;
  SmallVector<SmallVector<int64_t>> maps;
  for (const Operand &in : inputs) {
    ins.push_back(in.value);
    maps.push_back(loopsOf(in.role, rank));
  }
  SmallVector<OpFoldResult> sizes = sizesOf(b, like, out);
  for (double init : inits) {
    outs.push_back(filledTensor(b, sizes, elt, b.getFloatAttr(elt, init)));
    maps.push_back(loopsOf(out, rank));
  }
  SmallVector<IteratorType> its(rank, kRed);
  for (int64_t d : loopsOf(out, rank))
    its[d] = kPar;
  return buildGeneric(b, ins, outs, maps, its, body);
}
