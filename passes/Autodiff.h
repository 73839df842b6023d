//===- Autodiff.h - reverse-mode differentiation of uoe functions -*- C++ -*-===//
//
// The building blocks of `--uoe-autodiff`, shared with the passes that
// assemble training steps: putting a function into the form the
// differentiator knows (every layer op expanded into routing and expert
// ops, dense layers into single-expert ops, activations split out of the
// expert GEMMs so that their input is kept), and the reverse sweep itself.
//
//===----------------------------------------------------------------------===//

#ifndef UOE_PASSES_AUTODIFF_H
#define UOE_PASSES_AUTODIFF_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

#include <utility>

namespace mlir::uoe {

/// Rewrites `func` into the differentiable form: `uoe.uome`, `uoe.smha`,
/// `uoe.moe` expanded (`--uoe-expand-layers`), `uoe.dense_mlp` and
/// `uoe.attention` as single-expert `uoe.expert_matmul` and
/// `uoe.selective_attention`, and every `uoe.expert_matmul` with an
/// activation split into the GEMM and a `uoe.activation`. The function
/// computes the same values afterwards.
LogicalResult prepareForAutodiff(func::FuncOp func);

/// The reverse sweep. `block` holds the forward computation (ops in
/// dominance order, straight-line); `seeds` pairs forward values with their
/// adjoints (the gradient of the scalar objective with respect to them, of
/// their type). Emits the backward at `b`'s insertion point (after the
/// forward ops) and returns, for each value of `wrt`, its adjoint: zeros
/// where the objective does not depend on it (e.g. a router's weights in
/// union mode, spec §5). Fails, with an error on the op, at the first op
/// that has no differentiation rule.
FailureOr<SmallVector<Value>>
buildAdjoints(ImplicitLocOpBuilder &b, Block &block,
              ArrayRef<std::pair<Value, Value>> seeds, ArrayRef<Value> wrt);

} // namespace mlir::uoe

#endif // UOE_PASSES_AUTODIFF_H
