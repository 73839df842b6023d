//===- UoEGradOps.td - loss and gradient ops ----------------*- tablegen -*-===//
//
// What training adds to the IR: the token cross-entropy loss, a standalone
// activation (the autodiff pass splits it out of `uoe.expert_matmul` to keep
// the pre-activation for the backward), and the vector-Jacobian products
// (`*_grad`) of the ops whose backward is not a short chain of other ops.
// The forward ops' gradient rules (`UoE_DifferentiableOpInterface`,
// dialect/UoEGradients.cpp) emit them in `--uoe-autodiff`;
// `--convert-uoe-to-linalg` lowers each one in the file of its forward op's
// family, beside the forward (passes/<Family>ToLinalg.cpp; the loss in
// LossToLinalg.cpp). Every `*_grad` op recomputes what it needs from the
// forward operands (softmax probabilities, norm statistics, top-k masks)
// instead of taking saved intermediates, so that it stands alone and its
// lowering can fuse the recomputation.
//
// Notation: `dX` is the gradient (adjoint) of a scalar loss with respect to
// `X`, of `X`'s type.
//
//===----------------------------------------------------------------------===//

#ifndef UOE_DIALECT_UOEGRADOPS_TD
#define UOE_DIALECT_UOEGRADOPS_TD

include "dialect/UoEBase.td"
include "dialect/UoEInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

//===----------------------------------------------------------------------===//
// uoe.activation, uoe.activation_grad
//===----------------------------------------------------------------------===//

def UoE_ActivationOp : UoE_Op<"activation",
    [Pure, DeclareOpInterfaceMethods<UoE_DifferentiableOpInterface>]> {
  let summary = "an expert activation on its own (spec §5)";
  let description = [{
    Applies `activation` elementwise to `input: [..., N]`, as the epilogue of
    `uoe.expert_matmul` does: exact-erf `gelu`, `gelu_tanh`, `relu`, `silu`,
    or `swiglu`, which splits the last dimension into `[gate | up]` halves and
    yields `silu(gate) * up` (`[..., N / 2]`); `none` is the identity.

    Constraints:
    - (C1) `input` has rank at least 1.
    - (C2) `result` has the shape of `input`, with the last dimension halved
      for `swiglu` (which needs it even), and its element type.

    Example:
    ```mlir
    %h = uoe.activation %z gelu : tensor<4x8x16xf32> -> tensor<4x8x16xf32>
    ```
  }];
  let arguments = (ins UoE_FloatTensor:$input, UoE_ActivationAttr:$activation);
  let results = (outs UoE_FloatTensor:$result);
  let assemblyFormat = [{
    $input custom<EnumKeyword>($activation) attr-dict `:` type($input) `->` type($result)
  }];
  let hasVerifier = 1;
}

def UoE_ActivationGradOp : UoE_Op<"activation_grad",
    [Pure, AllTypesMatch<["input", "input_grad"]>]> {
  let summary = "the gradient of `uoe.activation` with respect to its input";
  let description = [{
    `input_grad = result_grad * act'(input)` elementwise, where `act` is the
    `activation` of a `uoe.activation` whose input was `input`; for `swiglu`
    both halves of `input` receive their part (`[d gate | d up]`).

    Constraints:
    - (C1) `result_grad` has the shape `uoe.activation` gives `input`'s (the
      last dimension halved for `swiglu`) and `input`'s element type.

    Example:
    ```mlir
    %dz = uoe.activation_grad %z, %dh gelu
        : tensor<4x8x16xf32>, tensor<4x8x16xf32> -> tensor<4x8x16xf32>
    ```
  }];
  let arguments = (ins UoE_FloatTensor:$input, UoE_FloatTensor:$result_grad,
                       UoE_ActivationAttr:$activation);
  let results = (outs UoE_FloatTensor:$input_grad);
  let assemblyFormat = [{
    $input `,` $result_grad custom<EnumKeyword>($activation) attr-dict `:`
    type($input) `,` type($result_grad) `->` type($input_grad)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Norms
//===----------------------------------------------------------------------===//

def UoE_LayerNormGradOp : UoE_Op<"layer_norm_grad",
    [Pure, AllTypesMatch<["input", "result_grad", "input_grad"]>,
     AllTypesMatch<["gamma", "gamma_grad", "beta_grad"]>]> {
  let summary = "the gradients of `uoe.layer_norm`";
  let description = [{
    For `y = (x - mean) * rstd * gamma + beta` over the last dimension
    (`rstd = 1 / sqrt(var + eps)`, biased variance), with `g = dy * gamma`
    and `xhat = (x - mean) * rstd`:
    `dx = rstd * (g - mean(g) - xhat * mean(g * xhat))` per row,
    `dgamma = sum_rows(dy * xhat)`, `dbeta = sum_rows(dy)`.

    Constraints:
    - (C1) `gamma` is `[d]` with `d` the last dimension of `input`.
    - (C2) `eps > 0`.

    Example:
    ```mlir
    %dx, %dg, %db = uoe.layer_norm_grad %x, %gamma, %dy eps 1.000000e-05
        : tensor<2x16x32xf32>, tensor<32xf32>
    ```
  }];
  let arguments = (ins UoE_FloatTensor:$input, UoE_FloatTensor:$gamma,
                       UoE_FloatTensor:$result_grad,
                       DefaultValuedAttr<F64Attr, "1.0e-5">:$eps);
  let results = (outs UoE_FloatTensor:$input_grad, UoE_FloatTensor:$gamma_grad,
                      UoE_FloatTensor:$beta_grad);
  let assemblyFormat = [{
    $input `,` $gamma `,` $result_grad `eps` $eps attr-dict `:` type($input) `,`
    type($gamma)
  }];
  let hasVerifier = 1;
}

def UoE_RmsNormGradOp : UoE_Op<"rms_norm_grad",
    [Pure, AllTypesMatch<["input", "result_grad", "input_grad"]>,
     AllTypesMatch<["gamma", "gamma_grad"]>]> {
  let summary = "the gradients of `uoe.rms_norm`";
  let description = [{
    For `y = x * r * gamma` over the last dimension (`r = 1 / sqrt(mean(x^2) +
    eps)`), with `g = dy * gamma`:
    `dx = r * (g - x * r^2 * mean(g * x))` per row,
    `dgamma = sum_rows(dy * x * r)`.

    Constraints:
    - (C1) `gamma` is `[d]` with `d` the last dimension of `input`.
    - (C2) `eps > 0`.

    Example:
    ```mlir
    %dx, %dg = uoe.rms_norm_grad %x, %gamma, %dy eps 9.9999999999999995E-7
        : tensor<2x16x32xf32>, tensor<32xf32>
    ```
  }];
  let arguments = (ins UoE_FloatTensor:$input, UoE_FloatTensor:$gamma,
                       UoE_FloatTensor:$result_grad,
                       DefaultValuedAttr<F64Attr, "1.0e-6">:$eps);
  let results = (outs UoE_FloatTensor:$input_grad, UoE_FloatTensor:$gamma_grad);
  let assemblyFormat = [{
    $input `,` $gamma `,` $result_grad `eps` $eps attr-dict `:` type($input) `,`
    type($gamma)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// uoe.embedding_grad
//===----------------------------------------------------------------------===//

def UoE_EmbeddingGradOp : UoE_Op<"embedding_grad", [Pure]> {
  let summary = "the gradient of `uoe.embedding` with respect to its table";
  let description = [{
    Scatter-adds the rows of `result_grad: [..., T, d]` into zeros of
    `[V, d]`: `table_grad[clamp(ids[i], 0, V - 1)] += result_grad[i]`, in
    the order of `i` (deterministic). The clamp is the forward's, so every
    row the forward read receives its gradient. (The position table's
    gradient is a plain sum over the leading axes; `--uoe-autodiff` emits it
    with upstream ops.)

    Constraints:
    - (C1) `result_grad` is `[..., T, d]`: the shape of `ids` followed by `d`.
    - (C2) `table_grad` is `[V, d]` with `V >= 1` and the element type of
      `result_grad`.

    Example:
    ```mlir
    %dt = uoe.embedding_grad %ids, %dh
        : tensor<2x16xi64>, tensor<2x16x64xf32> -> tensor<256x64xf32>
    ```
  }];
  let arguments = (ins RankedTensorOf<[I32, I64]>:$ids,
                       UoE_FloatTensor:$result_grad);
  let results = (outs UoE_FloatTensor:$table_grad);
  let assemblyFormat = [{
    $ids `,` $result_grad attr-dict `:` type($ids) `,` type($result_grad) `->`
    type($table_grad)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// uoe.selective_attention_grad
//===----------------------------------------------------------------------===//

def UoE_SelectiveAttentionGradOp : UoE_Op<"selective_attention_grad",
    [Pure, AllTypesMatch<["query", "key", "value", "query_grad", "key_grad",
                          "value_grad"]>,
     // Not in the list above: ODS would infer the results from this operand
     // by a fixed index, wrong when the optional key_padding is absent.
     TypesMatchWith<"result_grad has the type of query", "query",
                    "result_grad", "$_self">]> {
  let summary = "the gradients of `uoe.selective_attention`";
  let description = [{
    The vector-Jacobian product of `uoe.selective_attention` with the same
    operands and attributes, for `result_grad: [E, B, L, D]`. Per expert,
    row and head it recomputes the (rotated) `q`, `k` and the probabilities
    `P` and returns
    `dv = P^T do`, `dS = P * (do v^T - rowsum(do * o))`,
    `dq = R^T (dS k) * scale`, `dk = R^T (dS^T q) * scale`, where `R` is the
    rotary embedding (an orthogonal rotation per position, so `R^T` rotates
    back) and masked entries of `P` are zero.

    Constraints: those of `uoe.selective_attention` (same labels), plus
    - (C6) `result_grad`, `query_grad`, `key_grad` and `value_grad` have the
      type of `query`.

    Example:
    ```mlir
    %dq, %dk, %dv = uoe.selective_attention_grad %q, %k, %v, %pos, %do heads 2 causal rope compacted
        : tensor<2x4x?x16xf32>, tensor<2x4x?xi64>
    ```
  }];
  let arguments = (ins UoE_FloatTensor:$query, UoE_FloatTensor:$key,
                       UoE_FloatTensor:$value, UoE_IndexTensor:$positions,
                       Optional<UoE_MaskTensor>:$key_padding,
                       UoE_FloatTensor:$result_grad,
                       I64Attr:$heads, UnitAttr:$causal,
                       DefaultValuedAttr<UoE_RopeModeAttr, "RopeMode::None">:$rope,
                       DefaultValuedAttr<F64Attr, "10000.0">:$rope_base,
                       OptionalAttr<F64Attr>:$scale);
  let results = (outs UoE_FloatTensor:$query_grad, UoE_FloatTensor:$key_grad,
                      UoE_FloatTensor:$value_grad);
  let assemblyFormat = [{
    $query `,` $key `,` $value `,` $positions (`key_padding` $key_padding^)? `,`
    $result_grad `heads` $heads (`causal` $causal^)?
    (`rope` custom<EnumKeyword>($rope)^)? attr-dict `:` type($query) `,`
    type($positions) (`,` type($key_padding)^)?
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Routing gradients (gated combine, load-balancing loss)
//===----------------------------------------------------------------------===//

def UoE_RouterGradOp : UoE_Op<"router_grad",
    [Pure, AllTypesMatch<["input", "input_grad"]>,
     AllTypesMatch<["weight", "weight_grad"]>,
     AllTypesMatch<["probs", "probs_grad"]>]> {
  let summary = "the gradients of `uoe.router`";
  let description = [{
    For `probs = score(input weight^T + bias)` (the forward's `probs`, passed
    in): `dlogits = probs * (dprobs - sum_e(probs * dprobs))` for `softmax`,
    `dprobs * probs * (1 - probs)` for `sigmoid`; then
    `input_grad = dlogits weight`, `weight_grad = dlogits^T input` (summed
    over every leading index) and `bias_grad = sum(dlogits)`.

    Constraints:
    - (C1) `weight` is `[E, d]` with `d` the last dimension of `input`.
    - (C2) `probs` has the shape of `input` with its last dimension replaced
      by `E`.
    - (C3) `bias_grad` is `[E]` with the element type of `input`.

    Example:
    ```mlir
    %dx, %dw, %db = uoe.router_grad %x, %wg, %p, %dp score softmax
        : tensor<4x16x32xf32>, tensor<3x32xf32>, tensor<4x16x3xf32> -> tensor<3xf32>
    ```
  }];
  let arguments = (ins UoE_FloatTensor:$input, UoE_FloatTensor:$weight,
                       UoE_FloatTensor:$probs, UoE_FloatTensor:$probs_grad,
                       DefaultValuedAttr<UoE_RouterScoreAttr,
                                         "RouterScore::Softmax">:$score);
  let results = (outs UoE_FloatTensor:$input_grad, UoE_FloatTensor:$weight_grad,
                      UoE_FloatTensor:$bias_grad);
  let assemblyFormat = [{
    $input `,` $weight `,` $probs `,` $probs_grad `score` custom<EnumKeyword>($score)
    attr-dict `:` type($input) `,` type($weight) `,` type($probs) `->` type($bias_grad)
  }];
  let hasVerifier = 1;
}

def UoE_TokenChoiceGradOp : UoE_Op<"token_choice_grad",
    [Pure, AllTypesMatch<["probs", "result_grad", "probs_grad"]>]> {
  let summary = "the gradient of `uoe.token_choice` with respect to `probs`";
  let description = [{
    The vector-Jacobian product of a `uoe.token_choice` with the same
    attributes applied to `probs`. The top-k mask is recomputed from `probs`
    (stable, as the forward) and is piecewise constant, so it has no
    gradient: kept entries receive the gradient of `s = probs * mask` through
    the renormalisation `s / sum_e(s)` and the reference normalisation
    `s / (sum_axis(s) + eps) * floor(capacity * n_axis)`; dropped entries
    receive zero.

    Constraints: those of `uoe.token_choice` (same labels).

    Example:
    ```mlir
    %dp = uoe.token_choice_grad %p, %dg top 2 normalize axis 0 eps 1.0e-06 capacity 1.0
        : tensor<4x16x3xf32>
    ```
  }];
  let arguments = (ins UoE_FloatTensor:$probs, UoE_FloatTensor:$result_grad,
                       I64Attr:$top, UnitAttr:$renormalize,
                       OptionalAttr<I64Attr>:$axis,
                       DefaultValuedAttr<F64Attr, "1.0e-6">:$eps,
                       DefaultValuedAttr<F64Attr, "1.0">:$capacity);
  let results = (outs UoE_FloatTensor:$probs_grad);
  let assemblyFormat = [{
    $probs `,` $result_grad `top` $top (`renormalize` $renormalize^)?
    (`normalize` `axis` $axis^ `eps` $eps `capacity` $capacity)?
    attr-dict `:` type($probs)
  }];
  let hasVerifier = 1;
}

def UoE_DataSelectGradOp : UoE_Op<"data_select_grad", [Pure]> {
  let summary = "the gradient of `uoe.data_select`'s weights with respect to its scores";
  let description = [{
    `weights[e, r, j]` is the mean score of patch `positions[e, r, j]`, so
    `scores_grad[r, positions[e, r, j] * P + t, e] += weights_grad[e, r, j] / P`
    for `t < P`, into zeros of `[R, N, E]` (the positions are piecewise
    constant and have no gradient). The positions of one expert and row are
    distinct, as `uoe.data_select` makes them.

    Constraints:
    - (C1) `positions` and `weights_grad` are `[E, R, L]` (`L` may be `?`),
      with `E` and `R` of `scores_grad`.
    - (C2) `scores_grad` is `[R, N, E]` with `patch >= 1` dividing `N`, and the
      element type of `weights_grad`.

    Example:
    ```mlir
    %dg = uoe.data_select_grad %pos, %dw patch 1
        : tensor<3x4x8xi64>, tensor<3x4x8xf32> -> tensor<4x16x3xf32>
    ```
  }];
  let arguments = (ins UoE_IndexTensor:$positions, UoE_FloatTensor:$weights_grad,
                       DefaultValuedAttr<I64Attr, "1">:$patch);
  let results = (outs UoE_FloatTensor:$scores_grad);
  let assemblyFormat = [{
    $positions `,` $weights_grad `patch` $patch attr-dict `:` type($positions) `,`
    type($weights_grad) `->` type($scores_grad)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Loss
//===----------------------------------------------------------------------===//

def UoE_CrossEntropyOp : UoE_Op<"cross_entropy",
    [Pure, DeclareOpInterfaceMethods<UoE_DifferentiableOpInterface>]> {
  let summary = "mean token (or class) cross-entropy of logits against targets";
  let description = [{
    `logits: [..., V]`, `targets: [...]` (class indices). The loss is the
    mean over the items whose target is in `[0, V)` of
    `logsumexp(logits[i]) - logits[i, targets[i]]`, computed with the
    row maximum subtracted; items with a target outside `[0, V)` (e.g. `-1`
    for padding) are ignored, and with none left the loss is 0.

    Constraints:
    - (C1) `logits` has rank at least 2 and `targets` its shape without the
      last dimension.
    - (C2) `loss` is a rank-0 tensor of the element type of `logits`.

    Example:
    ```mlir
    %l = uoe.cross_entropy %logits, %targets
        : tensor<2x16x256xf32>, tensor<2x16xi64> -> tensor<f32>
    ```
  }];
  let arguments = (ins UoE_FloatTensor:$logits, UoE_IndexTensor:$targets);
  let results = (outs UoE_FloatTensor:$loss);
  let assemblyFormat = [{
    $logits `,` $targets attr-dict `:` type($logits) `,` type($targets) `->` type($loss)
  }];
  let hasVerifier = 1;
}

def UoE_CrossEntropyGradOp : UoE_Op<"cross_entropy_grad",
    [Pure, AllTypesMatch<["logits", "logits_grad"]>]> {
  let summary = "the gradient of `uoe.cross_entropy` with respect to the logits";
  let description = [{
    `logits_grad[i] = loss_grad * (softmax(logits[i]) - onehot(targets[i])) / n`
    for the `n` items whose target is in `[0, V)`, and zero for the ignored
    items (all zero when `n = 0`).

    Constraints: those of `uoe.cross_entropy` (same labels), with
    `loss_grad` in the place of `loss`.

    Example:
    ```mlir
    %dl = uoe.cross_entropy_grad %logits, %targets, %dloss
        : tensor<2x16x256xf32>, tensor<2x16xi64>, tensor<f32>
    ```
  }];
  let arguments = (ins UoE_FloatTensor:$logits, UoE_IndexTensor:$targets,
                       UoE_FloatTensor:$loss_grad);
  let results = (outs UoE_FloatTensor:$logits_grad);
  let assemblyFormat = [{
    $logits `,` $targets `,` $loss_grad attr-dict `:` type($logits) `,`
    type($targets) `,` type($loss_grad)
  }];
  let hasVerifier = 1;
}

#endif // UOE_DIALECT_UOEGRADOPS_TD
