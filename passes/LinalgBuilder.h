//===- LinalgBuilder.h - small helpers to build linalg on tensors -*- C++ -*-===//
//
// The one builder of `linalg` on tensors that the lowerings of
// passes/*ToLinalg.cpp, the reverse sweep (Autodiff.cpp) and the other
// passes share. The lowerings build many `linalg.generic` ops over tensors
// with a few dynamic sizes; these helpers keep that code about the
// algorithm: empty tensors from mixed static/dynamic sizes, affine maps
// from dimension lists, generics from a body lambda, scalar constants, and
// for the common shapes of a row-wise computation over `[..., d]` (norms,
// losses, gradients) elementwise and reduction generics whose operands are
// named by how the loops index them (`Role`).
// All helpers create ops through the given builder (and so notify a
// rewriter that owns it); none of them keeps state.
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

/// The loop list `start, ..., start + n - 1` (an identity map for `start` 0).
SmallVector<int64_t> iota(int64_t n, int64_t start = 0);

/// Iterators: `parallel` for `numPar` loops followed by `numRed` reductions.
SmallVector<IteratorType> iteratorTypes(int64_t numPar, int64_t numRed);

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

//===----------------------------------------------------------------------===//
// Generics over the loops of a tensor `[..., d]`
//===----------------------------------------------------------------------===//

/// How an operand of `elementwise` or `reduce` is indexed by the loops of a
/// tensor `[..., d]`: all of them, the leading ones (a per-row value), the
/// last one (a per-column parameter) or none (a scalar).
enum class Role { Full, Row, Col, Scalar };

/// An input of `elementwise` or `reduce` and how the loops index it.
struct Operand {
  Value value;
  Role role;
};

/// One parallel generic over the shape of `like` with `numResults` results
/// of `like`'s shape and element type `elt`; `body` gets the inputs'
/// elements (and the unused outputs' after them).
SmallVector<Value> elementwise(ImplicitLocOpBuilder &b,
                               ArrayRef<Operand> inputs, Value like, Type elt,
                               GenericBody body, int64_t numResults = 1);

/// Reduces over the loops of `like` that `out` does not index (the last
/// one for `Row`, the leading ones for `Col`, all for `Scalar`), in loop
/// order, into accumulators of element type `elt` starting at `inits` (one
/// per result); `body` gets the operands' elements then the accumulators and
/// returns the new accumulators.
SmallVector<Value> reduce(ImplicitLocOpBuilder &b, ArrayRef<Operand> inputs,
                          Value like, Role out, ArrayRef<double> inits,
                          Type elt, GenericBody body);

} // namespace mlir::uoe

#endif // UOE_PASSES_LINALGBUILDER_H
