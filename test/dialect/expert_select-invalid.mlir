// RUN: uoe-opt %s -split-input-file -verify-diagnostics

// Tests that rank-0 probs are rejected: they have no expert axis.
func.func @expert_select_c1(%p: tensor<f32>) -> (tensor<1xi64>, tensor<1xf32>) {
  // expected-error @+1 {{'uoe.expert_select' op probs must have rank at least 1 ([..., E])}}
  %a, %b = uoe.expert_select %p top 1 : tensor<f32> -> tensor<1xi64>, tensor<1xf32>
  return %a, %b : tensor<1xi64>, tensor<1xf32>
}

// -----

// Tests that top must be at least 1.
func.func @expert_select_c2(%p: tensor<64x8xf32>) -> (tensor<64x0xi64>, tensor<64x0xf32>) {
  // expected-error @+1 {{'uoe.expert_select' op top (0) must be between 1 and the number of experts (8)}}
  %a, %b = uoe.expert_select %p top 0 : tensor<64x8xf32> -> tensor<64x0xi64>, tensor<64x0xf32>
  return %a, %b : tensor<64x0xi64>, tensor<64x0xf32>
}

// -----

// Tests that top must be at most E, the last dimension.
func.func @expert_select_c2_b(%p: tensor<64x8xf32>) -> (tensor<64x9xi64>, tensor<64x9xf32>) {
  // expected-error @+1 {{'uoe.expert_select' op top (9) must be between 1 and the number of experts (8)}}
  %a, %b = uoe.expert_select %p top 9 : tensor<64x8xf32> -> tensor<64x9xi64>, tensor<64x9xf32>
  return %a, %b : tensor<64x9xi64>, tensor<64x9xf32>
}

// -----

// Tests that experts must be [..., top].
func.func @expert_select_c3(%p: tensor<64x8xf32>) -> (tensor<64x8xi64>, tensor<64x2xf32>) {
  // expected-error @+1 {{'uoe.expert_select' op experts must be [..., top] = [64, 2], but it is 'tensor<64x8xi64>'}}
  %a, %b = uoe.expert_select %p top 2 renormalize : tensor<64x8xf32> -> tensor<64x8xi64>, tensor<64x2xf32>
  return %a, %b : tensor<64x8xi64>, tensor<64x2xf32>
}

// -----

// Tests that weights must have the leading shape of probs.
func.func @expert_select_c3_b(%p: tensor<64x8xf32>) -> (tensor<64x2xi64>, tensor<32x2xf32>) {
  // expected-error @+1 {{'uoe.expert_select' op weights must be [..., top] = [64, 2], but it is 'tensor<32x2xf32>'}}
  %a, %b = uoe.expert_select %p top 2 renormalize : tensor<64x8xf32> -> tensor<64x2xi64>, tensor<32x2xf32>
  return %a, %b : tensor<64x2xi64>, tensor<32x2xf32>
}

// -----

// Tests that weights must have the element type of probs.
func.func @expert_select_c3_c(%p: tensor<64x8xf32>) -> (tensor<64x2xi64>, tensor<64x2xbf16>) {
  // expected-error @+1 {{'uoe.expert_select' op element types differ: probs has 'f32' but weights has 'bf16'}}
  %a, %b = uoe.expert_select %p top 2 renormalize : tensor<64x8xf32> -> tensor<64x2xi64>, tensor<64x2xbf16>
  return %a, %b : tensor<64x2xi64>, tensor<64x2xbf16>
}

// -----

// Tests that i32 expert indices are rejected by the result type constraint (i64 only).
func.func @expert_select_i32_experts(%p: tensor<64x8xf32>) -> (tensor<64x2xi32>, tensor<64x2xf32>) {
  // expected-error @+1 {{'uoe.expert_select' op result #0 must be ranked tensor of 64-bit signless integer values, but got 'tensor<64x2xi32>'}}
  %a, %b = uoe.expert_select %p top 2 renormalize : tensor<64x8xf32> -> tensor<64x2xi32>, tensor<64x2xf32>
  return %a, %b : tensor<64x2xi32>, tensor<64x2xf32>
}

// -----

// Tests that integer probs are rejected by the operand type constraint.
func.func @expert_select_int_probs(%p: tensor<64x8xi64>) -> (tensor<64x2xi64>, tensor<64x2xf32>) {
  // expected-error @+1 {{'uoe.expert_select' op operand #0 must be ranked tensor of 16-bit float or bfloat16 type or 32-bit float or 64-bit float values, but got 'tensor<64x8xi64>'}}
  %a, %b = uoe.expert_select %p top 2 renormalize : tensor<64x8xi64> -> tensor<64x2xi64>, tensor<64x2xf32>
  return %a, %b : tensor<64x2xi64>, tensor<64x2xf32>
}
