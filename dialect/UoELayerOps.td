//===- UoELayerOps.td - layer ops ---------------------------*- tablegen -*-===//
//
// Level 1 of the IR: what a model description says. UoE layers (`uome`,
// `smha`), the token-choice MoE baseline (`moe`), the dense layers they are
// decomposed from (`dense_mlp`, `attention`), the norms of the two block
// layouts and the token embedding in front of the blocks (`embedding`).
// `--uoe-expand-layers` rewrites the expert layers into routing and expert
// ops. The norms and the embedding declare `UoE_DifferentiableOpInterface`
// (rules in UoEGradients.cpp); the other layer ops are differentiated in
// their expanded form.
//
//===----------------------------------------------------------------------===//

#ifndef UOE_DIALECT_UOELAYEROPS_TD
#define UOE_DIALECT_UOELAYEROPS_TD

include "dialect/UoEBase.td"
include "dialect/UoEInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

//===----------------------------------------------------------------------===//
// uoe.dense_mlp
//===----------------------------------------------------------------------===//

def UoE_DenseMlpOp : UoE_Op<"dense_mlp",
    [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "dense MLP `act(x W1 + b1) W2 + b2` (spec §1)";
  let description = [{
    `input: [..., d]`, `w1: [d, F]` (`[d, 2F]` as `[gate | up]` with
    `swiglu`), `b1` of `w1`'s width, `w2: [F, d]`, `b2: [d]`.

    Constraints:
    - (C1) `w1` is `[d, F1]` with `d` the last dimension of `input`, and `b1` is `[F1]`.
    - (C2) `w2` is `[F, d]` with `F = F1` (`F1 / 2` with `swiglu`, `F1` even).
    - (C3) `b2` is `[d]`.
    - (C4) all element types agree (the result has the type of `input`).

    Example:
    ```mlir
    %y = uoe.dense_mlp %x, up(%w1, %b1), down(%w2, %b2) activation gelu
        : tensor<4x16x32xf32>, tensor<32x64xf32>, tensor<64xf32>, tensor<64x32xf32>, tensor<32xf32>
    ```
  }];
  let arguments = (ins UoE_FloatTensor:$input, UoE_FloatTensor:$w1,
                       UoE_FloatTensor:$b1, UoE_FloatTensor:$w2,
                       UoE_FloatTensor:$b2,
                       DefaultValuedAttr<UoE_ActivationAttr, "Activation::Gelu">:$activation);
  let results = (outs UoE_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` `up` `(` $w1 `,` $b1 `)` `,` `down` `(` $w2 `,` $b2 `)`
    `activation` custom<EnumKeyword>($activation) attr-dict `:` type($input) `,` type($w1) `,`
    type($b1) `,` type($w2) `,` type($b2)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// uoe.attention
//===----------------------------------------------------------------------===//

def UoE_AttentionOp : UoE_Op<"attention",
    [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "dense multi-head self-attention";
  let description = [{
    `input: [B, T, d]`; `wqkv: [3, d, d]` stacks the query, key and value
    projections and `bqkv: [3, d]` their biases; `wo: [d, d]`, `bo: [d]`.
    `heads` heads of width `d / heads`; optional causal mask, key padding
    mask `[B, T]` (true = padding) and rotary embedding at the original
    positions.

    Constraints:
    - (C1) `input` has rank 3.
    - (C2) `heads >= 1` divides `d`; with rotary embedding `d / heads` is even.
    - (C3) `wqkv` is `[3, d, d]`, `bqkv` `[3, d]`, `wo` `[d, d]` and `bo` `[d]`.
    - (C4) `key_padding`, when present, is `[B, T]`.
    - (C5) `rope` is `none` or `original`: dense attention has no compacted order.
    - (C6) all element types agree (the result has the type of `input`).

    Example:
    ```mlir
    %y = uoe.attention %x, qkv(%wqkv, %bqkv), out(%wo, %bo) heads 4 causal
        : tensor<2x16x32xf32>, tensor<3x32x32xf32>, tensor<3x32xf32>, tensor<32x32xf32>, tensor<32xf32>
    ```
  }];
  let arguments = (ins UoE_FloatTensor:$input, UoE_FloatTensor:$wqkv,
                       UoE_FloatTensor:$bqkv, UoE_FloatTensor:$wo,
                       UoE_FloatTensor:$bo, Optional<UoE_MaskTensor>:$key_padding,
                       I64Attr:$heads, UnitAttr:$causal,
                       DefaultValuedAttr<UoE_RopeModeAttr, "RopeMode::None">:$rope,
                       DefaultValuedAttr<F64Attr, "10000.0">:$rope_base);
  let results = (outs UoE_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` `qkv` `(` $wqkv `,` $bqkv `)` `,` `out` `(` $wo `,` $bo `)`
    (`key_padding` $key_padding^)? `heads` $heads (`causal` $causal^)?
    (`rope` custom<EnumKeyword>($rope)^)? attr-dict `:` type($input) `,` type($wqkv) `,`
    type($bqkv) `,` type($wo) `,` type($bo) (`,` type($key_padding)^)?
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// uoe.cached_attention
//===----------------------------------------------------------------------===//

def UoE_CachedAttentionOp : UoE_Op<"cached_attention",
    [AllTypesMatch<["input", "result"]>, MemoryEffects<[MemRead, MemWrite]>]> {
  let summary = "causal dense attention over a key/value cache (decoding)";
  let description = [{
    Incremental decoding's form of `uoe.attention` (causal, no rotary
    embedding): `input: [B, T, d]` holds T new tokens of each sequence b, at
    positions `start[b] .. start[b] + T - 1`. The op projects them (`wqkv:
    [3, d, d]`, `bqkv: [3, d]`), appends their keys and values to layer
    `layer` of the key/value cache named by `cache` (an address the runtime
    gave, docs/SPEC.md "Decoding"), and attends each token's query over the
    cached keys and values of positions `0 ..` its own, then applies the
    output projection (`wo: [d, d]`, `bo: [d]`). Positions past a token's
    own are never read, so whatever an earlier call left there (a shorter
    prompt's padding) does not matter.

    The cache is state outside the IR: the op reads and writes it, so it is
    neither removed nor reordered against the other cache ops.

    Constraints:
    - (C1) `input` has rank 3 and a static shape.
    - (C2) `heads >= 1` divides `d`.
    - (C3) `wqkv` is `[3, d, d]`, `bqkv` `[3, d]`, `wo` `[d, d]` and `bo` `[d]`.
    - (C4) `start` is `[B]`.
    - (C5) all element types agree (the result has the type of `input`).

    The runtime checks what only it can: that `cache` names a cache, that
    `layer` is one of its layers and the new positions fit in it.

    Example:
    ```mlir
    %y = uoe.cached_attention %x, qkv(%wqkv, %bqkv), out(%wo, %bo)
        start %start cache %cache layer %layer heads 4
        : tensor<2x1x32xf32>, tensor<3x32x32xf32>, tensor<3x32xf32>, tensor<32x32xf32>, tensor<32xf32>, tensor<2xi64>
    ```
  }];
  let arguments = (ins UoE_FloatTensor:$input, UoE_FloatTensor:$wqkv,
                       UoE_FloatTensor:$bqkv, UoE_FloatTensor:$wo,
                       UoE_FloatTensor:$bo, UoE_IndexTensor:$start, I64:$cache,
                       I64:$layer, I64Attr:$heads);
  let results = (outs UoE_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` `qkv` `(` $wqkv `,` $bqkv `)` `,` `out` `(` $wo `,` $bo `)`
    `start` $start `cache` $cache `layer` $layer `heads` $heads attr-dict `:`
    type($input) `,` type($wqkv) `,` type($bqkv) `,` type($wo) `,` type($bo)
    `,` type($start)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// uoe.cached_smha
//===----------------------------------------------------------------------===//

def UoE_CachedSmhaOp : UoE_Op<"cached_smha",
    [AllTypesMatch<["input", "result"]>, MemoryEffects<[MemRead, MemWrite]>]> {
  let summary = "causal-safe SMHA over per-expert key/value caches (decoding)";
  let description = [{
    Incremental decoding's form of `uoe.smha` with causal attention and
    causal-safe routing (spec §7): `input: [B, T, d]` holds T new tokens of
    each sequence at positions `start[b] + t`. Every token keeps its `top`
    head-group experts by its own router probability; each expert projects
    the tokens that chose it, appends their keys and values (rotated at
    their positions with `rope original`) after its earlier tokens in layer
    `layer` of the cache named by `cache`, and attends each over its cached
    tokens up to itself (so an expert's cache holds exactly the tokens that
    chose it); the outputs are combined as `uoe.smha`'s (`union` or
    `gated`). Tokens with `key_padding[b, t]` (`[B, T]`, true = padding: a
    shorter prompt's tail) are neither appended nor attended. Weights as
    `uoe.smha`'s.

    Constraints:
    - (C1) `input` has rank 3 and a static shape.
    - (C2) the router is `wg: [E, d]`, `bg: [E]`.
    - (C3) `heads >= 1` divides `d` and the E experts split them equally;
      with rotary embedding `d / heads` is even.
    - (C4) `wqkv: [3, E, d, De]`, `bqkv: [3, E, De]`, `wo: [E, De, d]`, `bo:
      [E, d]`, `De = d / E`.
    - (C5) `1 <= top <= E`.
    - (C6) `key_padding` is `[B, T]` and `start` `[B]`.
    - (C7) all element types agree; `rope` is `none` or `original`.

    Example:
    ```mlir
    %y = uoe.cached_smha %x, router(%wg, %bg), qkv(%wqkv, %bqkv), out(%wo, %bo)
        key_padding %kp start %start cache %cache layer %layer heads 4 top 1
        rope original gated
        : tensor<2x1x32xf32>, tensor<2x32xf32>, tensor<2xf32>, tensor<3x2x32x16xf32>, tensor<3x2x16xf32>, tensor<2x16x32xf32>, tensor<2x32xf32>, tensor<2x1xi1>, tensor<2xi64>
    ```
  }];
  let arguments = (ins UoE_FloatTensor:$input, UoE_FloatTensor:$wg,
                       UoE_FloatTensor:$bg, UoE_FloatTensor:$wqkv,
                       UoE_FloatTensor:$bqkv, UoE_FloatTensor:$wo,
                       UoE_FloatTensor:$bo, UoE_MaskTensor:$key_padding,
                       UoE_IndexTensor:$start, I64:$cache, I64:$layer,
                       I64Attr:$heads, I64Attr:$top,
                       DefaultValuedAttr<UoE_RopeModeAttr, "RopeMode::None">:$rope,
                       DefaultValuedAttr<F64Attr, "10000.0">:$rope_base,
                       UoE_CombineModeAttr:$combine,
                       DefaultValuedAttr<UoE_RouterScoreAttr, "RouterScore::Softmax">:$score);
  let results = (outs UoE_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` `router` `(` $wg `,` $bg `)` `,` `qkv` `(` $wqkv `,` $bqkv `)`
    `,` `out` `(` $wo `,` $bo `)` `key_padding` $key_padding `start` $start
    `cache` $cache `layer` $layer `heads` $heads `top` $top
    (`rope` custom<EnumKeyword>($rope)^)? custom<EnumKeyword>($combine)
    (`score` custom<EnumKeyword>($score)^)? attr-dict `:` type($input) `,`
    type($wg) `,` type($bg) `,` type($wqkv) `,` type($bqkv) `,` type($wo) `,`
    type($bo) `,` type($key_padding) `,` type($start)
  }];
  let extraClassDeclaration = [{
    int64_t getNumExperts();
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// uoe.uome
//===----------------------------------------------------------------------===//

def UoE_UomeOp : UoE_Op<"uome",
    [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "Union of MLP Experts (spec §6)";
  let description = [{
    `input: [N0, N1, d]`. Routes with `router(wg, bg)` and `score`, keeps
    each token's `top` experts, normalises over axis 0 (`eps`,
    `norm_capacity`), then every expert selects `floor(capacity * N1 / P)`
    patches of `P = patch` tokens along axis 1, computes
    `act(Xs W1s_e + b1s_e) W2s_e + b2s_e` on them and the outputs are combined
    (`union` or `gated`). Weights use the stacked layout:
    `w1: [E, d, Fe]` (`[E, d, 2Fe]` with `swiglu`), `b1: [E, Fe]`,
    `w2: [E, Fe, d]`, `b2: [E, d]` (a full-width bias per expert, added once
    per expert that processed the token, as in the authors' code).

    Constraints:
    - (C1) `input` has rank 3.
    - (C2) the router is `wg: [E, d]`, `bg: [E]`.
    - (C3) the experts are `w1: [E, d, F1]`, `b1: [E, F1]`, `w2: [E, Fe, d]`,
      `b2: [E, d]` with `Fe = F1` (`F1 / 2`, `F1` even, with `swiglu`).
    - (C4) `1 <= top <= E`.
    - (C5) `patch >= 1` divides `N1`; `0 < capacity` and
      `1 <= floor(capacity * N1 / patch) <= N1 / patch`.
    - (C6) all element types agree (the result has the type of `input`).
    - (C7) with `routing causal_safe`, `patch` is 1 (a patch's score would
      mix a token with the later tokens of its patch).

    With `routing causal_safe` (spec §7) the layer routes every token on its
    own: it keeps its `top` experts by its own router probability, nothing
    is normalised across tokens (`eps`, `norm_capacity` and `capacity` are
    unused), and every expert processes exactly the tokens that chose it
    (dynamic capacity; the padding slots of the selection get weight 0 in
    the combine). `union` then sums the chosen experts' outputs, `gated`
    weights them by the token's probability. A token's output depends on
    that token alone.

    Example:
    ```mlir
    %y = uoe.uome %x, router(%wg, %bg), up(%w1, %b1), down(%w2, %b2)
        top 2 capacity 5.000000e-01 activation gelu union
        : tensor<16x4x32xf32>, tensor<4x32xf32>, tensor<4xf32>, tensor<4x32x16xf32>,
          tensor<4x16xf32>, tensor<4x16x32xf32>, tensor<4x32xf32>
    ```
  }];
  let arguments = (ins UoE_FloatTensor:$input, UoE_FloatTensor:$wg,
                       UoE_FloatTensor:$bg, UoE_FloatTensor:$w1,
                       UoE_FloatTensor:$b1, UoE_FloatTensor:$w2,
                       UoE_FloatTensor:$b2,
                       I64Attr:$top,
                       DefaultValuedAttr<F64Attr, "0.5">:$capacity,
                       DefaultValuedAttr<I64Attr, "1">:$patch,
                       DefaultValuedAttr<UoE_ActivationAttr, "Activation::Gelu">:$activation,
                       UoE_CombineModeAttr:$combine,
                       DefaultValuedAttr<UoE_RouterScoreAttr, "RouterScore::Softmax">:$score,
                       DefaultValuedAttr<F64Attr, "1.0e-6">:$eps,
                       DefaultValuedAttr<F64Attr, "1.0">:$norm_capacity,
                       DefaultValuedAttr<UoE_RoutingModeAttr, "RoutingMode::Reference">:$routing);
  let results = (outs UoE_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` `router` `(` $wg `,` $bg `)` `,` `up` `(` $w1 `,` $b1 `)` `,`
    `down` `(` $w2 `,` $b2 `)` `top` $top `capacity` $capacity
    (`patch` $patch^)? `activation` custom<EnumKeyword>($activation) custom<EnumKeyword>($combine)
    (`routing` custom<EnumKeyword>($routing)^)? attr-dict `:`
    type($input) `,` type($wg) `,` type($bg) `,` type($w1) `,` type($b1) `,`
    type($w2) `,` type($b2)
  }];
  let extraClassDeclaration = [{
    int64_t getNumExperts();
    /// The static capacity `L = floor(capacity * N1 / patch)`.
    int64_t getSelectedPatches();
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// uoe.smha
//===----------------------------------------------------------------------===//

def UoE_SmhaOp : UoE_Op<"smha",
    [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "Selective Multi-Head Attention (spec §6)";
  let description = [{
    `input: [B, T, d]` with `heads` heads of width `dh = d / heads`, grouped
    into `E` head-group experts of `heads / E` heads (`De = d / E` columns).
    Routes, keeps each token's `top` experts, normalises over axis 0, then
    every expert selects its tokens with dynamic capacity, computes
    `q, k, v` on them only, attends over them (`uoe.selective_attention`:
    causal and key-padding masks by original position, rotary embedding in
    `compacted` or `original` mode) and projects with its row block of `Wo`
    plus its own `bo`; outputs are combined (`union` or `gated`).
    Weights: `wqkv: [3, E, d, De]`, `bqkv: [3, E, De]`, `wo: [E, De, d]`,
    `bo: [E, d]`.

    Constraints:
    - (C1) `input` has rank 3.
    - (C2) the router is `wg: [E, d]`, `bg: [E]`.
    - (C3) `heads >= 1` divides `d`, `E` divides `heads`; with rotary
      embedding `dh` is even.
    - (C4) `wqkv` is `[3, E, d, De]`, `bqkv` `[3, E, De]`, `wo` `[E, De, d]`,
      `bo` `[E, d]`, `De = d / E`.
    - (C5) `1 <= top <= E`.
    - (C6) `key_padding`, when present, is `[B, T]`.
    - (C7) all element types agree (the result has the type of `input`).
    - (C8) with `routing causal_safe`, `rope` is not `compacted` (a token's
      compacted index would count the padding slots of its expert, which
      depend on later tokens).

    With `routing causal_safe` (spec §7) every token keeps its `top`
    head-group experts by its own router probability (no normalisation
    across tokens), and every expert attends over exactly the tokens that
    chose it: the padding slots of its dynamic selection are masked as keys
    (per expert and row) and get weight 0 in the combine (`union`: 1 for
    the chosen tokens, `gated`: the token's probability). With `causal`, a
    token's output then depends only on the tokens up to it.

    Example:
    ```mlir
    %y = uoe.smha %x, router(%wg, %bg), qkv(%wqkv, %bqkv), out(%wo, %bo)
        heads 4 top 1 causal rope compacted union
        : tensor<2x16x32xf32>, tensor<2x32xf32>, tensor<2xf32>, tensor<3x2x32x16xf32>,
          tensor<3x2x16xf32>, tensor<2x16x32xf32>, tensor<2x32xf32>
    ```
  }];
  let arguments = (ins UoE_FloatTensor:$input, UoE_FloatTensor:$wg,
                       UoE_FloatTensor:$bg, UoE_FloatTensor:$wqkv,
                       UoE_FloatTensor:$bqkv, UoE_FloatTensor:$wo,
                       UoE_FloatTensor:$bo, Optional<UoE_MaskTensor>:$key_padding,
                       I64Attr:$heads, I64Attr:$top, UnitAttr:$causal,
                       DefaultValuedAttr<UoE_RopeModeAttr, "RopeMode::None">:$rope,
                       DefaultValuedAttr<F64Attr, "10000.0">:$rope_base,
                       UoE_CombineModeAttr:$combine,
                       DefaultValuedAttr<UoE_RouterScoreAttr, "RouterScore::Softmax">:$score,
                       DefaultValuedAttr<F64Attr, "1.0e-6">:$eps,
                       DefaultValuedAttr<F64Attr, "1.0">:$norm_capacity,
                       DefaultValuedAttr<UoE_RoutingModeAttr, "RoutingMode::Reference">:$routing);
  let results = (outs UoE_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` `router` `(` $wg `,` $bg `)` `,` `qkv` `(` $wqkv `,` $bqkv `)`
    `,` `out` `(` $wo `,` $bo `)` (`key_padding` $key_padding^)? `heads` $heads
    `top` $top (`causal` $causal^)? (`rope` custom<EnumKeyword>($rope)^)? custom<EnumKeyword>($combine)
    (`routing` custom<EnumKeyword>($routing)^)? attr-dict `:`
    type($input) `,` type($wg) `,` type($bg) `,` type($wqkv) `,` type($bqkv)
    `,` type($wo) `,` type($bo) (`,` type($key_padding)^)?
  }];
  let extraClassDeclaration = [{
    int64_t getNumExperts();
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// uoe.moe
//===----------------------------------------------------------------------===//

def UoE_MoeOp : UoE_Op<"moe",
    [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "token-choice top-k Mixture of Experts (Switch / GShard / Mixtral)";
  let description = [{
    `input: [..., d]`. Every token picks its `top` experts by router
    probability (stable) and the output is the sum of those experts'
    outputs `act(x W1s_e + b1s_e) W2s_e + b2s_e`, weighted by the
    probabilities (renormalised over the selected experts with `renormalize`).
    Weights as in `uoe.uome`.

    Constraints:
    - (C1) `input` has rank at least 2.
    - (C2) the router is `wg: [E, d]`, `bg: [E]`.
    - (C3) the experts are `w1: [E, d, F1]`, `b1: [E, F1]`, `w2: [E, Fe, d]`,
      `b2: [E, d]` with `Fe = F1` (`F1 / 2`, `F1` even, with `swiglu`).
    - (C4) `1 <= top <= E`.
    - (C5) all element types agree (the result has the type of `input`).

    Example:
    ```mlir
    %y = uoe.moe %x, router(%wg, %bg), up(%w1, %b1), down(%w2, %b2)
        top 2 renormalize activation silu
        : tensor<64x32xf32>, tensor<8x32xf32>, tensor<8xf32>, tensor<8x32x16xf32>,
          tensor<8x16xf32>, tensor<8x16x32xf32>, tensor<8x32xf32>
    ```
  }];
  let arguments = (ins UoE_FloatTensor:$input, UoE_FloatTensor:$wg,
                       UoE_FloatTensor:$bg, UoE_FloatTensor:$w1,
                       UoE_FloatTensor:$b1, UoE_FloatTensor:$w2,
                       UoE_FloatTensor:$b2, I64Attr:$top, UnitAttr:$renormalize,
                       DefaultValuedAttr<UoE_ActivationAttr, "Activation::Gelu">:$activation,
                       DefaultValuedAttr<UoE_RouterScoreAttr, "RouterScore::Softmax">:$score);
  let results = (outs UoE_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` `router` `(` $wg `,` $bg `)` `,` `up` `(` $w1 `,` $b1 `)` `,`
    `down` `(` $w2 `,` $b2 `)` `top` $top (`renormalize` $renormalize^)?
    `activation` custom<EnumKeyword>($activation) attr-dict `:` type($input) `,` type($wg) `,`
    type($bg) `,` type($w1) `,` type($b1) `,` type($w2) `,` type($b2)
  }];
  let extraClassDeclaration = [{
    int64_t getNumExperts();
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Norms (spec §6, blocks)
//===----------------------------------------------------------------------===//

def UoE_LayerNormOp : UoE_Op<"layer_norm",
    [Pure, AllTypesMatch<["input", "result"]>, DeclareOpInterfaceMethods<UoE_DifferentiableOpInterface>]> {
  let summary = "LayerNorm over the last dimension";
  let description = [{
    `(x - mean) / sqrt(var + eps) * gamma + beta` over the last dimension `d`
    (biased variance), as in the post-LN blocks of the authors' language model.

    Constraints:
    - (C1) `gamma` and `beta` are `[d]` with `d` the last dimension of `input`.
    - (C2) `eps > 0`.
    - (C3) all element types agree (the result has the type of `input`).

    Example:
    ```mlir
    %y = uoe.layer_norm %x, %gamma, %beta eps 1.000000e-05
        : tensor<2x16x32xf32>, tensor<32xf32>, tensor<32xf32>
    ```
  }];
  let arguments = (ins UoE_FloatTensor:$input, UoE_FloatTensor:$gamma,
                       UoE_FloatTensor:$beta,
                       DefaultValuedAttr<F64Attr, "1.0e-5">:$eps);
  let results = (outs UoE_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $gamma `,` $beta `eps` $eps attr-dict `:` type($input) `,`
    type($gamma) `,` type($beta)
  }];
  let hasVerifier = 1;
}

def UoE_RmsNormOp : UoE_Op<"rms_norm",
    [Pure, AllTypesMatch<["input", "result"]>, DeclareOpInterfaceMethods<UoE_DifferentiableOpInterface>]> {
  let summary = "RMSNorm over the last dimension";
  let description = [{
    `x / sqrt(mean(x^2) + eps) * gamma` over the last dimension, computed in
    float32 at least (the pre-RMSNorm blocks of the authors' LRA model use
    `eps = 1e-6`).

    Constraints:
    - (C1) `gamma` is `[d]` with `d` the last dimension of `input`.
    - (C2) `eps > 0`.
    - (C3) all element types agree (the result has the type of `input`).

    Example:
    ```mlir
    %y = uoe.rms_norm %x, %gamma eps 9.9999999999999995E-7 : tensor<2x16x32xf32>, tensor<32xf32>
    ```
  }];
  let arguments = (ins UoE_FloatTensor:$input, UoE_FloatTensor:$gamma,
                       DefaultValuedAttr<F64Attr, "1.0e-6">:$eps);
  let results = (outs UoE_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $gamma `eps` $eps attr-dict `:` type($input) `,` type($gamma)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// uoe.embedding
//===----------------------------------------------------------------------===//

def UoE_EmbeddingOp : UoE_Op<"embedding",
    [Pure, DeclareOpInterfaceMethods<UoE_DifferentiableOpInterface>]> {
  let summary = "token embedding lookup, optionally plus learned positions";
  let description = [{
    `ids: [..., T]` (token ids, `i64` or `i32`), `table: [V, d]`; the result
    is `[..., T, d]`:
    `result[..., t, :] = table[clamp(ids[..., t], 0, V - 1), :]`, plus
    `positions[t, :]` when a learned position table `positions: [P, d]` is
    given (absolute positions `0..T-1` along the last axis of `ids`; only
    the first `T` rows of `positions` are read).

    Out-of-range ids are clamped to `[0, V - 1]` (the behaviour of
    StableHLO's `gather` for its start indices): the op never reads outside
    `table`, and its result is defined, deterministically, for every input.
    Tools that prefer an error check the ids before running (`uoe-run`
    rejects ids outside `[0, V)`, naming the first one).

    Constraints:
    - (C1) `ids` has rank at least 1 (`[..., T]`) and a static shape.
    - (C2) `table` is `[V, d]` with a static shape and `V >= 1`.
    - (C3) `positions`, when present, is `[P, d]` with `P >= T`.
    - (C4) `result` is `[..., T, d]`: the shape of `ids` followed by `d`.
    - (C5) `table`, `positions` and `result` have the same element type.

    Example:
    ```mlir
    %h = uoe.embedding %ids, %table positions %pos
        : tensor<2x16xi64>, tensor<256x64xf32>, tensor<128x64xf32> -> tensor<2x16x64xf32>
    ```
  }];
  let arguments = (ins RankedTensorOf<[I32, I64]>:$ids, UoE_FloatTensor:$table,
                       Optional<UoE_FloatTensor>:$positions);
  let results = (outs UoE_FloatTensor:$result);
  let assemblyFormat = [{
    $ids `,` $table (`positions` $positions^)? attr-dict `:` type($ids) `,`
    type($table) (`,` type($positions)^)? `->` type($result)
  }];
  let hasVerifier = 1;
}

#endif // UOE_DIALECT_UOELAYEROPS_TD
