// RUN: uoe-opt %s -split-input-file -verify-diagnostics

// Tests that a rank-0 input is rejected (this check has no constraint label).
func.func @layer_norm_grad_input_rank(%x: tensor<f32>, %gamma: tensor<32xf32>, %dy: tensor<f32>) -> tensor<f32> {
  // expected-error @+1 {{'uoe.layer_norm_grad' op input must have rank at least 1 ([..., d])}}
  %dx, %dg, %db = uoe.layer_norm_grad %x, %gamma, %dy eps 1.0e-5 : tensor<f32>, tensor<32xf32>
  return %dx : tensor<f32>
}

// -----

// Tests that gamma must be [d].
func.func @layer_norm_grad_c1(%x: tensor<2x16x32xf32>, %gamma: tensor<16xf32>, %dy: tensor<2x16x32xf32>) -> tensor<2x16x32xf32> {
  // expected-error @+1 {{'uoe.layer_norm_grad' op gamma must be [d] = [32], but it is 'tensor<16xf32>'}}
  %dx, %dg, %db = uoe.layer_norm_grad %x, %gamma, %dy eps 1.0e-5 : tensor<2x16x32xf32>, tensor<16xf32>
  return %dx : tensor<2x16x32xf32>
}

// -----

// Tests that eps must be positive.
func.func @layer_norm_grad_c2(%x: tensor<2x16x32xf32>, %gamma: tensor<32xf32>, %dy: tensor<2x16x32xf32>) -> tensor<2x16x32xf32> {
  // expected-error @+1 {{'uoe.layer_norm_grad' op eps (0.000000e+00) must be positive}}
  %dx, %dg, %db = uoe.layer_norm_grad %x, %gamma, %dy eps 0.0 : tensor<2x16x32xf32>, tensor<32xf32>
  return %dx : tensor<2x16x32xf32>
}

// -----

// Tests that gamma must have the input's element type (no label: the
// forward's layer_norm_c3).
func.func @layer_norm_grad_element_type(%x: tensor<2x16x32xf32>, %gamma: tensor<32xf16>, %dy: tensor<2x16x32xf32>) -> tensor<2x16x32xf32> {
  // expected-error @+1 {{'uoe.layer_norm_grad' op element types differ: input has 'f32' but gamma has 'f16'}}
  %dx, %dg, %db = uoe.layer_norm_grad %x, %gamma, %dy eps 1.0e-5 : tensor<2x16x32xf32>, tensor<32xf16>
  return %dx : tensor<2x16x32xf32>
}

// -----

// Tests that the result gradient must have the input's type (generic form).
func.func @layer_norm_grad_result_grad_type(%x: tensor<2x16x32xf32>, %gamma: tensor<32xf32>, %dy: tensor<2x16xf32>) -> tensor<2x16x32xf32> {
  // expected-error @+1 {{'uoe.layer_norm_grad' op failed to verify that all of {input, result_grad, input_grad} have same type}}
  %dx, %dg, %db = "uoe.layer_norm_grad"(%x, %gamma, %dy) <{eps = 1.0e-5 : f64}>
      : (tensor<2x16x32xf32>, tensor<32xf32>, tensor<2x16xf32>) -> (tensor<2x16x32xf32>, tensor<32xf32>, tensor<32xf32>)
  return %dx : tensor<2x16x32xf32>
}
