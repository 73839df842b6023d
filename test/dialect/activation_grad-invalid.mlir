// RUN: uoe-opt %s -split-input-file -verify-diagnostics

// Tests that a rank-0 input is rejected (this check has no constraint label).
func.func @activation_grad_input_rank(%z: tensor<f32>, %dh: tensor<f32>) -> tensor<f32> {
  // expected-error @+1 {{'uoe.activation_grad' op input must have rank at least 1 ([..., N]), but it is 'tensor<f32>'}}
  %dz = uoe.activation_grad %z, %dh gelu : tensor<f32>, tensor<f32> -> tensor<f32>
  return %dz : tensor<f32>
}

// -----

// Tests that the result gradient must have the shape of the input.
func.func @activation_grad_c1(%z: tensor<4x16xf32>, %dh: tensor<4x8xf32>) -> tensor<4x16xf32> {
  // expected-error @+1 {{'uoe.activation_grad' op result_grad must be [..., N] = [4, 16], but it is 'tensor<4x8xf32>'}}
  %dz = uoe.activation_grad %z, %dh silu : tensor<4x16xf32>, tensor<4x8xf32> -> tensor<4x16xf32>
  return %dz : tensor<4x16xf32>
}

// -----

// Tests that with swiglu the result gradient has half the input's width.
func.func @activation_grad_c1_b(%z: tensor<4x16xf32>, %dh: tensor<4x16xf32>) -> tensor<4x16xf32> {
  // expected-error @+1 {{'uoe.activation_grad' op result_grad must be [..., N / 2] = [4, 8], but it is 'tensor<4x16xf32>'}}
  %dz = uoe.activation_grad %z, %dh swiglu : tensor<4x16xf32>, tensor<4x16xf32> -> tensor<4x16xf32>
  return %dz : tensor<4x16xf32>
}

// -----

// Tests that the result gradient must have the input's element type.
func.func @activation_grad_c1_c(%z: tensor<4x16xf32>, %dh: tensor<4x16xf16>) -> tensor<4x16xf32> {
  // expected-error @+1 {{'uoe.activation_grad' op element types differ: input has 'f32' but result_grad has 'f16'}}
  %dz = uoe.activation_grad %z, %dh relu : tensor<4x16xf32>, tensor<4x16xf16> -> tensor<4x16xf32>
  return %dz : tensor<4x16xf32>
}

// -----

// Tests that the input gradient must have the input's type.
func.func @activation_grad_result_type(%z: tensor<4x16xf32>, %dh: tensor<4x16xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{'uoe.activation_grad' op failed to verify that all of {input, input_grad} have same type}}
  %dz = uoe.activation_grad %z, %dh relu : tensor<4x16xf32>, tensor<4x16xf32> -> tensor<4x8xf32>
  return %dz : tensor<4x8xf32>
}
