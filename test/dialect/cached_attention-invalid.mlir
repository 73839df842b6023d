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
  // expected-error @+1 {{'uoe.kv_attend' op query must have rank 3 ([B, T, D]), but it is 'tensor<2x3x4x8xf32>'}}
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
