// RUN: uoe-opt %s -split-input-file -verify-diagnostics

// Tests that rank-0 probs are rejected: they have no expert axis (this check has
// no constraint label).
func.func @token_choice_input_rank(%p: tensor<f32>) -> tensor<f32> {
  // expected-error @+1 {{'uoe.token_choice' op probs must have rank at least 1 ([..., E])}}
  %y = uoe.token_choice %p top 1 : tensor<f32>
  return %y : tensor<f32>
}

// -----

// Tests that top must be at least 1.
func.func @token_choice_c1(%p: tensor<4x16x3xf32>) -> tensor<4x16x3xf32> {
  // expected-error @+1 {{'uoe.token_choice' op top (0) must be between 1 and the number of experts (3)}}
  %y = uoe.token_choice %p top 0 : tensor<4x16x3xf32>
  return %y : tensor<4x16x3xf32>
}

// -----

// Tests that top must be at most E, the last dimension.
func.func @token_choice_c1_b(%p: tensor<4x16x3xf32>) -> tensor<4x16x3xf32> {
  // expected-error @+1 {{'uoe.token_choice' op top (4) must be between 1 and the number of experts (3)}}
  %y = uoe.token_choice %p top 4 renormalize : tensor<4x16x3xf32>
  return %y : tensor<4x16x3xf32>
}

// -----

// Tests that the normalisation axis must not be the expert (last) axis.
func.func @token_choice_c2(%p: tensor<4x16x3xf32>) -> tensor<4x16x3xf32> {
  // expected-error @+1 {{'uoe.token_choice' op normalisation axis (2) must be a leading axis of probs, in [0, 2)}}
  %y = uoe.token_choice %p top 2 normalize axis 2 eps 1.0e-6 capacity 1.0 : tensor<4x16x3xf32>
  return %y : tensor<4x16x3xf32>
}

// -----

// Tests that a negative normalisation axis is rejected.
func.func @token_choice_c2_b(%p: tensor<4x16x3xf32>) -> tensor<4x16x3xf32> {
  // expected-error @+1 {{'uoe.token_choice' op normalisation axis (-1) must be a leading axis of probs, in [0, 2)}}
  %y = uoe.token_choice %p top 2 normalize axis -1 eps 1.0e-6 capacity 1.0 : tensor<4x16x3xf32>
  return %y : tensor<4x16x3xf32>
}

// -----

// Tests that the normalisation eps must not be negative.
func.func @token_choice_c3(%p: tensor<4x16x3xf32>) -> tensor<4x16x3xf32> {
  // expected-error @+1 {{'uoe.token_choice' op normalisation needs eps >= 0 and capacity > 0, but eps = -1.000000e-06 and capacity = 1.000000e+00}}
  %y = uoe.token_choice %p top 2 normalize axis 0 eps -1.0e-6 capacity 1.0 : tensor<4x16x3xf32>
  return %y : tensor<4x16x3xf32>
}

// -----

// Tests that the normalisation capacity must be positive.
func.func @token_choice_c3_b(%p: tensor<4x16x3xf32>) -> tensor<4x16x3xf32> {
  // expected-error @+1 {{'uoe.token_choice' op normalisation needs eps >= 0 and capacity > 0, but eps = 1.000000e-06 and capacity = 0.000000e+00}}
  %y = uoe.token_choice %p top 2 normalize axis 0 eps 1.0e-6 capacity 0.0 : tensor<4x16x3xf32>
  return %y : tensor<4x16x3xf32>
}

// -----

// Tests that integer probs are rejected by the operand type constraint.
func.func @token_choice_int_probs(%p: tensor<4x16x3xi64>) -> tensor<4x16x3xi64> {
  // expected-error @+1 {{'uoe.token_choice' op operand #0 must be ranked tensor of 16-bit float or bfloat16 type or 32-bit float or 64-bit float values, but got 'tensor<4x16x3xi64>'}}
  %y = uoe.token_choice %p top 2 : tensor<4x16x3xi64>
  return %y : tensor<4x16x3xi64>
}

// -----

// Tests that the result must have the type of probs (generic form: the custom form
// infers it).
func.func @token_choice_result_type(%p: tensor<4x16x3xf32>) -> tensor<4x16x3xf16> {
  // expected-error @+1 {{'uoe.token_choice' op failed to verify that all of {probs, result} have same type}}
  %y = "uoe.token_choice"(%p) <{top = 2 : i64}> : (tensor<4x16x3xf32>) -> tensor<4x16x3xf16>
  return %y : tensor<4x16x3xf16>
}

// -----

// Tests that top must be an integer attribute (generic form).
func.func @token_choice_top_type(%p: tensor<4x16x3xf32>) -> tensor<4x16x3xf32> {
  // expected-error @+1 {{invalid properties {top = 2.000000e+00 : f32} for op uoe.token_choice: Invalid attribute `top` in property conversion: 2.000000e+00 : f32}}
  %y = "uoe.token_choice"(%p) <{top = 2.0 : f32}> : (tensor<4x16x3xf32>) -> tensor<4x16x3xf32>
  return %y : tensor<4x16x3xf32>
}

// -----

// Tests that a dynamic expert count is rejected.
func.func @token_choice_c1_dynamic(%p: tensor<4x16x?xf32>) -> tensor<4x16x?xf32> {
  // expected-error @+1 {{'uoe.token_choice' op probs must have a static shape, but it is 'tensor<4x16x?xf32>'}}
  %s = uoe.token_choice %p top 2 : tensor<4x16x?xf32>
  return %s : tensor<4x16x?xf32>
}
