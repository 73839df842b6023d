// RUN: uoe-opt %s -split-input-file -verify-diagnostics

// Tests that a rank-0 input is rejected: it has no width d (this check has no
// constraint label).
func.func @router_input_rank(%x: tensor<f32>, %wg: tensor<3x32xf32>, %bg: tensor<3xf32>) -> tensor<3xf32> {
  // expected-error @+1 {{'uoe.router' op input must have rank at least 1 ([..., d])}}
  %y = uoe.router %x, %wg, %bg score softmax : tensor<f32>, tensor<3x32xf32>, tensor<3xf32> -> tensor<3xf32>
  return %y : tensor<3xf32>
}

// -----

// Tests that the weight must have rank 2 ([E, d]).
func.func @router_c1(%x: tensor<4x16x32xf32>, %wg: tensor<96xf32>, %bg: tensor<3xf32>) -> tensor<4x16x3xf32> {
  // expected-error @+1 {{'uoe.router' op weight must have rank 2 ([E, d]), but it is 'tensor<96xf32>'}}
  %y = uoe.router %x, %wg, %bg score softmax : tensor<4x16x32xf32>, tensor<96xf32>, tensor<3xf32> -> tensor<4x16x3xf32>
  return %y : tensor<4x16x3xf32>
}

// -----

// Tests that the weight must be [E, d] with d the input width.
func.func @router_c1_b(%x: tensor<4x16x32xf32>, %wg: tensor<3x16xf32>, %bg: tensor<3xf32>) -> tensor<4x16x3xf32> {
  // expected-error @+1 {{'uoe.router' op weight must be [E, d] = [3, 32], but it is 'tensor<3x16xf32>'}}
  %y = uoe.router %x, %wg, %bg score softmax : tensor<4x16x32xf32>, tensor<3x16xf32>, tensor<3xf32> -> tensor<4x16x3xf32>
  return %y : tensor<4x16x3xf32>
}

// -----

// Tests that the bias must be [E].
func.func @router_c2(%x: tensor<4x16x32xf32>, %wg: tensor<3x32xf32>, %bg: tensor<4xf32>) -> tensor<4x16x3xf32> {
  // expected-error @+1 {{'uoe.router' op bias must be [E] = [3], but it is 'tensor<4xf32>'}}
  %y = uoe.router %x, %wg, %bg score softmax : tensor<4x16x32xf32>, tensor<3x32xf32>, tensor<4xf32> -> tensor<4x16x3xf32>
  return %y : tensor<4x16x3xf32>
}

// -----

// Tests that probs must have the input's leading shape and E as its last dimension.
func.func @router_c3(%x: tensor<4x16x32xf32>, %wg: tensor<3x32xf32>, %bg: tensor<3xf32>) -> tensor<4x16x4xf32> {
  // expected-error @+1 {{'uoe.router' op probs must be [..., E] = [4, 16, 3], but it is 'tensor<4x16x4xf32>'}}
  %y = uoe.router %x, %wg, %bg score softmax : tensor<4x16x32xf32>, tensor<3x32xf32>, tensor<3xf32> -> tensor<4x16x4xf32>
  return %y : tensor<4x16x4xf32>
}

// -----

// Tests that probs must keep the input's rank.
func.func @router_c3_b(%x: tensor<4x16x32xf32>, %wg: tensor<3x32xf32>, %bg: tensor<3xf32>) -> tensor<64x3xf32> {
  // expected-error @+1 {{'uoe.router' op probs must be [..., E] = [4, 16, 3], but it is 'tensor<64x3xf32>'}}
  %y = uoe.router %x, %wg, %bg score softmax : tensor<4x16x32xf32>, tensor<3x32xf32>, tensor<3xf32> -> tensor<64x3xf32>
  return %y : tensor<64x3xf32>
}

// -----

// Tests that the weight must have the element type of the input.
func.func @router_c4(%x: tensor<4x16x32xf32>, %wg: tensor<3x32xf16>, %bg: tensor<3xf16>) -> tensor<4x16x3xf32> {
  // expected-error @+1 {{'uoe.router' op element types differ: input has 'f32' but weight has 'f16'}}
  %y = uoe.router %x, %wg, %bg score softmax : tensor<4x16x32xf32>, tensor<3x32xf16>, tensor<3xf16> -> tensor<4x16x3xf32>
  return %y : tensor<4x16x3xf32>
}

// -----

// Tests that probs must have the element type of the input.
func.func @router_c4_b(%x: tensor<4x16x32xf32>, %wg: tensor<3x32xf32>, %bg: tensor<3xf32>) -> tensor<4x16x3xf64> {
  // expected-error @+1 {{'uoe.router' op element types differ: input has 'f32' but probs has 'f64'}}
  %y = uoe.router %x, %wg, %bg score softmax : tensor<4x16x32xf32>, tensor<3x32xf32>, tensor<3xf32> -> tensor<4x16x3xf64>
  return %y : tensor<4x16x3xf64>
}

// -----

// Tests that integer probs are rejected by the result type constraint.
func.func @router_int_probs(%x: tensor<4x16x32xf32>, %wg: tensor<3x32xf32>, %bg: tensor<3xf32>) -> tensor<4x16x3xi32> {
  // expected-error @+1 {{'uoe.router' op result #0 must be ranked tensor of 16-bit float or bfloat16 type or 32-bit float or 64-bit float values, but got 'tensor<4x16x3xi32>'}}
  %y = uoe.router %x, %wg, %bg score softmax : tensor<4x16x32xf32>, tensor<3x32xf32>, tensor<3xf32> -> tensor<4x16x3xi32>
  return %y : tensor<4x16x3xi32>
}

// -----

// Tests that an unknown score keyword is a parse error.
func.func @router_unknown_score(%x: tensor<4x16x32xf32>, %wg: tensor<3x32xf32>, %bg: tensor<3xf32>) -> tensor<4x16x3xf32> {
  // expected-error @+1 {{custom op 'uoe.router' unknown score 'softmin'}}
  %y = uoe.router %x, %wg, %bg score softmin : tensor<4x16x32xf32>, tensor<3x32xf32>, tensor<3xf32> -> tensor<4x16x3xf32>
  return %y : tensor<4x16x3xf32>
}
