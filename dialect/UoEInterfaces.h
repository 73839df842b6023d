//===- UoEInterfaces.h - interfaces of the uoe ops -------------*- C++ -*-===//
//
// The generated op interfaces of UoEInterfaces.td and what their methods
// take: `AdjointBuilder`, the reverse sweep as a gradient rule sees it.
//
//===----------------------------------------------------------------------===//

#ifndef UOE_DIALECT_UOEINTERFACES_H
#define UOE_DIALECT_UOEINTERFACES_H

#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/OpDefinition.h"

namespace mlir::uoe {

/// What a gradient rule (`DifferentiableOpInterface::buildGradient`) builds
/// with: the reverse sweep's builder and its sum of adjoints, and the few
/// tensor computations that the rules share. The reverse sweep of
/// `--uoe-autodiff` (passes/Autodiff.cpp) implements it, building those
/// computations with the passes' linalg builder (passes/LinalgBuilder.h);
/// the dialect only declares it, so that it depends on no pass and no
/// further dialect. A rule builds uoe, `tensor` and `arith` ops itself.
///
/// One instance serves one sweep over one block, single-threaded; the
/// values it returns are new ops at `builder()`'s insertion point, owned by
/// the block like any other.
class AdjointBuilder {
public:
  virtual ~AdjointBuilder();

  /// The builder at the sweep's insertion point, with the sweep's location.
  virtual ImplicitLocOpBuilder &builder() = 0;

  /// Adds `adjoint` to the adjoint of the forward value `value`: the first
  /// contribution is taken as it is, later ones are summed with
  /// `arith.addf` in the order they arrive. Ignored when either is null or
  /// `value` is not a float (an index, id or mask), so a rule may pass any
  /// operand.
  virtual void accumulate(Value value, Value adjoint) = 0;

  /// Zeros of `like`'s type: a fresh tensor (`linalg.fill` of
  /// `tensor.empty`), never a constant, since adjoints may be returned and
  /// returned buffers must be owned.
  virtual Value zerosLike(Value like) = 0;

  /// The sizes of the ranked tensor `tensor`: static sizes as attributes,
  /// `tensor.dim` for the dynamic ones.
  virtual SmallVector<OpFoldResult> sizes(Value tensor) = 0;

  /// The sum of the float tensor `v` over the dimensions `reducedDims`
  /// (the kept ones in order), in loop order.
  virtual Value sumOver(Value v, ArrayRef<int64_t> reducedDims) = 0;

  /// `x * w` elementwise, with `w` indexed by the dimensions `wDims` of `x`
  /// and broadcast along the others.
  virtual Value broadcastMul(Value x, Value w, ArrayRef<int64_t> wDims) = 0;

  /// `[B, M, K] x [B, K, N] -> [B, M, N]` (`linalg.batch_matmul` into
  /// zeros).
  virtual Value batchMatmul(Value lhs, Value rhs) = 0;

  /// `tensor` with its dimensions permuted by `permutation`
  /// (`linalg.transpose`).
  virtual Value transpose(Value tensor, ArrayRef<int64_t> permutation) = 0;
};

} // namespace mlir::uoe

#include "dialect/UoEInterfaces.h.inc"

#endif // UOE_DIALECT_UOEINTERFACES_H
