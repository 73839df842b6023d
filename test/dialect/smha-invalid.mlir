// RUN: uoe-opt %s -split-input-file -verify-diagnostics

// Tests that the input must have rank 3 ([B, T, d]).
func.func @smha_c1(%x: tensor<2x2x16x32xf32>, %wg: tensor<2x32xf32>, %bg: tensor<2xf32>, %wqkv: tensor<3x2x32x16xf32>, %bqkv: tensor<3x2x16xf32>, %wo: tensor<2x16x32xf32>, %bo: tensor<2x32xf32>) -> tensor<2x2x16x32xf32> {
  // expected-error @+1 {{'uoe.smha' op input must have rank 3 ([B, T, d]), but it is 'tensor<2x2x16x32xf32>'}}
  %y = uoe.smha %x, router(%wg, %bg), qkv(%wqkv, %bqkv), out(%wo, %bo) heads 4 top 1 union
      : tensor<2x2x16x32xf32>, tensor<2x32xf32>, tensor<2xf32>, tensor<3x2x32x16xf32>, tensor<3x2x16xf32>, tensor<2x16x32xf32>, tensor<2x32xf32>
  return %y : tensor<2x2x16x32xf32>
}

// -----

// Tests that the router weight must have rank 2.
func.func @smha_c2(%x: tensor<2x16x32xf32>, %wg: tensor<64xf32>, %bg: tensor<2xf32>, %wqkv: tensor<3x2x32x16xf32>, %bqkv: tensor<3x2x16xf32>, %wo: tensor<2x16x32xf32>, %bo: tensor<2x32xf32>) -> tensor<2x16x32xf32> {
  // expected-error @+1 {{'uoe.smha' op wg must have rank 2 ([E, d]), but it is 'tensor<64xf32>'}}
  %y = uoe.smha %x, router(%wg, %bg), qkv(%wqkv, %bqkv), out(%wo, %bo) heads 4 top 1 union
      : tensor<2x16x32xf32>, tensor<64xf32>, tensor<2xf32>, tensor<3x2x32x16xf32>, tensor<3x2x16xf32>, tensor<2x16x32xf32>, tensor<2x32xf32>
  return %y : tensor<2x16x32xf32>
}

// -----

// Tests that the router weight must be [E, d] with d the input width.
func.func @smha_c2_b(%x: tensor<2x16x32xf32>, %wg: tensor<2x16xf32>, %bg: tensor<2xf32>, %wqkv: tensor<3x2x32x16xf32>, %bqkv: tensor<3x2x16xf32>, %wo: tensor<2x16x32xf32>, %bo: tensor<2x32xf32>) -> tensor<2x16x32xf32> {
  // expected-error @+1 {{'uoe.smha' op wg must be [E, d] = [2, 32], but it is 'tensor<2x16xf32>'}}
  %y = uoe.smha %x, router(%wg, %bg), qkv(%wqkv, %bqkv), out(%wo, %bo) heads 4 top 1 union
      : tensor<2x16x32xf32>, tensor<2x16xf32>, tensor<2xf32>, tensor<3x2x32x16xf32>, tensor<3x2x16xf32>, tensor<2x16x32xf32>, tensor<2x32xf32>
  return %y : tensor<2x16x32xf32>
}

// -----

// Tests that the router bias must be [E].
func.func @smha_c2_c(%x: tensor<2x16x32xf32>, %wg: tensor<2x32xf32>, %bg: tensor<4xf32>, %wqkv: tensor<3x2x32x16xf32>, %bqkv: tensor<3x2x16xf32>, %wo: tensor<2x16x32xf32>, %bo: tensor<2x32xf32>) -> tensor<2x16x32xf32> {
  // expected-error @+1 {{'uoe.smha' op bg must be [E] = [2], but it is 'tensor<4xf32>'}}
  %y = uoe.smha %x, router(%wg, %bg), qkv(%wqkv, %bqkv), out(%wo, %bo) heads 4 top 1 union
      : tensor<2x16x32xf32>, tensor<2x32xf32>, tensor<4xf32>, tensor<3x2x32x16xf32>, tensor<3x2x16xf32>, tensor<2x16x32xf32>, tensor<2x32xf32>
  return %y : tensor<2x16x32xf32>
}

// -----

// Tests that heads must be positive.
func.func @smha_c3(%x: tensor<2x16x32xf32>, %wg: tensor<2x32xf32>, %bg: tensor<2xf32>, %wqkv: tensor<3x2x32x16xf32>, %bqkv: tensor<3x2x16xf32>, %wo: tensor<2x16x32xf32>, %bo: tensor<2x32xf32>) -> tensor<2x16x32xf32> {
  // expected-error @+1 {{'uoe.smha' op heads (0) must be positive and divide the width d (32)}}
  %y = uoe.smha %x, router(%wg, %bg), qkv(%wqkv, %bqkv), out(%wo, %bo) heads 0 top 1 union
      : tensor<2x16x32xf32>, tensor<2x32xf32>, tensor<2xf32>, tensor<3x2x32x16xf32>, tensor<3x2x16xf32>, tensor<2x16x32xf32>, tensor<2x32xf32>
  return %y : tensor<2x16x32xf32>
}

// -----

// Tests that heads must divide the width d.
func.func @smha_c3_b(%x: tensor<2x16x32xf32>, %wg: tensor<2x32xf32>, %bg: tensor<2xf32>, %wqkv: tensor<3x2x32x16xf32>, %bqkv: tensor<3x2x16xf32>, %wo: tensor<2x16x32xf32>, %bo: tensor<2x32xf32>) -> tensor<2x16x32xf32> {
  // expected-error @+1 {{'uoe.smha' op heads (5) must be positive and divide the width d (32)}}
  %y = uoe.smha %x, router(%wg, %bg), qkv(%wqkv, %bqkv), out(%wo, %bo) heads 5 top 1 union
      : tensor<2x16x32xf32>, tensor<2x32xf32>, tensor<2xf32>, tensor<3x2x32x16xf32>, tensor<3x2x16xf32>, tensor<2x16x32xf32>, tensor<2x32xf32>
  return %y : tensor<2x16x32xf32>
}

// -----

// Tests that the experts must split the heads into equal groups (1 head, 2 experts).
func.func @smha_c3_c(%x: tensor<2x16x32xf32>, %wg: tensor<2x32xf32>, %bg: tensor<2xf32>, %wqkv: tensor<3x2x32x16xf32>, %bqkv: tensor<3x2x16xf32>, %wo: tensor<2x16x32xf32>, %bo: tensor<2x32xf32>) -> tensor<2x16x32xf32> {
  // expected-error @+1 {{'uoe.smha' op the 2 experts must split the heads (1) into equal groups}}
  %y = uoe.smha %x, router(%wg, %bg), qkv(%wqkv, %bqkv), out(%wo, %bo) heads 1 top 1 union
      : tensor<2x16x32xf32>, tensor<2x32xf32>, tensor<2xf32>, tensor<3x2x32x16xf32>, tensor<3x2x16xf32>, tensor<2x16x32xf32>, tensor<2x32xf32>
  return %y : tensor<2x16x32xf32>
}

// -----

// Tests that rotary embedding needs an even head width (d / heads = 1).
func.func @smha_c3_d(%x: tensor<2x16x32xf32>, %wg: tensor<2x32xf32>, %bg: tensor<2xf32>, %wqkv: tensor<3x2x32x16xf32>, %bqkv: tensor<3x2x16xf32>, %wo: tensor<2x16x32xf32>, %bo: tensor<2x32xf32>) -> tensor<2x16x32xf32> {
  // expected-error @+1 {{'uoe.smha' op rotary embedding needs an even head width, but d / heads = 1}}
  %y = uoe.smha %x, router(%wg, %bg), qkv(%wqkv, %bqkv), out(%wo, %bo) heads 32 top 1 rope compacted union
      : tensor<2x16x32xf32>, tensor<2x32xf32>, tensor<2xf32>, tensor<3x2x32x16xf32>, tensor<3x2x16xf32>, tensor<2x16x32xf32>, tensor<2x32xf32>
  return %y : tensor<2x16x32xf32>
}

// -----

// Tests that wqkv must be [3, E, d, De] with De = d / E.
func.func @smha_c4(%x: tensor<2x16x32xf32>, %wg: tensor<2x32xf32>, %bg: tensor<2xf32>, %wqkv: tensor<3x2x32x32xf32>, %bqkv: tensor<3x2x16xf32>, %wo: tensor<2x16x32xf32>, %bo: tensor<2x32xf32>) -> tensor<2x16x32xf32> {
  // expected-error @+1 {{'uoe.smha' op wqkv must be [3, E, d, De] = [3, 2, 32, 16], but it is 'tensor<3x2x32x32xf32>'}}
  %y = uoe.smha %x, router(%wg, %bg), qkv(%wqkv, %bqkv), out(%wo, %bo) heads 4 top 1 union
      : tensor<2x16x32xf32>, tensor<2x32xf32>, tensor<2xf32>, tensor<3x2x32x32xf32>, tensor<3x2x16xf32>, tensor<2x16x32xf32>, tensor<2x32xf32>
  return %y : tensor<2x16x32xf32>
}

// -----

// Tests that bqkv must be [3, E, De].
func.func @smha_c4_b(%x: tensor<2x16x32xf32>, %wg: tensor<2x32xf32>, %bg: tensor<2xf32>, %wqkv: tensor<3x2x32x16xf32>, %bqkv: tensor<3x2x8xf32>, %wo: tensor<2x16x32xf32>, %bo: tensor<2x32xf32>) -> tensor<2x16x32xf32> {
  // expected-error @+1 {{'uoe.smha' op bqkv must be [3, E, De] = [3, 2, 16], but it is 'tensor<3x2x8xf32>'}}
  %y = uoe.smha %x, router(%wg, %bg), qkv(%wqkv, %bqkv), out(%wo, %bo) heads 4 top 1 union
      : tensor<2x16x32xf32>, tensor<2x32xf32>, tensor<2xf32>, tensor<3x2x32x16xf32>, tensor<3x2x8xf32>, tensor<2x16x32xf32>, tensor<2x32xf32>
  return %y : tensor<2x16x32xf32>
}

// -----

// Tests that wo must be [E, De, d].
func.func @smha_c4_c(%x: tensor<2x16x32xf32>, %wg: tensor<2x32xf32>, %bg: tensor<2xf32>, %wqkv: tensor<3x2x32x16xf32>, %bqkv: tensor<3x2x16xf32>, %wo: tensor<2x32x32xf32>, %bo: tensor<2x32xf32>) -> tensor<2x16x32xf32> {
  // expected-error @+1 {{'uoe.smha' op wo must be [E, De, d] = [2, 16, 32], but it is 'tensor<2x32x32xf32>'}}
  %y = uoe.smha %x, router(%wg, %bg), qkv(%wqkv, %bqkv), out(%wo, %bo) heads 4 top 1 union
      : tensor<2x16x32xf32>, tensor<2x32xf32>, tensor<2xf32>, tensor<3x2x32x16xf32>, tensor<3x2x16xf32>, tensor<2x32x32xf32>, tensor<2x32xf32>
  return %y : tensor<2x16x32xf32>
}

// -----

// Tests that bo must be [E, d] (a full-width bias per expert).
func.func @smha_c4_d(%x: tensor<2x16x32xf32>, %wg: tensor<2x32xf32>, %bg: tensor<2xf32>, %wqkv: tensor<3x2x32x16xf32>, %bqkv: tensor<3x2x16xf32>, %wo: tensor<2x16x32xf32>, %bo: tensor<2x16xf32>) -> tensor<2x16x32xf32> {
  // expected-error @+1 {{'uoe.smha' op bo must be [E, d] = [2, 32], but it is 'tensor<2x16xf32>'}}
  %y = uoe.smha %x, router(%wg, %bg), qkv(%wqkv, %bqkv), out(%wo, %bo) heads 4 top 1 union
      : tensor<2x16x32xf32>, tensor<2x32xf32>, tensor<2xf32>, tensor<3x2x32x16xf32>, tensor<3x2x16xf32>, tensor<2x16x32xf32>, tensor<2x16xf32>
  return %y : tensor<2x16x32xf32>
}

// -----

// Tests that top must be at least 1.
func.func @smha_c5(%x: tensor<2x16x32xf32>, %wg: tensor<2x32xf32>, %bg: tensor<2xf32>, %wqkv: tensor<3x2x32x16xf32>, %bqkv: tensor<3x2x16xf32>, %wo: tensor<2x16x32xf32>, %bo: tensor<2x32xf32>) -> tensor<2x16x32xf32> {
  // expected-error @+1 {{'uoe.smha' op top (0) must be between 1 and the number of experts (2)}}
  %y = uoe.smha %x, router(%wg, %bg), qkv(%wqkv, %bqkv), out(%wo, %bo) heads 4 top 0 union
      : tensor<2x16x32xf32>, tensor<2x32xf32>, tensor<2xf32>, tensor<3x2x32x16xf32>, tensor<3x2x16xf32>, tensor<2x16x32xf32>, tensor<2x32xf32>
  return %y : tensor<2x16x32xf32>
}

// -----

// Tests that top must be at most the number of experts.
func.func @smha_c5_b(%x: tensor<2x16x32xf32>, %wg: tensor<2x32xf32>, %bg: tensor<2xf32>, %wqkv: tensor<3x2x32x16xf32>, %bqkv: tensor<3x2x16xf32>, %wo: tensor<2x16x32xf32>, %bo: tensor<2x32xf32>) -> tensor<2x16x32xf32> {
  // expected-error @+1 {{'uoe.smha' op top (3) must be between 1 and the number of experts (2)}}
  %y = uoe.smha %x, router(%wg, %bg), qkv(%wqkv, %bqkv), out(%wo, %bo) heads 4 top 3 gated
      : tensor<2x16x32xf32>, tensor<2x32xf32>, tensor<2xf32>, tensor<3x2x32x16xf32>, tensor<3x2x16xf32>, tensor<2x16x32xf32>, tensor<2x32xf32>
  return %y : tensor<2x16x32xf32>
}

// -----

// Tests that key_padding must be [B, T].
func.func @smha_c6(%x: tensor<2x16x32xf32>, %wg: tensor<2x32xf32>, %bg: tensor<2xf32>, %wqkv: tensor<3x2x32x16xf32>, %bqkv: tensor<3x2x16xf32>, %wo: tensor<2x16x32xf32>, %bo: tensor<2x32xf32>, %kp: tensor<16x2xi1>) -> tensor<2x16x32xf32> {
  // expected-error @+1 {{'uoe.smha' op key_padding must be [B, T] = [2, 16], but it is 'tensor<16x2xi1>'}}
  %y = uoe.smha %x, router(%wg, %bg), qkv(%wqkv, %bqkv), out(%wo, %bo) key_padding %kp heads 4 top 1 union
      : tensor<2x16x32xf32>, tensor<2x32xf32>, tensor<2xf32>, tensor<3x2x32x16xf32>, tensor<3x2x16xf32>, tensor<2x16x32xf32>, tensor<2x32xf32>, tensor<16x2xi1>
  return %y : tensor<2x16x32xf32>
}

// -----

// Tests that the weights must have the element type of the input.
func.func @smha_c7(%x: tensor<2x16x32xf32>, %wg: tensor<2x32xf32>, %bg: tensor<2xf32>, %wqkv: tensor<3x2x32x16xf32>, %bqkv: tensor<3x2x16xf32>, %wo: tensor<2x16x32xf32>, %bo: tensor<2x32xf16>) -> tensor<2x16x32xf32> {
  // expected-error @+1 {{'uoe.smha' op element types differ: input has 'f32' but bo has 'f16'}}
  %y = uoe.smha %x, router(%wg, %bg), qkv(%wqkv, %bqkv), out(%wo, %bo) heads 4 top 1 union
      : tensor<2x16x32xf32>, tensor<2x32xf32>, tensor<2xf32>, tensor<3x2x32x16xf32>, tensor<3x2x16xf32>, tensor<2x16x32xf32>, tensor<2x32xf16>
  return %y : tensor<2x16x32xf32>
}

// -----

// Tests that a key_padding mask that is not i1 is rejected by the operand type constraint.
func.func @smha_mask_type(%x: tensor<2x16x32xf32>, %wg: tensor<2x32xf32>, %bg: tensor<2xf32>, %wqkv: tensor<3x2x32x16xf32>, %bqkv: tensor<3x2x16xf32>, %wo: tensor<2x16x32xf32>, %bo: tensor<2x32xf32>, %kp: tensor<2x16xf32>) -> tensor<2x16x32xf32> {
  // expected-error @+1 {{'uoe.smha' op operand #7 must be ranked tensor of 1-bit signless integer values, but got 'tensor<2x16xf32>'}}
  %y = uoe.smha %x, router(%wg, %bg), qkv(%wqkv, %bqkv), out(%wo, %bo) key_padding %kp heads 4 top 1 union
      : tensor<2x16x32xf32>, tensor<2x32xf32>, tensor<2xf32>, tensor<3x2x32x16xf32>, tensor<3x2x16xf32>, tensor<2x16x32xf32>, tensor<2x32xf32>, tensor<2x16xf32>
  return %y : tensor<2x16x32xf32>
}

// -----

// Tests that the result must have the input's type (generic form: the custom form
// infers it).
func.func @smha_result_type(%x: tensor<2x16x32xf32>, %wg: tensor<2x32xf32>, %bg: tensor<2xf32>, %wqkv: tensor<3x2x32x16xf32>, %bqkv: tensor<3x2x16xf32>, %wo: tensor<2x16x32xf32>, %bo: tensor<2x32xf32>) -> tensor<2x16x32xf16> {
  // expected-error @+1 {{'uoe.smha' op failed to verify that all of {input, result} have same type}}
  %y = "uoe.smha"(%x, %wg, %bg, %wqkv, %bqkv, %wo, %bo) <{heads = 4 : i64, top = 1 : i64, combine = #uoe.combine<union>}>
      : (tensor<2x16x32xf32>, tensor<2x32xf32>, tensor<2xf32>, tensor<3x2x32x16xf32>, tensor<3x2x16xf32>, tensor<2x16x32xf32>, tensor<2x32xf32>) -> tensor<2x16x32xf16>
  return %y : tensor<2x16x32xf16>
}

// -----

// Tests that an unknown rope keyword is a parse error.
func.func @smha_unknown_rope(%x: tensor<2x16x32xf32>, %wg: tensor<2x32xf32>, %bg: tensor<2xf32>, %wqkv: tensor<3x2x32x16xf32>, %bqkv: tensor<3x2x16xf32>, %wo: tensor<2x16x32xf32>, %bo: tensor<2x32xf32>) -> tensor<2x16x32xf32> {
  // expected-error @+1 {{custom op 'uoe.smha' unknown rope 'absolute'}}
  %y = uoe.smha %x, router(%wg, %bg), qkv(%wqkv, %bqkv), out(%wo, %bo) heads 4 top 1 rope absolute union
      : tensor<2x16x32xf32>, tensor<2x32xf32>, tensor<2xf32>, tensor<3x2x32x16xf32>, tensor<3x2x16xf32>, tensor<2x16x32xf32>, tensor<2x32xf32>
  return %y : tensor<2x16x32xf32>
}

// -----

// Tests that a router without experts is rejected (it would leave no head
// group to divide the heads into).
func.func @smha_c2_no_experts(%x: tensor<2x16x32xf32>, %wg: tensor<0x32xf32>, %bg: tensor<0xf32>, %wqkv: tensor<3x0x32x16xf32>, %bqkv: tensor<3x0x16xf32>, %wo: tensor<0x16x32xf32>, %bo: tensor<0x32xf32>) -> tensor<2x16x32xf32> {
  // expected-error @+1 {{'uoe.smha' op wg must have at least one expert, but it is 'tensor<0x32xf32>'}}
  %y = uoe.smha %x, router(%wg, %bg), qkv(%wqkv, %bqkv), out(%wo, %bo) heads 4 top 1 union : tensor<2x16x32xf32>, tensor<0x32xf32>, tensor<0xf32>, tensor<3x0x32x16xf32>, tensor<3x0x16xf32>, tensor<0x16x32xf32>, tensor<0x32xf32>
  return %y : tensor<2x16x32xf32>
}

// -----

// Tests that dynamic router weights are rejected.
func.func @smha_c2_dynamic(%x: tensor<2x16x32xf32>, %wg: tensor<?x32xf32>, %bg: tensor<2xf32>, %wqkv: tensor<3x2x32x16xf32>, %bqkv: tensor<3x2x16xf32>, %wo: tensor<2x16x32xf32>, %bo: tensor<2x32xf32>) -> tensor<2x16x32xf32> {
  // expected-error @+1 {{'uoe.smha' op wg must have a static shape, but it is 'tensor<?x32xf32>'}}
  %y = uoe.smha %x, router(%wg, %bg), qkv(%wqkv, %bqkv), out(%wo, %bo) heads 4 top 1 union : tensor<2x16x32xf32>, tensor<?x32xf32>, tensor<2xf32>, tensor<3x2x32x16xf32>, tensor<3x2x16xf32>, tensor<2x16x32xf32>, tensor<2x32xf32>
  return %y : tensor<2x16x32xf32>
}

// -----

// Tests that causal-safe routing rejects compacted rotary positions.
func.func @smha_c8(%x: tensor<2x16x32xf32>, %wg: tensor<2x32xf32>, %bg: tensor<2xf32>, %wqkv: tensor<3x2x32x16xf32>, %bqkv: tensor<3x2x16xf32>, %wo: tensor<2x16x32xf32>, %bo: tensor<2x32xf32>) -> tensor<2x16x32xf32> {
  // expected-error @+1 {{'uoe.smha' op causal-safe routing cannot use rope compacted: a token's compacted index counts padding slots that depend on later tokens (use original or none)}}
  %y = uoe.smha %x, router(%wg, %bg), qkv(%wqkv, %bqkv), out(%wo, %bo) heads 4 top 1 causal rope compacted union routing causal_safe
      : tensor<2x16x32xf32>, tensor<2x32xf32>, tensor<2xf32>, tensor<3x2x32x16xf32>, tensor<3x2x16xf32>, tensor<2x16x32xf32>, tensor<2x32xf32>
  return %y : tensor<2x16x32xf32>
}
