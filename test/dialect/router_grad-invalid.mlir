// RUN: uoe-opt %s -split-input-file -verify-diagnostics

// Tests that the weight must be [E, d] with d the width of the input.
func.func @router_grad_c1(%x: tensor<4x16x32xf32>, %w: tensor<3x16xf32>, %p: tensor<4x16x3xf32>) -> tensor<3xf32> {
  // expected-error @+1 {{'uoe.router_grad' op weight must be [E, d] = [3, 32], but it is 'tensor<3x16xf32>'}}
  %dx, %dw, %db = uoe.router_grad %x, %w, %p, %p score softmax : tensor<4x16x32xf32>, tensor<3x16xf32>, tensor<4x16x3xf32> -> tensor<3xf32>
  return %db : tensor<3xf32>
}

// -----

// Tests that the weight must have rank 2.
func.func @router_grad_c1_b(%x: tensor<4x16x32xf32>, %w: tensor<3x32x1xf32>, %p: tensor<4x16x3xf32>) -> tensor<3xf32> {
  // expected-error @+1 {{'uoe.router_grad' op weight must have rank 2 ([E, d]), but it is 'tensor<3x32x1xf32>'}}
  %dx, %dw, %db = uoe.router_grad %x, %w, %p, %p score softmax : tensor<4x16x32xf32>, tensor<3x32x1xf32>, tensor<4x16x3xf32> -> tensor<3xf32>
  return %db : tensor<3xf32>
}

// -----

// Tests that probs must be the input's shape with E last.
func.func @router_grad_c2(%x: tensor<4x16x32xf32>, %w: tensor<3x32xf32>, %p: tensor<4x16x4xf32>) -> tensor<3xf32> {
  // expected-error @+1 {{'uoe.router_grad' op probs must be [..., E] = [4, 16, 3], but it is 'tensor<4x16x4xf32>'}}
  %dx, %dw, %db = uoe.router_grad %x, %w, %p, %p score softmax : tensor<4x16x32xf32>, tensor<3x32xf32>, tensor<4x16x4xf32> -> tensor<3xf32>
  return %db : tensor<3xf32>
}

// -----

// Tests that the bias gradient must be [E].
func.func @router_grad_c3(%x: tensor<4x16x32xf32>, %w: tensor<3x32xf32>, %p: tensor<4x16x3xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'uoe.router_grad' op bias_grad must be [E] = [3], but it is 'tensor<4xf32>'}}
  %dx, %dw, %db = uoe.router_grad %x, %w, %p, %p score softmax : tensor<4x16x32xf32>, tensor<3x32xf32>, tensor<4x16x3xf32> -> tensor<4xf32>
  return %db : tensor<4xf32>
}

// -----

// Tests that the bias gradient must have the input's element type.
func.func @router_grad_c3_b(%x: tensor<4x16x32xf32>, %w: tensor<3x32xf32>, %p: tensor<4x16x3xf32>) -> tensor<3xf64> {
  // expected-error @+1 {{'uoe.router_grad' op element types differ: input has 'f32' but bias_grad has 'f64'}}
  %dx, %dw, %db = uoe.router_grad %x, %w, %p, %p score softmax : tensor<4x16x32xf32>, tensor<3x32xf32>, tensor<4x16x3xf32> -> tensor<3xf64>
  return %db : tensor<3xf64>
}
