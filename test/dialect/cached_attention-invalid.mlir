// RUN: uoe-opt %s -split-input-file -verify-diagnostics

// Tests that the input must have rank 3 ([B, T, d]).
func.func @cached_attention_c1(%x: tensor<3x32xf32>, %wqkv: tensor<3x32x32xf32>, %bqkv: tensor<3x32xf32>, %wo: tensor<32x32xf32>, %bo: tensor<32xf32>, %s: tensor<2xi64>, %c: i64) {
  // expected-error @+1 {{'uoe.cached_attention' op input must have rank 3 ([B, T, d]), but it is 'tensor<3x32xf32>'}}
  %y = uoe.cached_attention %x, qkv(%wqkv, %bqkv), out(%wo, %bo) start %s cache %c layer %c heads 4
      : tensor<3x32xf32>, tensor<3x32x32xf32>, tensor<3x32xf32>, tensor<32x32xf32>, tensor<32xf32>, tensor<2xi64>
  return
}

// -----

// Tests that heads must divide the width d.
func.func @cached_attention_c2(%x: tensor<2x3x32xf32>, %wqkv: tensor<3x32x32xf32>, %bqkv: tensor<3x32xf32>, %wo: tensor<32x32xf32>, %bo: tensor<32xf32>, %s: tensor<2xi64>, %c: i64) {
  // expected-error @+1 {{'uoe.cached_attention' op heads (5) must be positive and divide the width d (32)}}
  %y = uoe.cached_attention %x, qkv(%wqkv, %bqkv), out(%wo, %bo) start %s cache %c layer %c heads 5
      : tensor<2x3x32xf32>, tensor<3x32x32xf32>, tensor<3x32xf32>, tensor<32x32xf32>, tensor<32xf32>, tensor<2xi64>
  return
}

// -----

// Tests the weights' shapes.
func.func @cached_attention_c3(%x: tensor<2x3x32xf32>, %wqkv: tensor<3x32x16xf32>, %bqkv: tensor<3x32xf32>, %wo: tensor<32x32xf32>, %bo: tensor<32xf32>, %s: tensor<2xi64>, %c: i64) {
  // expected-error @+1 {{'uoe.cached_attention' op wqkv must be [3, d, d] = [3, 32, 32], but it is 'tensor<3x32x16xf32>'}}
  %y = uoe.cached_attention %x, qkv(%wqkv, %bqkv), out(%wo, %bo) start %s cache %c layer %c heads 4
      : tensor<2x3x32xf32>, tensor<3x32x16xf32>, tensor<3x32xf32>, tensor<32x32xf32>, tensor<32xf32>, tensor<2xi64>
  return
}

// -----

// Tests that start has one position per sequence.
func.func @cached_attention_c4(%x: tensor<2x3x32xf32>, %wqkv: tensor<3x32x32xf32>, %bqkv: tensor<3x32xf32>, %wo: tensor<32x32xf32>, %bo: tensor<32xf32>, %s: tensor<3xi64>, %c: i64) {
  // expected-error @+1 {{'uoe.cached_attention' op start must be [B] = [2], but it is 'tensor<3xi64>'}}
  %y = uoe.cached_attention %x, qkv(%wqkv, %bqkv), out(%wo, %bo) start %s cache %c layer %c heads 4
      : tensor<2x3x32xf32>, tensor<3x32x32xf32>, tensor<3x32xf32>, tensor<32x32xf32>, tensor<32xf32>, tensor<3xi64>
  return
}

// -----

// Tests that the element types agree.
func.func @cached_attention_c5(%x: tensor<2x3x32xf32>, %wqkv: tensor<3x32x32xf64>, %bqkv: tensor<3x32xf32>, %wo: tensor<32x32xf32>, %bo: tensor<32xf32>, %s: tensor<2xi64>, %c: i64) {
  // expected-error @+1 {{'uoe.cached_attention' op element types differ: input has 'f32' but wqkv has 'f64'}}
  %y = uoe.cached_attention %x, qkv(%wqkv, %bqkv), out(%wo, %bo) start %s cache %c layer %c heads 4
      : tensor<2x3x32xf32>, tensor<3x32x32xf64>, tensor<3x32xf32>, tensor<32x32xf32>, tensor<32xf32>, tensor<2xi64>
  return
}

// -----

// Tests that kv_attend's operands have rank 3.
func.func @kv_attend_c1(%q: tensor<2x3x4x8xf32>, %s: tensor<2xi64>, %c: i64) {
  // expected-error @+1 {{'uoe.kv_attend' op query must have rank 3 ([R, L, D]), but it is 'tensor<2x3x4x8xf32>'}}
  %o = uoe.kv_attend %q, %q, %q start %s cache %c layer %c heads 2 : tensor<2x3x4x8xf32>, tensor<2xi64>
  return
}

// -----

// Tests that kv_attend's heads divide D.
func.func @kv_attend_c2(%q: tensor<2x3x8xf32>, %s: tensor<2xi64>, %c: i64) {
  // expected-error @+1 {{'uoe.kv_attend' op heads (3) must be positive and divide the width d (8)}}
  %o = uoe.kv_attend %q, %q, %q start %s cache %c layer %c heads 3 : tensor<2x3x8xf32>, tensor<2xi64>
  return
}

// -----

// Tests that kv_attend's start is [B].
func.func @kv_attend_c3(%q: tensor<2x3x8xf32>, %s: tensor<1xi64>, %c: i64) {
  // expected-error @+1 {{'uoe.kv_attend' op start must be [B] = [2], but it is 'tensor<1xi64>'}}
  %o = uoe.kv_attend %q, %q, %q start %s cache %c layer %c heads 2 : tensor<2x3x8xf32>, tensor<1xi64>
  return
}

// -----

// Tests that a selection's rows are a multiple of B.
func.func @kv_attend_c4(%q: tensor<3x?x8xf32>, %s: tensor<2xi64>, %p: tensor<3x?xi64>, %kp: tensor<3x5xi1>, %c: i64) {
  // expected-error @+1 {{'uoe.kv_attend' op rows (3) must be a multiple of B (2)}}
  %o = uoe.kv_attend %q, %q, %q start %s selected(%p, %kp) cache %c layer %c heads 2 : tensor<3x?x8xf32>, tensor<2xi64>, tensor<3x?xi64>, tensor<3x5xi1>
  return
}

// -----

// Tests that a selection's positions are [R, L].
func.func @kv_attend_c4_b(%q: tensor<4x?x8xf32>, %s: tensor<2xi64>, %p: tensor<4x3xi64>, %kp: tensor<4x5xi1>, %c: i64) {
  // expected-error @+1 {{'uoe.kv_attend' op positions must be [R, L] = [4, ?], but it is 'tensor<4x3xi64>'}}
  %o = uoe.kv_attend %q, %q, %q start %s selected(%p, %kp) cache %c layer %c heads 2 : tensor<4x?x8xf32>, tensor<2xi64>, tensor<4x3xi64>, tensor<4x5xi1>
  return
}

// -----

// Tests that decoding takes no compacted rotary positions.
func.func @kv_attend_c5(%q: tensor<2x3x8xf32>, %s: tensor<2xi64>, %c: i64) {
  // expected-error @+1 {{'uoe.kv_attend' op rope 'compacted' counts slots, not positions; decoding takes 'none' or 'original'}}
  %o = uoe.kv_attend %q, %q, %q start %s cache %c layer %c heads 2 rope compacted : tensor<2x3x8xf32>, tensor<2xi64>
  return
}

// -----

// Tests cached_smha's start and key padding.
func.func @cached_smha_c6(%x: tensor<2x1x32xf32>, %wg: tensor<2x32xf32>, %bg: tensor<2xf32>, %wqkv: tensor<3x2x32x16xf32>, %bqkv: tensor<3x2x16xf32>, %wo: tensor<2x16x32xf32>, %bo: tensor<2x32xf32>, %kp: tensor<2x1xi1>, %s: tensor<3xi64>, %c: i64) {
  // expected-error @+1 {{'uoe.cached_smha' op start must be [B] = [2], but it is 'tensor<3xi64>'}}
  %y = uoe.cached_smha %x, router(%wg, %bg), qkv(%wqkv, %bqkv), out(%wo, %bo) key_padding %kp start %s cache %c layer %c heads 4 top 1 union
      : tensor<2x1x32xf32>, tensor<2x32xf32>, tensor<2xf32>, tensor<3x2x32x16xf32>, tensor<3x2x16xf32>, tensor<2x16x32xf32>, tensor<2x32xf32>, tensor<2x1xi1>, tensor<3xi64>
  return
}

// -----

// Tests cached_smha's shared SMHA constraints (the experts split the heads).
func.func @cached_smha_c3(%x: tensor<2x1x32xf32>, %wg: tensor<2x32xf32>, %bg: tensor<2xf32>, %wqkv: tensor<3x2x32x16xf32>, %bqkv: tensor<3x2x16xf32>, %wo: tensor<2x16x32xf32>, %bo: tensor<2x32xf32>, %kp: tensor<2x1xi1>, %s: tensor<2xi64>, %c: i64) {
  // expected-error @+1 {{'uoe.cached_smha' op the 2 experts must split the heads (1) into equal groups}}
  %y = uoe.cached_smha %x, router(%wg, %bg), qkv(%wqkv, %bqkv), out(%wo, %bo) key_padding %kp start %s cache %c layer %c heads 1 top 1 union
      : tensor<2x1x32xf32>, tensor<2x32xf32>, tensor<2xf32>, tensor<3x2x32x16xf32>, tensor<3x2x16xf32>, tensor<2x16x32xf32>, tensor<2x32xf32>, tensor<2x1xi1>, tensor<2xi64>
  return
}
