// RUN: uoe-opt %s -split-input-file -verify-diagnostics

// Tests that the input must have rank 3 ([B, T, d]).
func.func @attention_c1(%x: tensor<16x32xf32>, %wqkv: tensor<3x32x32xf32>, %bqkv: tensor<3x32xf32>, %wo: tensor<32x32xf32>, %bo: tensor<32xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{'uoe.attention' op input must have rank 3 ([B, T, d]), but it is 'tensor<16x32xf32>'}}
  %y = uoe.attention %x, qkv(%wqkv, %bqkv), out(%wo, %bo) heads 4
      : tensor<16x32xf32>, tensor<3x32x32xf32>, tensor<3x32xf32>, tensor<32x32xf32>, tensor<32xf32>
  return %y : tensor<16x32xf32>
}

// -----

// Tests that heads must be positive.
func.func @attention_c2(%x: tensor<2x16x32xf32>, %wqkv: tensor<3x32x32xf32>, %bqkv: tensor<3x32xf32>, %wo: tensor<32x32xf32>, %bo: tensor<32xf32>) -> tensor<2x16x32xf32> {
  // expected-error @+1 {{'uoe.attention' op heads (0) must be positive and divide the width d (32)}}
  %y = uoe.attention %x, qkv(%wqkv, %bqkv), out(%wo, %bo) heads 0
      : tensor<2x16x32xf32>, tensor<3x32x32xf32>, tensor<3x32xf32>, tensor<32x32xf32>, tensor<32xf32>
  return %y : tensor<2x16x32xf32>
}

// -----

// Tests that heads must divide the width d.
func.func @attention_c2_b(%x: tensor<2x16x32xf32>, %wqkv: tensor<3x32x32xf32>, %bqkv: tensor<3x32xf32>, %wo: tensor<32x32xf32>, %bo: tensor<32xf32>) -> tensor<2x16x32xf32> {
  // expected-error @+1 {{'uoe.attention' op heads (3) must be positive and divide the width d (32)}}
  %y = uoe.attention %x, qkv(%wqkv, %bqkv), out(%wo, %bo) heads 3
      : tensor<2x16x32xf32>, tensor<3x32x32xf32>, tensor<3x32xf32>, tensor<32x32xf32>, tensor<32xf32>
  return %y : tensor<2x16x32xf32>
}

// -----

// Tests that rotary embedding needs an even head width (d / heads = 1).
func.func @attention_c2_c(%x: tensor<2x16x32xf32>, %wqkv: tensor<3x32x32xf32>, %bqkv: tensor<3x32xf32>, %wo: tensor<32x32xf32>, %bo: tensor<32xf32>) -> tensor<2x16x32xf32> {
  // expected-error @+1 {{'uoe.attention' op rotary embedding needs an even head width, but d / heads = 1}}
  %y = uoe.attention %x, qkv(%wqkv, %bqkv), out(%wo, %bo) heads 32 rope original
      : tensor<2x16x32xf32>, tensor<3x32x32xf32>, tensor<3x32xf32>, tensor<32x32xf32>, tensor<32xf32>
  return %y : tensor<2x16x32xf32>
}

// -----

// Tests that wqkv must be [3, d, d].
func.func @attention_c3(%x: tensor<2x16x32xf32>, %wqkv: tensor<3x32x16xf32>, %bqkv: tensor<3x32xf32>, %wo: tensor<32x32xf32>, %bo: tensor<32xf32>) -> tensor<2x16x32xf32> {
  // expected-error @+1 {{'uoe.attention' op wqkv must be [3, d, d] = [3, 32, 32], but it is 'tensor<3x32x16xf32>'}}
  %y = uoe.attention %x, qkv(%wqkv, %bqkv), out(%wo, %bo) heads 4
      : tensor<2x16x32xf32>, tensor<3x32x16xf32>, tensor<3x32xf32>, tensor<32x32xf32>, tensor<32xf32>
  return %y : tensor<2x16x32xf32>
}

// -----

// Tests that bqkv must be [3, d].
func.func @attention_c3_b(%x: tensor<2x16x32xf32>, %wqkv: tensor<3x32x32xf32>, %bqkv: tensor<32xf32>, %wo: tensor<32x32xf32>, %bo: tensor<32xf32>) -> tensor<2x16x32xf32> {
  // expected-error @+1 {{'uoe.attention' op bqkv must be [3, d] = [3, 32], but it is 'tensor<32xf32>'}}
  %y = uoe.attention %x, qkv(%wqkv, %bqkv), out(%wo, %bo) heads 4
      : tensor<2x16x32xf32>, tensor<3x32x32xf32>, tensor<32xf32>, tensor<32x32xf32>, tensor<32xf32>
  return %y : tensor<2x16x32xf32>
}

// -----

// Tests that wo must be [d, d].
func.func @attention_c3_c(%x: tensor<2x16x32xf32>, %wqkv: tensor<3x32x32xf32>, %bqkv: tensor<3x32xf32>, %wo: tensor<32x16xf32>, %bo: tensor<32xf32>) -> tensor<2x16x32xf32> {
  // expected-error @+1 {{'uoe.attention' op wo must be [d, d] = [32, 32], but it is 'tensor<32x16xf32>'}}
  %y = uoe.attention %x, qkv(%wqkv, %bqkv), out(%wo, %bo) heads 4
      : tensor<2x16x32xf32>, tensor<3x32x32xf32>, tensor<3x32xf32>, tensor<32x16xf32>, tensor<32xf32>
  return %y : tensor<2x16x32xf32>
}

// -----

// Tests that bo must be [d].
func.func @attention_c3_d(%x: tensor<2x16x32xf32>, %wqkv: tensor<3x32x32xf32>, %bqkv: tensor<3x32xf32>, %wo: tensor<32x32xf32>, %bo: tensor<16xf32>) -> tensor<2x16x32xf32> {
  // expected-error @+1 {{'uoe.attention' op bo must be [d] = [32], but it is 'tensor<16xf32>'}}
  %y = uoe.attention %x, qkv(%wqkv, %bqkv), out(%wo, %bo) heads 4
      : tensor<2x16x32xf32>, tensor<3x32x32xf32>, tensor<3x32xf32>, tensor<32x32xf32>, tensor<16xf32>
  return %y : tensor<2x16x32xf32>
}

// -----

// Tests that key_padding must be [B, T].
func.func @attention_c4(%x: tensor<2x16x32xf32>, %wqkv: tensor<3x32x32xf32>, %bqkv: tensor<3x32xf32>, %wo: tensor<32x32xf32>, %bo: tensor<32xf32>, %kp: tensor<2x8xi1>) -> tensor<2x16x32xf32> {
  // expected-error @+1 {{'uoe.attention' op key_padding must be [B, T] = [2, 16], but it is 'tensor<2x8xi1>'}}
  %y = uoe.attention %x, qkv(%wqkv, %bqkv), out(%wo, %bo) key_padding %kp heads 4
      : tensor<2x16x32xf32>, tensor<3x32x32xf32>, tensor<3x32xf32>, tensor<32x32xf32>, tensor<32xf32>, tensor<2x8xi1>
  return %y : tensor<2x16x32xf32>
}

// -----

// Tests that dense attention rejects rope compacted.
func.func @attention_c5(%x: tensor<2x16x32xf32>, %wqkv: tensor<3x32x32xf32>, %bqkv: tensor<3x32xf32>, %wo: tensor<32x32xf32>, %bo: tensor<32xf32>) -> tensor<2x16x32xf32> {
  // expected-error @+1 {{'uoe.attention' op rope 'compacted' needs selected tokens; dense attention takes 'none' or 'original'}}
  %y = uoe.attention %x, qkv(%wqkv, %bqkv), out(%wo, %bo) heads 4 rope compacted
      : tensor<2x16x32xf32>, tensor<3x32x32xf32>, tensor<3x32xf32>, tensor<32x32xf32>, tensor<32xf32>
  return %y : tensor<2x16x32xf32>
}

// -----

// Tests that the weights must have the element type of the input.
func.func @attention_c6(%x: tensor<2x16x32xf32>, %wqkv: tensor<3x32x32xf32>, %bqkv: tensor<3x32xf32>, %wo: tensor<32x32xbf16>, %bo: tensor<32xf32>) -> tensor<2x16x32xf32> {
  // expected-error @+1 {{'uoe.attention' op element types differ: input has 'f32' but wo has 'bf16'}}
  %y = uoe.attention %x, qkv(%wqkv, %bqkv), out(%wo, %bo) heads 4
      : tensor<2x16x32xf32>, tensor<3x32x32xf32>, tensor<3x32xf32>, tensor<32x32xbf16>, tensor<32xf32>
  return %y : tensor<2x16x32xf32>
}

// -----

// Tests that a key_padding mask that is not i1 is rejected by the operand type constraint.
func.func @attention_mask_type(%x: tensor<2x16x32xf32>, %wqkv: tensor<3x32x32xf32>, %bqkv: tensor<3x32xf32>, %wo: tensor<32x32xf32>, %bo: tensor<32xf32>, %kp: tensor<2x16xi8>) -> tensor<2x16x32xf32> {
  // expected-error @+1 {{'uoe.attention' op operand #5 must be ranked tensor of 1-bit signless integer values, but got 'tensor<2x16xi8>'}}
  %y = uoe.attention %x, qkv(%wqkv, %bqkv), out(%wo, %bo) key_padding %kp heads 4
      : tensor<2x16x32xf32>, tensor<3x32x32xf32>, tensor<3x32xf32>, tensor<32x32xf32>, tensor<32xf32>, tensor<2x16xi8>
  return %y : tensor<2x16x32xf32>
}

// -----

// Tests that the result must have the input's type (generic form: the custom form
// infers it).
func.func @attention_result_type(%x: tensor<2x16x32xf32>, %wqkv: tensor<3x32x32xf32>, %bqkv: tensor<3x32xf32>, %wo: tensor<32x32xf32>, %bo: tensor<32xf32>) -> tensor<2x16x16xf32> {
  // expected-error @+1 {{'uoe.attention' op failed to verify that all of {input, result} have same type}}
  %y = "uoe.attention"(%x, %wqkv, %bqkv, %wo, %bo) <{heads = 4 : i64}>
      : (tensor<2x16x32xf32>, tensor<3x32x32xf32>, tensor<3x32xf32>, tensor<32x32xf32>, tensor<32xf32>) -> tensor<2x16x16xf32>
  return %y : tensor<2x16x16xf32>
}

// -----

// Tests that heads is a required attribute (generic form).
func.func @attention_missing_heads(%x: tensor<2x16x32xf32>, %wqkv: tensor<3x32x32xf32>, %bqkv: tensor<3x32xf32>, %wo: tensor<32x32xf32>, %bo: tensor<32xf32>) -> tensor<2x16x32xf32> {
  // expected-error @+1 {{'uoe.attention' op requires attribute 'heads'}}
  %y = "uoe.attention"(%x, %wqkv, %bqkv, %wo, %bo) <{causal}>
      : (tensor<2x16x32xf32>, tensor<3x32x32xf32>, tensor<3x32xf32>, tensor<32x32xf32>, tensor<32xf32>) -> tensor<2x16x32xf32>
  return %y : tensor<2x16x32xf32>
}

// -----

// Tests that an unknown rope keyword is a parse error.
func.func @attention_unknown_rope(%x: tensor<2x16x32xf32>, %wqkv: tensor<3x32x32xf32>, %bqkv: tensor<3x32xf32>, %wo: tensor<32x32xf32>, %bo: tensor<32xf32>) -> tensor<2x16x32xf32> {
  // expected-error @+1 {{custom op 'uoe.attention' unknown rope 'shifted'}}
  %y = uoe.attention %x, qkv(%wqkv, %bqkv), out(%wo, %bo) heads 4 rope shifted
      : tensor<2x16x32xf32>, tensor<3x32x32xf32>, tensor<3x32xf32>, tensor<32x32xf32>, tensor<32xf32>
  return %y : tensor<2x16x32xf32>
}
