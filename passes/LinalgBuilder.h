//===- LinalgBuilder.h - small helpers to build linalg on tensors -*- C++ -*-===//
//
// The lowerings of passes/*ToLinalg.cpp build many `linalg.generic` ops over
// tensors with a few dynamic sizes. These helpers keep that code about the
// algorithm: empty tensors from mixed static/dynamic sizes, affine maps
// from dimension lists, generics from a body lambda, scalar constants.
// All helpers create ops through the given builder (and so notify a
// rewriter that owns it).
//
//===----------------------------------------------------------------------===//

#ifndef UOE_PASSES_LINALGBUILDER_H
#define UOE_PASSES_LINALGBUILDER_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace mlir::uoe {

using utils::IteratorType;
inline constexpr IteratorType kPar = IteratorType::parallel;
inline constexpr IteratorType kRed = IteratorType::reduction;

/// Body of a generic: block arguments (inputs then outputs) to yielded values.
using GenericBody =
    llvm::function_ref<SmallVector<Value>(ImplicitLocOpBuilder &, ValueRange)>;

/// Builds `linalg.generic` over `numLoops` loops and returns its results.
/// `maps[i]` lists, for operand i (inputs then inits), the loop dimension of
/// each of its dimensions (a projection); use `affineMaps` variant for more.
SmallVector<Value> buildGeneric(ImplicitLocOpBuilder &b, ValueRange inputs,
                                ValueRange inits,
                                ArrayRef<SmallVector<int64_t>> maps,
                                ArrayRef<IteratorType> iterators,
                                GenericBody body);

/// As above with explicit affine maps.
SmallVector<Value> buildGenericMaps(ImplicitLocOpBuilder &b, ValueRange inputs,
                                    ValueRange inits, ArrayRef<AffineMap> maps,
                                    ArrayRef<IteratorType> iterators,
                                    GenericBody body);

/// `tensor.empty` of `sizes` (static or `Value`s of index type).
Value emptyTensor(ImplicitLocOpBuilder &b, ArrayRef<OpFoldResult> sizes,
                  Type elementType);

/// `tensor.empty` filled with `value`.
Value filledTensor(ImplicitLocOpBuilder &b, ArrayRef<OpFoldResult> sizes,
                   Type elementType, Attribute value);

/// The sizes of `tensor` as fold results (static ints, `tensor.dim` for `?`).
SmallVector<OpFoldResult> tensorSizes(ImplicitLocOpBuilder &b, Value tensor);

/// Scalar constants.
Value constFloat(ImplicitLocOpBuilder &b, Type type, double value);
Value constIndex(ImplicitLocOpBuilder &b, int64_t value);
Value constInt(ImplicitLocOpBuilder &b, Type type, int64_t value);

/// `linalg.index` of loop `dim`.
Value loopIndex(ImplicitLocOpBuilder &b, int64_t dim);

/// Collapses all dimensions of `tensor` into groups `groups`
/// (e.g. {{0}, {1, 2}, {3}}).
Value collapse(ImplicitLocOpBuilder &b, Value tensor,
               ArrayRef<ReassociationIndices> groups);

/// Expands `tensor` to `type` along `groups`; `dynamicSizes` gives the
/// sizes of the `?` dimensions of `type` in order.
Value expand(ImplicitLocOpBuilder &b, Value tensor, RankedTensorType type,
             ArrayRef<ReassociationIndices> groups,
             ArrayRef<OpFoldResult> outputShape);

/// `linalg.transpose` of `tensor` by `permutation`.
Value transpose(ImplicitLocOpBuilder &b, Value tensor,
                ArrayRef<int64_t> permutation);

/// `linalg.batch_matmul` `[B, M, K] x [B, K, N] -> [B, M, N]` into zeros.
Value batchMatmul(ImplicitLocOpBuilder &b, Value lhs, Value rhs);

} // namespace mlir::uoe

#endif // UOE_PASSES_LINALGBUILDER_H
