// RUN: uoe-opt %s -split-input-file -verify-diagnostics

// Tests that gamma must be [d].
func.func @rms_norm_grad_c1(%x: tensor<2x16x32xf32>, %gamma: tensor<2x32xf32>, %dy: tensor<2x16x32xf32>) -> tensor<2x16x32xf32> {
  // expected-error @+1 {{'uoe.rms_norm_grad' op gamma must be [d] = [32], but it is 'tensor<2x32xf32>'}}
  %dx, %dg = uoe.rms_norm_grad %x, %gamma, %dy eps 1.0e-6 : tensor<2x16x32xf32>, tensor<2x32xf32>
  return %dx : tensor<2x16x32xf32>
}

// -----

// Tests that eps must be positive.
func.func @rms_norm_grad_c2(%x: tensor<2x16x32xf32>, %gamma: tensor<32xf32>, %dy: tensor<2x16x32xf32>) -> tensor<2x16x32xf32> {
  // expected-error @+1 {{'uoe.rms_norm_grad' op eps (-1.000000e-06) must be positive}}
  %dx, %dg = uoe.rms_norm_grad %x, %gamma, %dy eps -1.0e-6 : tensor<2x16x32xf32>, tensor<32xf32>
  return %dx : tensor<2x16x32xf32>
}

// -----

// Tests that the input must have a static shape (no label, as for the forward).
func.func @rms_norm_grad_dynamic(%x: tensor<?x32xf32>, %gamma: tensor<32xf32>, %dy: tensor<?x32xf32>) -> tensor<?x32xf32> {
  // expected-error @+1 {{'uoe.rms_norm_grad' op input must have a static shape, but it is 'tensor<?x32xf32>'}}
  %dx, %dg = uoe.rms_norm_grad %x, %gamma, %dy eps 1.0e-6 : tensor<?x32xf32>, tensor<32xf32>
  return %dx : tensor<?x32xf32>
}
