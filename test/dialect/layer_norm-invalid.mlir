// RUN: uoe-opt %s -split-input-file -verify-diagnostics

// Tests that a rank-0 input is rejected: it has no last dimension d (this check
// has no constraint label).
func.func @layer_norm_input_rank(%x: tensor<f32>, %gamma: tensor<32xf32>, %beta: tensor<32xf32>) -> tensor<f32> {
  // expected-error @+1 {{'uoe.layer_norm' op input must have rank at least 1 ([..., d])}}
  %y = uoe.layer_norm %x, %gamma, %beta eps 1.0e-5 : tensor<f32>, tensor<32xf32>, tensor<32xf32>
  return %y : tensor<f32>
}

// -----

// Tests that gamma must be [d].
func.func @layer_norm_c1(%x: tensor<2x16x32xf32>, %gamma: tensor<16xf32>, %beta: tensor<32xf32>) -> tensor<2x16x32xf32> {
  // expected-error @+1 {{'uoe.layer_norm' op gamma must be [d] = [32], but it is 'tensor<16xf32>'}}
  %y = uoe.layer_norm %x, %gamma, %beta eps 1.0e-5 : tensor<2x16x32xf32>, tensor<16xf32>, tensor<32xf32>
  return %y : tensor<2x16x32xf32>
}

// -----

// Tests that beta must be [d] too.
func.func @layer_norm_c1_b(%x: tensor<2x16x32xf32>, %gamma: tensor<32xf32>, %beta: tensor<1x32xf32>) -> tensor<2x16x32xf32> {
  // expected-error @+1 {{'uoe.layer_norm' op beta must be [d] = [32], but it is 'tensor<1x32xf32>'}}
  %y = uoe.layer_norm %x, %gamma, %beta eps 1.0e-5 : tensor<2x16x32xf32>, tensor<32xf32>, tensor<1x32xf32>
  return %y : tensor<2x16x32xf32>
}

// -----

// Tests that eps must be positive, not 0.
func.func @layer_norm_c2(%x: tensor<2x16x32xf32>, %gamma: tensor<32xf32>, %beta: tensor<32xf32>) -> tensor<2x16x32xf32> {
  // expected-error @+1 {{'uoe.layer_norm' op eps (0.000000e+00) must be positive}}
  %y = uoe.layer_norm %x, %gamma, %beta eps 0.0 : tensor<2x16x32xf32>, tensor<32xf32>, tensor<32xf32>
  return %y : tensor<2x16x32xf32>
}

// -----

// Tests that a negative eps is rejected.
func.func @layer_norm_c2_b(%x: tensor<2x16x32xf32>, %gamma: tensor<32xf32>, %beta: tensor<32xf32>) -> tensor<2x16x32xf32> {
  // expected-error @+1 {{'uoe.layer_norm' op eps (-1.000000e-05) must be positive}}
  %y = uoe.layer_norm %x, %gamma, %beta eps -1.0e-5 : tensor<2x16x32xf32>, tensor<32xf32>, tensor<32xf32>
  return %y : tensor<2x16x32xf32>
}

// -----

// Tests that gamma must have the element type of the input.
func.func @layer_norm_c3(%x: tensor<2x16x32xf32>, %gamma: tensor<32xf16>, %beta: tensor<32xf32>) -> tensor<2x16x32xf32> {
  // expected-error @+1 {{'uoe.layer_norm' op element types differ: input has 'f32' but gamma has 'f16'}}
  %y = uoe.layer_norm %x, %gamma, %beta eps 1.0e-5 : tensor<2x16x32xf32>, tensor<32xf16>, tensor<32xf32>
  return %y : tensor<2x16x32xf32>
}

// -----

// Tests that beta must have the element type of the input.
func.func @layer_norm_c3_b(%x: tensor<2x16x32xf32>, %gamma: tensor<32xf32>, %beta: tensor<32xbf16>) -> tensor<2x16x32xf32> {
  // expected-error @+1 {{'uoe.layer_norm' op element types differ: input has 'f32' but beta has 'bf16'}}
  %y = uoe.layer_norm %x, %gamma, %beta eps 1.0e-5 : tensor<2x16x32xf32>, tensor<32xf32>, tensor<32xbf16>
  return %y : tensor<2x16x32xf32>
}

// -----

// Tests that an integer gamma is rejected by the operand type constraint.
func.func @layer_norm_int_gamma(%x: tensor<2x16x32xf32>, %gamma: tensor<32xi32>, %beta: tensor<32xf32>) -> tensor<2x16x32xf32> {
  // expected-error @+1 {{'uoe.layer_norm' op operand #1 must be ranked tensor of 16-bit float or bfloat16 type or 32-bit float or 64-bit float values, but got 'tensor<32xi32>'}}
  %y = uoe.layer_norm %x, %gamma, %beta eps 1.0e-5 : tensor<2x16x32xf32>, tensor<32xi32>, tensor<32xf32>
  return %y : tensor<2x16x32xf32>
}

// -----

// Tests that the result must have the input's type (generic form: the custom form
// infers it).
func.func @layer_norm_result_type(%x: tensor<2x16x32xf32>, %gamma: tensor<32xf32>, %beta: tensor<32xf32>) -> tensor<2x16x32xf64> {
  // expected-error @+1 {{'uoe.layer_norm' op failed to verify that all of {input, result} have same type}}
  %y = "uoe.layer_norm"(%x, %gamma, %beta) <{eps = 1.0e-5 : f64}> : (tensor<2x16x32xf32>, tensor<32xf32>, tensor<32xf32>) -> tensor<2x16x32xf64>
  return %y : tensor<2x16x32xf64>
}

// -----

// Tests that eps must be an f64 attribute (generic form).
func.func @layer_norm_eps_type(%x: tensor<2x16x32xf32>, %gamma: tensor<32xf32>, %beta: tensor<32xf32>) -> tensor<2x16x32xf32> {
  // expected-error @+1 {{'uoe.layer_norm' op attribute 'eps' failed to satisfy constraint: 64-bit float attribute}}
  %y = "uoe.layer_norm"(%x, %gamma, %beta) <{eps = 1.0e-5 : f32}> : (tensor<2x16x32xf32>, tensor<32xf32>, tensor<32xf32>) -> tensor<2x16x32xf32>
  return %y : tensor<2x16x32xf32>
}
