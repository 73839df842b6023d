// RUN: uoe-opt %s -split-input-file -verify-diagnostics

// Tests that a rank-0 input is rejected: it has no last dimension.
func.func @activation_c1(%z: tensor<f32>) -> tensor<f32> {
  // expected-error @+1 {{'uoe.activation' op input must have rank at least 1 ([..., N]), but it is 'tensor<f32>'}}
  %h = uoe.activation %z gelu : tensor<f32> -> tensor<f32>
  return %h : tensor<f32>
}

// -----

// Tests that the result must have the shape of the input.
func.func @activation_c2(%z: tensor<4x16xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{'uoe.activation' op result must be [..., N] = [4, 16], but it is 'tensor<4x8xf32>'}}
  %h = uoe.activation %z gelu : tensor<4x16xf32> -> tensor<4x8xf32>
  return %h : tensor<4x8xf32>
}

// -----

// Tests that swiglu halves the last dimension of the result.
func.func @activation_c2_b(%z: tensor<4x16xf32>) -> tensor<4x16xf32> {
  // expected-error @+1 {{'uoe.activation' op result must be [..., N / 2] = [4, 8], but it is 'tensor<4x16xf32>'}}
  %h = uoe.activation %z swiglu : tensor<4x16xf32> -> tensor<4x16xf32>
  return %h : tensor<4x16xf32>
}

// -----

// Tests that swiglu needs an even last dimension.
func.func @activation_c2_c(%z: tensor<4x15xf32>) -> tensor<4x7xf32> {
  // expected-error @+1 {{'uoe.activation' op swiglu needs an even width of input ([gate | up] halves), but it is 15}}
  %h = uoe.activation %z swiglu : tensor<4x15xf32> -> tensor<4x7xf32>
  return %h : tensor<4x7xf32>
}

// -----

// Tests that swiglu needs a static last dimension.
func.func @activation_c2_d(%z: tensor<4x?xf32>) -> tensor<4x?xf32> {
  // expected-error @+1 {{'uoe.activation' op swiglu needs a static last dimension of input ([gate | up] halves), but it is 'tensor<4x?xf32>'}}
  %h = uoe.activation %z swiglu : tensor<4x?xf32> -> tensor<4x?xf32>
  return %h : tensor<4x?xf32>
}

// -----

// Tests that the result must have the element type of the input.
func.func @activation_c2_e(%z: tensor<4x16xf32>) -> tensor<4x16xf64> {
  // expected-error @+1 {{'uoe.activation' op element types differ: input has 'f32' but result has 'f64'}}
  %h = uoe.activation %z relu : tensor<4x16xf32> -> tensor<4x16xf64>
  return %h : tensor<4x16xf64>
}
