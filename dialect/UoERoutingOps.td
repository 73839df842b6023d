//===- UoERoutingOps.td - routing and expert ops ------------*- tablegen -*-===//
//
// Level 2 of the IR: the pieces that layer ops expand into. Routing
// (`router`, `token_choice`, `expert_select`), data selection
// (`data_select`), data movement (`dispatch`, `combine`) and expert compute
// (`expert_matmul`, `selective_attention`). Each constraint `(Cn)` of an op is
// checked in UoEOps.cpp under the label `<op>_cn` and tested in
// test/dialect/<op>-invalid.mlir by a function of the same name. An op with
// a gradient declares `UoE_DifferentiableOpInterface` (UoEInterfaces.td);
// its rule is in UoEGradients.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef UOE_DIALECT_UOEROUTINGOPS_TD
#define UOE_DIALECT_UOEROUTINGOPS_TD

include "dialect/UoEBase.td"
include "dialect/UoEInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

//===----------------------------------------------------------------------===//
// uoe.router
//===----------------------------------------------------------------------===//

def UoE_RouterOp : UoE_Op<"router",
    [Pure, DeclareOpInterfaceMethods<UoE_DifferentiableOpInterface>]> {
  let summary = "router probabilities over experts (spec §2)";
  let description = [{
    Computes `logits = input * weight^T + bias` and applies `score` (softmax
    or sigmoid) over the expert axis: `probs[..., e]`.

    Constraints:
    - (C1) `weight` is `[E, d]` with `d` the last dimension of `input`.
    - (C2) `bias` is `[E]`.
    - (C3) `probs` has the shape of `input` with its last dimension replaced by `E`.
    - (C4) `input`, `weight`, `bias` and `probs` have one element type.

    Example:
    ```mlir
    %p = uoe.router %x, %wg, %bg score softmax
        : tensor<4x16x32xf32>, tensor<3x32xf32>, tensor<3xf32> -> tensor<4x16x3xf32>
    ```
  }];
  let arguments = (ins UoE_FloatTensor:$input, UoE_FloatTensor:$weight,
                       UoE_FloatTensor:$bias,
                       DefaultValuedAttr<UoE_RouterScoreAttr,
                                         "RouterScore::Softmax">:$score);
  let results = (outs UoE_FloatTensor:$probs);
  let assemblyFormat = [{
    $input `,` $weight `,` $bias `score` custom<EnumKeyword>($score) attr-dict `:` type($input) `,`
    type($weight) `,` type($bias) `->` type($probs)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// uoe.token_choice
//===----------------------------------------------------------------------===//

def UoE_TokenChoiceOp : UoE_Op<"token_choice",
    [Pure, AllTypesMatch<["probs", "result"]>, DeclareOpInterfaceMethods<UoE_DifferentiableOpInterface>]> {
  let summary = "keep each item's k largest scores, optionally normalise (spec §2)";
  let description = [{
    Keeps, for every index of the leading axes, the `top` largest entries of
    `probs` along the last (expert) axis, stable, and zeroes the rest:
    `s = probs * mask`. With `renormalize`, the kept entries are divided by
    their sum (token-choice MoE gating). With `normalize`, also applies the reference
    normalisation over axis `axis`:
    `g = s / (sum_axis(s) + eps) * floor(capacity * n_axis)`.
    The result only ranks patches for `uoe.data_select`; its values reach the
    output only through a gated `uoe.combine`.

    Constraints:
    - (C1) `1 <= top <= E`, `E` the last dimension.
    - (C2) the normalisation `axis` is a leading axis: `0 <= axis < rank - 1`.
    - (C3) `eps >= 0` and `capacity > 0`.

    Folds to `probs` when `top == E` and there is no normalisation.
    `renormalize` and `normalize` may be combined; `renormalize` comes first.

    Example:
    ```mlir
    %g = uoe.token_choice %p top 2 normalize axis 0 eps 1.0e-06 capacity 1.0
        : tensor<4x16x3xf32>
    %s = uoe.token_choice %p top 2 renormalize : tensor<1x64x8xf32>
    ```
  }];
  let arguments = (ins UoE_FloatTensor:$probs, I64Attr:$top,
                       UnitAttr:$renormalize, OptionalAttr<I64Attr>:$axis,
                       DefaultValuedAttr<F64Attr, "1.0e-6">:$eps,
                       DefaultValuedAttr<F64Attr, "1.0">:$capacity);
  let results = (outs UoE_FloatTensor:$result);
  let assemblyFormat = [{
    $probs `top` $top (`renormalize` $renormalize^)? (`normalize` `axis` $axis^ `eps` $eps `capacity` $capacity)?
    attr-dict `:` type($probs)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// uoe.data_select
//===----------------------------------------------------------------------===//

def UoE_DataSelectOp : UoE_Op<"data_select",
    [Pure, DeclareOpInterfaceMethods<UoE_DifferentiableOpInterface>]> {
  let summary = "expert-choice selection of patches (spec §3)";
  let description = [{
    `scores: [R, N, E]` holds a routing score per row `r`, token `n` and expert
    `e`. Tokens are grouped into `N / P` patches of `P = patch` consecutive
    tokens; a patch's score is the mean of its tokens' scores. For every
    expert and row, the `L` patches with the largest score are kept, ties to
    the lower index, and their indices are sorted ascending.

    `L` is static, `floor(capacity * N / P)`, when `capacity` is given, or
    `dynamic`: the largest number of positive patch scores over all
    `(expert, row)` pairs, known only at run time and written `?`.

    Results: `positions: [E, R, L]` (patch indices, ascending per row) and
    `weights: [E, R, L]` (the kept patches' scores, used by a gated combine).

    Constraints:
    - (C1) `scores` has rank 3.
    - (C2) `patch >= 1` and it divides `N`.
    - (C3) `0 < capacity`, and `floor(capacity * N / P)` is at least 1 and at
      most the number of patches `N / P`.
    - (C4) with `capacity`, `L` is `floor(capacity * N / P)`; with `dynamic`,
      `L` is `?`.
    - (C5) `positions` and `weights` are `[E, R, L]` with `E`, `R` of `scores`;
      `weights` has the element type of `scores`.

    When `L` equals the number of patches every patch is kept and
    `positions` canonicalizes to the constant `0, 1, ..., L-1`.

    Example:
    ```mlir
    %pos, %w = uoe.data_select %g patch 1 capacity 5.000000e-01
        : tensor<4x16x3xf32> -> tensor<3x4x8xi64>, tensor<3x4x8xf32>
    %dpos, %dw = uoe.data_select %g patch 1 dynamic
        : tensor<4x16x3xf32> -> tensor<3x4x?xi64>, tensor<3x4x?xf32>
    ```
  }];
  let arguments = (ins UoE_FloatTensor:$scores,
                       DefaultValuedAttr<I64Attr, "1">:$patch,
                       OptionalAttr<F64Attr>:$capacity);
  let results = (outs UoE_IndexTensor:$positions, UoE_FloatTensor:$weights);
  let assemblyFormat = [{
    $scores `patch` $patch (`capacity` $capacity^) : (`dynamic`)? attr-dict `:`
    type($scores) `->` type($positions) `,` type($weights)
  }];
  let extraClassDeclaration = [{
    /// True when `L` is data-dependent (no `capacity`).
    bool isDynamic() { return !getCapacity().has_value(); }
    /// The number of patches per row, `N / P`.
    int64_t getNumPatches();
  }];
  let hasVerifier = 1;
  let hasCanonicalizer = 1;
}

//===----------------------------------------------------------------------===//
// uoe.expert_select
//===----------------------------------------------------------------------===//

def UoE_ExpertSelectOp : UoE_Op<"expert_select", [Pure]> {
  let summary = "each input picks its k most probable experts (spec §4)";
  let description = [{
    For every index of the leading axes of `probs: [..., E]` (a token or a
    whole sample), returns the `top` experts with the largest probability,
    stable, in descending order of probability (`experts: [..., k]`), and
    their probabilities (`weights: [..., k]`). With `renormalize`, the
    weights are divided by their sum (Mixtral-style gating).

    Constraints:
    - (C1) `probs` has rank at least 1.
    - (C2) `1 <= top <= E`.
    - (C3) `experts` and `weights` have the leading shape of `probs` and last
      dimension `top`; `weights` has the element type of `probs`.

    Example:
    ```mlir
    %idx, %w = uoe.expert_select %p top 2 renormalize
        : tensor<64x8xf32> -> tensor<64x2xi64>, tensor<64x2xf32>
    ```
  }];
  let arguments = (ins UoE_FloatTensor:$probs, I64Attr:$top,
                       UnitAttr:$renormalize);
  let results = (outs UoE_IndexTensor:$experts, UoE_FloatTensor:$weights);
  let assemblyFormat = [{
    $probs `top` $top (`renormalize` $renormalize^)? attr-dict `:` type($probs)
    `->` type($experts) `,` type($weights)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// uoe.dispatch
//===----------------------------------------------------------------------===//

def UoE_DispatchOp : UoE_Op<"dispatch",
    [Pure, DeclareOpInterfaceMethods<UoE_DifferentiableOpInterface>]> {
  let summary = "gather the selected patches of every expert (spec §3)";
  let description = [{
    `result[e, r, j*P + t, :] = input[r, positions[e, r, j]*P + t, :]` for
    `input: [R, N, d]`, `positions: [E, R, L]` and patch size `P`; the result
    is `[E, R, L*P, d]`. `combine` is its transpose.

    Constraints:
    - (C1) `input` has rank 3 and `positions` rank 3.
    - (C2) `positions` has the row count `R` of `input`.
    - (C3) `patch >= 1` and it divides `N`.
    - (C4) `result` is `[E, R, L*P, d]` (`?` when `L` is) with the element type
      of `input`.

    Example:
    ```mlir
    %xs = uoe.dispatch %x, %pos patch 1
        : tensor<4x16x32xf32>, tensor<3x4x8xi64> -> tensor<3x4x8x32xf32>
    ```
  }];
  let arguments = (ins UoE_FloatTensor:$input, UoE_IndexTensor:$positions,
                       DefaultValuedAttr<I64Attr, "1">:$patch);
  let results = (outs UoE_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $positions `patch` $patch attr-dict `:` type($input) `,`
    type($positions) `->` type($result)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// uoe.expert_matmul
//===----------------------------------------------------------------------===//

def UoE_ExpertMatmulOp : UoE_Op<"expert_matmul",
    [Pure, DeclareOpInterfaceMethods<UoE_DifferentiableOpInterface>]> {
  let summary = "one GEMM per expert over stacked weights, with bias and activation";
  let description = [{
    For every expert `e`: `result[e] = act(lhs[e] * rhs[e] + bias[e])`, where
    `lhs: [E, ..., M, K]` (any batch dimensions between `E` and `M`),
    `rhs: [E, K, N]` (the stacked, partitioned weights of the spec) and the
    optional `bias: [E, N]`. `activation` is applied in the epilogue;
    `swiglu` splits the `N` columns into `[gate | up]` halves and yields
    `silu(gate) * up`, so the result has `N / 2` columns.

    Constraints:
    - (C1) `lhs` has rank at least 3 and `rhs` rank 3.
    - (C2) `lhs` and `rhs` have the same expert count `E`.
    - (C3) the contraction sizes agree: `K` of `lhs` equals `K` of `rhs`.
    - (C4) `bias`, when present, is `[E, N]`.
    - (C5) with `swiglu`, `N` is even.
    - (C6) `result` is `[E, ..., M, N]` (`N / 2` with `swiglu`), with the
      element type of `lhs`, `rhs` and `bias`.

    Example:
    ```mlir
    %h = uoe.expert_matmul %xs, %w1 bias %b1 activation gelu
        : tensor<3x4x8x32xf32>, tensor<3x32x16xf32>, tensor<3x16xf32> -> tensor<3x4x8x16xf32>
    ```
  }];
  let arguments = (ins UoE_FloatTensor:$lhs, UoE_FloatTensor:$rhs,
                       Optional<UoE_FloatTensor>:$bias,
                       DefaultValuedAttr<UoE_ActivationAttr,
                                         "Activation::None">:$activation);
  let results = (outs UoE_FloatTensor:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs (`bias` $bias^)? (`activation` custom<EnumKeyword>($activation)^)? attr-dict `:`
    type($lhs) `,` type($rhs) (`,` type($bias)^)? `->` type($result)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// uoe.selective_attention
//===----------------------------------------------------------------------===//

def UoE_SelectiveAttentionOp : UoE_Op<"selective_attention",
    [Pure, DeclareOpInterfaceMethods<UoE_DifferentiableOpInterface>]> {
  let summary = "multi-head attention over each expert's selected tokens (spec §6)";
  let description = [{
    `query`, `key`, `value: [E, B, L, D]` are the projections of the tokens
    that head-group expert `e` selected in row `b`, in ascending original
    order; `positions: [E, B, L]` are those tokens' original indices. Each
    expert owns `heads` heads of width `dh = D / heads`. Per expert, row and
    head: rotary embedding (NeoX rotate-half, base `rope_base`) with positions
    `0..L-1` (`compacted`, reference) or `positions` (`original`, corrected);
    scores `q k^T * scale` (default `1/sqrt(dh)`); with `causal`, key `j`
    is masked for query `i` when `positions[j] > positions[i]`; with
    `key_padding: [B, T]` (true = padding), key `j` is masked when
    `key_padding[b, positions[j]]`; softmax over keys (a row whose keys are
    all masked yields zeros); `result = P v`.

    Constraints:
    - (C1) `query`, `key` and `value` have rank 4 and one type.
    - (C2) `heads >= 1` divides `D`; with rotary embedding `dh` is even.
    - (C3) `positions` is `[E, B, L]`.
    - (C4) `key_padding`, when present, is `[B, T]`.
    - (C5) `result` has the type of `query`.

    Example:
    ```mlir
    %o = uoe.selective_attention %q, %k, %v, %pos heads 2 causal rope compacted
        : tensor<2x4x?x16xf32>, tensor<2x4x?x16xf32>, tensor<2x4x?x16xf32>, tensor<2x4x?xi64> -> tensor<2x4x?x16xf32>
    ```
  }];
  let arguments = (ins UoE_FloatTensor:$query, UoE_FloatTensor:$key,
                       UoE_FloatTensor:$value, UoE_IndexTensor:$positions,
                       Optional<UoE_MaskTensor>:$key_padding,
                       I64Attr:$heads, UnitAttr:$causal,
                       DefaultValuedAttr<UoE_RopeModeAttr, "RopeMode::None">:$rope,
                       DefaultValuedAttr<F64Attr, "10000.0">:$rope_base,
                       OptionalAttr<F64Attr>:$scale);
  let results = (outs UoE_FloatTensor:$result);
  let assemblyFormat = [{
    $query `,` $key `,` $value `,` $positions (`key_padding` $key_padding^)?
    `heads` $heads (`causal` $causal^)? (`rope` custom<EnumKeyword>($rope)^)? attr-dict `:`
    type($query) `,` type($key) `,` type($value) `,` type($positions)
    (`,` type($key_padding)^)? `->` type($result)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// uoe.kv_attend
//===----------------------------------------------------------------------===//

def UoE_KvAttendOp : UoE_Op<"kv_attend",
    [AllTypesMatch<["query", "key", "value", "result"]>,
     AttrSizedOperandSegments, MemoryEffects<[MemRead, MemWrite]>]> {
  let summary = "append keys and values to a cache and attend over it";
  let description = [{
    The attention of decoding once its projections are separate:
    `query`, `key`, `value: [R, L, D]` are the projections of new tokens.
    Without `selected`, R = B (`start: [B]`) and slot `l` of row `b` is the
    call's token `l`, at position `start[b] + l`, which is also its place
    in the cache (dense attention, `uoe.cached_attention`). With `selected
    (positions, key_padding)`, R = E * B: row `r` is expert `r / B`'s
    selection in sequence `r % B` (causal-safe SMHA), slot `l` holds token
    `positions[r, l]` (`[R, L]`), kept unless `key_padding[r, token]`
    (`[R, T]`), and kept tokens go after the expert's earlier ones in the
    cache. Keys and values of kept slots are written to layer `layer` of the
    cache named by `cache`; then every kept slot attends over its row's
    cached entries up to its own (`heads` heads of width `dh = D / heads`;
    rotary embedding at the tokens' positions with `rope original`;
    scores `q k^T * scale`, default `1/sqrt(dh)`); skipped slots give 0.

    Constraints:
    - (C1) `query`, `key` and `value` have rank 3 and one type, which the
      result has; static but for `L` with `selected`.
    - (C2) `heads >= 1` divides `D`; with rotary embedding `dh` is even.
    - (C3) `start` is `[B]`; without `selected`, R = B.
    - (C4) with `selected`, R is a multiple of B, `positions` is `[R, L]`
      and `key_padding` `[R, T]`.
    - (C5) `rope` is `none` or `original`.

    The runtime checks the cache, the layer and the positions.

    Example:
    ```mlir
    %o = uoe.kv_attend %q, %k, %v start %start cache %cache layer %layer heads 4
        : tensor<2x1x32xf32>, tensor<2xi64>
    ```
  }];
  let arguments = (ins UoE_FloatTensor:$query, UoE_FloatTensor:$key,
                       UoE_FloatTensor:$value, UoE_IndexTensor:$start,
                       Optional<UoE_IndexTensor>:$positions,
                       Optional<UoE_MaskTensor>:$key_padding,
                       I64:$cache, I64:$layer, I64Attr:$heads,
                       DefaultValuedAttr<UoE_RopeModeAttr, "RopeMode::None">:$rope,
                       DefaultValuedAttr<F64Attr, "10000.0">:$rope_base,
                       OptionalAttr<F64Attr>:$scale);
  let results = (outs UoE_FloatTensor:$result);
  let assemblyFormat = [{
    $query `,` $key `,` $value `start` $start
    (`selected` `(` $positions^ `,` $key_padding `)`)?
    `cache` $cache `layer` $layer `heads` $heads
    (`rope` custom<EnumKeyword>($rope)^)? attr-dict `:` type($query) `,`
    type($start) (`,` type($positions)^ `,` type($key_padding))?
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// uoe.combine
//===----------------------------------------------------------------------===//

def UoE_CombineOp : UoE_Op<"combine",
    [Pure, DeclareOpInterfaceMethods<UoE_DifferentiableOpInterface>]> {
  let summary = "ordered scatter-add of expert outputs (spec §5)";
  let description = [{
    Starting from zeros of shape `[R, N, d]`, adds for `e = 0..E-1` in order
    `result[r, positions[e, r, j]*P + t] += w * input[e, r, j*P + t]`, where
    `w = 1` in `union` mode and `w = weights[e, r, j]` in `gated` mode. The
    order is fixed, so the result is deterministic. It is the transpose of
    `uoe.dispatch`. The positions of one expert and row must be distinct and
    in `[0, N/P)`, as `uoe.data_select` makes them (a data-dependent
    precondition no verifier can check): the CPU lowering inverts them, so a
    repeated position keeps only its last slot.

    Constraints:
    - (C1) `input` has rank 4 and `positions` rank 3.
    - (C2) `input` and `positions` agree on `E` and `R`, and `input` has
      `L * P` rows per expert.
    - (C3) `gated` mode takes `weights`; `union` mode takes none.
    - (C4) `weights` has the shape of `positions`.
    - (C5) `result` is `[R, N, d]` with `patch` dividing `N`, and the element
      type of `input`.

    A gated combine whose weights are the constant 1 canonicalizes to union.

    Example:
    ```mlir
    %y = uoe.combine %ys, %pos weights %w gated patch 1
        : tensor<3x4x8x32xf32>, tensor<3x4x8xi64>, tensor<3x4x8xf32> -> tensor<4x16x32xf32>
    ```
  }];
  let arguments = (ins UoE_FloatTensor:$input, UoE_IndexTensor:$positions,
                       Optional<UoE_FloatTensor>:$weights,
                       UoE_CombineModeAttr:$mode,
                       DefaultValuedAttr<I64Attr, "1">:$patch);
  let results = (outs UoE_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $positions (`weights` $weights^)? custom<EnumKeyword>($mode) `patch` $patch attr-dict
    `:` type($input) `,` type($positions) (`,` type($weights)^)? `->` type($result)
  }];
  let hasVerifier = 1;
  let hasCanonicalizer = 1;
}

//===----------------------------------------------------------------------===//
// uoe.expert_gemm
//===----------------------------------------------------------------------===//

def UoE_ExpertGemmOp : UoE_Op<"expert_gemm",
    [Pure, AttrSizedOperandSegments]> {
  let summary = "an expert GEMM fused with its selection (gather, epilogue, combine)";
  let description = [{
    The fused form of `uoe.dispatch -> uoe.expert_matmul -> uoe.combine`
    that `uoe-fuse-selection` makes, and that a target lowers tile by tile
    (the CPU: the runtime's `uoe_expert_gemm`; elsewhere it expands back to
    the three ops). For every expert `e`, row `r` and GEMM row
    `i < M = L * P`:

    - the GEMM's row is, with `gather %positions` (the dispatch folded in),
      `lhs[r, positions[e, r, i / P] * P + i % P, :]` of `lhs: [R, N, K]`;
      without it, `lhs[e, r, i, :]` of `lhs: [E, R, M, K]`;
    - `v = act(row * rhs[e] + bias[e])` (`expert_matmul`'s epilogue; `swiglu`
      halves the width);
    - with `combine %positions [weights %w]`, the result is `[R, N, width]`:
      zeros, to which `w[e, r, i / P] * v` (`1 * v` without weights) is added
      at row `positions[e, r, i / P] * P + i % P` for `e = 0..E-1` in order,
      `uoe.combine`'s ordered scatter-add; without it, the result is
      `[E, R, M, width]` with `v` in row `i`.

    Constraints:
    - (C1) `rhs` is `[E, K, Nw]` with static sizes; `bias`, when present, is
      `[E, Nw]`; with `swiglu`, `Nw` is even (width `Nw / 2`, else `Nw`).
    - (C2) with `gather`, `lhs` is `[R, N, K]`, the positions `[E, R, L]`, and
      `P` divides `N`; without it, `lhs` is `[E, R, M, K]`.
    - (C3) with `combine`, the positions are `[E, R, L]` (the gather's L when
      both are present), `weights` (optional) has their shape, and the result
      is `[R, N, width]` with `P` dividing `N`; without it, the result is
      `[E, R, L*P, width]`.
    - (C4) at least one of `gather` and `combine` (else it is an
      `expert_matmul`), and `patch >= 1`.
    - (C5) `lhs`, `rhs`, `bias`, `weights` and the result have one element
      type.

    Example:
    ```mlir
    %h = uoe.expert_gemm %x, %w1 bias %b1 gather %pos activation gelu patch 1
        : (tensor<4x16x32xf32>, tensor<3x32x16xf32>, tensor<3x16xf32>, tensor<3x4x8xi64>) -> tensor<3x4x8x16xf32>
    %y = uoe.expert_gemm %h, %w2 bias %b2 combine %pos patch 1
        : (tensor<3x4x8x16xf32>, tensor<3x16x32xf32>, tensor<3x32xf32>, tensor<3x4x8xi64>) -> tensor<4x16x32xf32>
    ```
  }];
  let arguments = (ins UoE_FloatTensor:$lhs, UoE_FloatTensor:$rhs,
                       Optional<UoE_FloatTensor>:$bias,
                       Optional<UoE_IndexTensor>:$gather_positions,
                       Optional<UoE_IndexTensor>:$combine_positions,
                       Optional<UoE_FloatTensor>:$combine_weights,
                       DefaultValuedAttr<UoE_ActivationAttr,
                                         "Activation::None">:$activation,
                       DefaultValuedAttr<I64Attr, "1">:$patch);
  let results = (outs UoE_FloatTensor:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs (`bias` $bias^)? (`gather` $gather_positions^)?
    (`combine` $combine_positions^)? (`weights` $combine_weights^)?
    (`activation` custom<EnumKeyword>($activation)^)? `patch` $patch attr-dict
    `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

#endif // UOE_DIALECT_UOEROUTINGOPS_TD
