//===- Passes.td - passes of the uoe compiler ---------------*- tablegen -*-===//
//
// Every pass of the compiler, with the IR before and after. One pass per
// file (`<VerbNoun>.cpp`), one test per pass (`test/passes/<flag>.mlir`).
//
//===----------------------------------------------------------------------===//

#ifndef UOE_PASSES_PASSES_TD
#define UOE_PASSES_PASSES_TD

include "mlir/Pass/PassBase.td"

def UoEExpandLayersPass : Pass<"uoe-expand-layers"> {
  let summary = "Expand expert layer ops into routing and expert ops";
  let description = [{
    Rewrites the expert layers (`uoe.uome`, `uoe.smha`, `uoe.moe`) into the
    routing and expert ops of level 2, following spec §2-§6. Dense layers and
    norms are left alone.

    Before:
    ```mlir
    %y = uoe.uome %x, router(%wg, %bg), up(%w1, %b1), down(%w2, %b2)
        top 2 capacity 5.000000e-01 activation gelu union : ...
    ```
    After:
    ```mlir
    %p = uoe.router %x, %wg, %bg score softmax : ...
    %g = uoe.token_choice %p top 2 normalize axis 0 eps 1.0e-06 capacity 1.0 : ...
    %pos, %w = uoe.data_select %g patch 1 capacity 5.000000e-01 : ...
    %xs = uoe.dispatch %x, %pos patch 1 : ...
    %h = uoe.expert_matmul %xs, %w1 bias %b1 activation gelu : ...
    %ys = uoe.expert_matmul %h, %w2 bias %b2 : ...
    %y = uoe.combine %ys, %pos union patch 1 : ...
    ```
    `uoe.smha` selects with dynamic capacity and attends with
    `uoe.selective_attention`; `uoe.moe` (token choice) keeps each token's
    `top` experts, lets every expert select its tokens with dynamic capacity
    and combines with the gate weights, which are zero for the padding of
    the dynamic capacity.
  }];
  let dependentDialects = ["::mlir::uoe::UoEDialect",
                           "::mlir::tensor::TensorDialect"];
}

#endif // UOE_PASSES_PASSES_TD
