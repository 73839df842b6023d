// RUN: uoe-opt %s -split-input-file -verify-diagnostics

// Tests that top must be between 1 and E (the forward's token_choice_c1).
func.func @token_choice_c1(%p: tensor<4x16x3xf32>) -> tensor<4x16x3xf32> {
  // expected-error @+1 {{'uoe.token_choice_grad' op top (4) must be between 1 and the number of experts (3)}}
  %dp = uoe.token_choice_grad %p, %p top 4 : tensor<4x16x3xf32>
  return %dp : tensor<4x16x3xf32>
}

// -----

// Tests that the normalisation axis must be a leading axis (token_choice_c2).
func.func @token_choice_c2(%p: tensor<4x16x3xf32>) -> tensor<4x16x3xf32> {
  // expected-error @+1 {{'uoe.token_choice_grad' op normalisation axis (2) must be a leading axis of probs, in [0, 2)}}
  %dp = uoe.token_choice_grad %p, %p top 2 normalize axis 2 eps 1.0e-6 capacity 1.0 : tensor<4x16x3xf32>
  return %dp : tensor<4x16x3xf32>
}

// -----

// Tests that capacity must be positive (token_choice_c3).
func.func @token_choice_c3(%p: tensor<4x16x3xf32>) -> tensor<4x16x3xf32> {
  // expected-error @+1 {{'uoe.token_choice_grad' op normalisation needs eps >= 0 and capacity > 0, but eps = 1.000000e-06 and capacity = -1.000000e+00}}
  %dp = uoe.token_choice_grad %p, %p top 2 normalize axis 0 eps 1.0e-6 capacity -1.0 : tensor<4x16x3xf32>
  return %dp : tensor<4x16x3xf32>
}

// -----

// Tests that the result gradient must have the type of probs (generic form).
func.func @token_choice_grad_result_grad_type(%p: tensor<4x16x3xf32>, %dg: tensor<4x16x3xf64>) -> tensor<4x16x3xf32> {
  // expected-error @+1 {{'uoe.token_choice_grad' op failed to verify that all of {probs, result_grad, probs_grad} have same type}}
  %dp = "uoe.token_choice_grad"(%p, %dg) <{top = 2 : i64}> : (tensor<4x16x3xf32>, tensor<4x16x3xf64>) -> tensor<4x16x3xf32>
  return %dp : tensor<4x16x3xf32>
}
