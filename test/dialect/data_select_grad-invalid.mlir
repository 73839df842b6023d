// RUN: uoe-opt %s -split-input-file -verify-diagnostics

// Tests that positions must have E and R of the scores gradient.
func.func @data_select_grad_c1(%pos: tensor<2x4x8xi64>, %dw: tensor<2x4x8xf32>) -> tensor<4x16x3xf32> {
  // expected-error @+1 {{'uoe.data_select_grad' op positions must be [E, R, L] = [3, 4, 8], but it is 'tensor<2x4x8xi64>'}}
  %ds = uoe.data_select_grad %pos, %dw patch 1 : tensor<2x4x8xi64>, tensor<2x4x8xf32> -> tensor<4x16x3xf32>
  return %ds : tensor<4x16x3xf32>
}

// -----

// Tests that the weights gradient must have the shape of positions.
func.func @data_select_grad_c1_b(%pos: tensor<3x4x?xi64>, %dw: tensor<3x4x8xf32>) -> tensor<4x16x3xf32> {
  // expected-error @+1 {{'uoe.data_select_grad' op weights_grad must be [E, R, L] = [3, 4, ?], but it is 'tensor<3x4x8xf32>'}}
  %ds = uoe.data_select_grad %pos, %dw patch 1 : tensor<3x4x?xi64>, tensor<3x4x8xf32> -> tensor<4x16x3xf32>
  return %ds : tensor<4x16x3xf32>
}

// -----

// Tests that positions must have rank 3.
func.func @data_select_grad_c1_c(%pos: tensor<3x32xi64>, %dw: tensor<3x4x8xf32>) -> tensor<4x16x3xf32> {
  // expected-error @+1 {{'uoe.data_select_grad' op positions must have rank 3 ([E, R, L]), but it is 'tensor<3x32xi64>'}}
  %ds = uoe.data_select_grad %pos, %dw patch 1 : tensor<3x32xi64>, tensor<3x4x8xf32> -> tensor<4x16x3xf32>
  return %ds : tensor<4x16x3xf32>
}

// -----

// Tests that the scores gradient must have rank 3.
func.func @data_select_grad_c2(%pos: tensor<3x4x8xi64>, %dw: tensor<3x4x8xf32>) -> tensor<64x3xf32> {
  // expected-error @+1 {{'uoe.data_select_grad' op scores_grad must have rank 3 ([R, N, E]), but it is 'tensor<64x3xf32>'}}
  %ds = uoe.data_select_grad %pos, %dw patch 1 : tensor<3x4x8xi64>, tensor<3x4x8xf32> -> tensor<64x3xf32>
  return %ds : tensor<64x3xf32>
}

// -----

// Tests that the patch size must divide N.
func.func @data_select_grad_c2_b(%pos: tensor<3x4x4xi64>, %dw: tensor<3x4x4xf32>) -> tensor<4x16x3xf32> {
  // expected-error @+1 {{'uoe.data_select_grad' op patch size (3) must divide the token count N (16)}}
  %ds = uoe.data_select_grad %pos, %dw patch 3 : tensor<3x4x4xi64>, tensor<3x4x4xf32> -> tensor<4x16x3xf32>
  return %ds : tensor<4x16x3xf32>
}

// -----

// Tests that the scores gradient must have the element type of the weights
// gradient.
func.func @data_select_grad_c2_c(%pos: tensor<3x4x8xi64>, %dw: tensor<3x4x8xf32>) -> tensor<4x16x3xf64> {
  // expected-error @+1 {{'uoe.data_select_grad' op element types differ: weights_grad has 'f32' but scores_grad has 'f64'}}
  %ds = uoe.data_select_grad %pos, %dw patch 1 : tensor<3x4x8xi64>, tensor<3x4x8xf32> -> tensor<4x16x3xf64>
  return %ds : tensor<4x16x3xf64>
}
