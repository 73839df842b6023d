//===- UoEInterfaces.td - interfaces of the uoe ops ----------*- tablegen -*-===//
//
// The op interfaces of the `uoe` dialect. `UoE_DifferentiableOpInterface`
// is how an op states its gradient where it is defined: an op with a
// gradient lists `DeclareOpInterfaceMethods<UoE_DifferentiableOpInterface>`
// among its traits, and its `buildGradient` lives in UoEGradients.cpp, in
// the order of the ODS files. `--uoe-autodiff` (passes/Autodiff.cpp) calls
// it in its reverse sweep.
//
//===----------------------------------------------------------------------===//

#ifndef UOE_DIALECT_UOEINTERFACES_TD
#define UOE_DIALECT_UOEINTERFACES_TD

include "mlir/IR/OpBase.td"

def UoE_DifferentiableOpInterface : OpInterface<"DifferentiableOpInterface"> {
  let cppNamespace = "::mlir::uoe";
  let description = [{
    An op whose vector-Jacobian product the reverse sweep of `--uoe-autodiff`
    can build: given the adjoints of its results (the gradient of a scalar
    objective with respect to them), its rule emits the adjoints of its
    float operands.

    The rule is either a `*_grad` op of UoEGradOps.td, which recomputes what
    it needs from the forward operands (norms, attention, routing, the
    embedding table, the loss, the activation), or a short chain of ops that
    exist already (the transpose of `uoe.dispatch` is a union `uoe.combine`,
    and the other way round; a GEMM's gradients are GEMMs). It reads the
    forward op's operands and results, which stay live in the same function.

    Integer and piecewise-constant values carry no gradient: positions, ids,
    targets and masks get no adjoint, and routing decisions (the top-k
    selection itself) pass the gradient through their mask only. Layer ops
    (`uoe.uome`, `uoe.smha`, `uoe.moe`, `uoe.dense_mlp`, `uoe.attention`)
    need no rule: the autodiff pass expands them into the ops of level 2
    first. Ops without the interface (`uoe.expert_select`, the `*_grad` ops)
    make the pass fail with "has no differentiation rule".
  }];
  let methods = [
    InterfaceMethod<[{
        Emits the adjoints of this op's operands at `adjoints.builder()`'s
        insertion point (after the forward computation) and adds each one to
        its operand's adjoint with `adjoints.accumulate`. `resultGrads` holds
        one adjoint per result, of the result's type, null for a result that
        the objective does not depend on; at least one is set, and at least
        one operand is a float tensor (the sweep skips the op otherwise).
        Fails, after emitting an error on the op, when the op cannot be
        differentiated in its current form.
      }],
      "::llvm::LogicalResult", "buildGradient",
      (ins "::mlir::uoe::AdjointBuilder &":$adjoints,
           "::llvm::ArrayRef<::mlir::Value>":$resultGrads)>
  ];
}

#endif // UOE_DIALECT_UOEINTERFACES_TD
