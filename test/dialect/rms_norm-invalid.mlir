// RUN: uoe-opt %s -split-input-file -verify-diagnostics

// Tests that a rank-0 input is rejected: it has no last dimension d (this check
// has no constraint label).
func.func @rms_norm_input_rank(%x: tensor<f32>, %gamma: tensor<32xf32>) -> tensor<f32> {
  // expected-error @+1 {{'uoe.rms_norm' op input must have rank at least 1 ([..., d])}}
  %y = uoe.rms_norm %x, %gamma eps 1.0e-6 : tensor<f32>, tensor<32xf32>
  return %y : tensor<f32>
}

// -----

// Tests that gamma must be [d].
func.func @rms_norm_c1(%x: tensor<2x16x32xf32>, %gamma: tensor<64xf32>) -> tensor<2x16x32xf32> {
  // expected-error @+1 {{'uoe.rms_norm' op gamma must be [d] = [32], but it is 'tensor<64xf32>'}}
  %y = uoe.rms_norm %x, %gamma eps 1.0e-6 : tensor<2x16x32xf32>, tensor<64xf32>
  return %y : tensor<2x16x32xf32>
}

// -----

// Tests that gamma must have rank 1.
func.func @rms_norm_c1_b(%x: tensor<2x16x32xf32>, %gamma: tensor<2x32xf32>) -> tensor<2x16x32xf32> {
  // expected-error @+1 {{'uoe.rms_norm' op gamma must be [d] = [32], but it is 'tensor<2x32xf32>'}}
  %y = uoe.rms_norm %x, %gamma eps 1.0e-6 : tensor<2x16x32xf32>, tensor<2x32xf32>
  return %y : tensor<2x16x32xf32>
}

// -----

// Tests that eps must be positive, not 0.
func.func @rms_norm_c2(%x: tensor<2x16x32xf32>, %gamma: tensor<32xf32>) -> tensor<2x16x32xf32> {
  // expected-error @+1 {{'uoe.rms_norm' op eps (0.000000e+00) must be positive}}
  %y = uoe.rms_norm %x, %gamma eps 0.0 : tensor<2x16x32xf32>, tensor<32xf32>
  return %y : tensor<2x16x32xf32>
}

// -----

// Tests that a negative eps is rejected.
func.func @rms_norm_c2_b(%x: tensor<2x16x32xf32>, %gamma: tensor<32xf32>) -> tensor<2x16x32xf32> {
  // expected-error @+1 {{'uoe.rms_norm' op eps (-1.000000e+00) must be positive}}
  %y = uoe.rms_norm %x, %gamma eps -1.0 : tensor<2x16x32xf32>, tensor<32xf32>
  return %y : tensor<2x16x32xf32>
}

// -----

// Tests that gamma must have the element type of the input.
func.func @rms_norm_c3(%x: tensor<2x16x32xf32>, %gamma: tensor<32xbf16>) -> tensor<2x16x32xf32> {
  // expected-error @+1 {{'uoe.rms_norm' op element types differ: input has 'f32' but gamma has 'bf16'}}
  %y = uoe.rms_norm %x, %gamma eps 1.0e-6 : tensor<2x16x32xf32>, tensor<32xbf16>
  return %y : tensor<2x16x32xf32>
}

// -----

// Tests that an integer input is rejected by the operand type constraint.
func.func @rms_norm_int_input(%x: tensor<2x16x32xi8>, %gamma: tensor<32xf32>) -> tensor<2x16x32xi8> {
  // expected-error @+1 {{'uoe.rms_norm' op operand #0 must be ranked tensor of 16-bit float or bfloat16 type or 32-bit float or 64-bit float values, but got 'tensor<2x16x32xi8>'}}
  %y = uoe.rms_norm %x, %gamma eps 1.0e-6 : tensor<2x16x32xi8>, tensor<32xf32>
  return %y : tensor<2x16x32xi8>
}

// -----

// Tests that the result must have the input's type (generic form: the custom form
// infers it).
func.func @rms_norm_result_type(%x: tensor<2x16x32xf32>, %gamma: tensor<32xf32>) -> tensor<2x16x16xf32> {
  // expected-error @+1 {{'uoe.rms_norm' op failed to verify that all of {input, result} have same type}}
  %y = "uoe.rms_norm"(%x, %gamma) <{eps = 1.0e-6 : f64}> : (tensor<2x16x32xf32>, tensor<32xf32>) -> tensor<2x16x16xf32>
  return %y : tensor<2x16x16xf32>
}
