// RUN: uoe-opt %s -split-input-file -verify-diagnostics

// Tests that logits must have rank at least 2 (the forward's cross_entropy_c1).
func.func @cross_entropy_c1(%logits: tensor<10xf32>, %targets: tensor<i64>, %dl: tensor<f32>) -> tensor<10xf32> {
  // expected-error @+1 {{'uoe.cross_entropy_grad' op logits must have rank at least 2 ([..., V]), but it is 'tensor<10xf32>'}}
  %d = uoe.cross_entropy_grad %logits, %targets, %dl : tensor<10xf32>, tensor<i64>, tensor<f32>
  return %d : tensor<10xf32>
}

// -----

// Tests that targets must have the shape of logits without V (cross_entropy_c1).
func.func @cross_entropy_c1_b(%logits: tensor<8x10xf32>, %targets: tensor<8x10xi64>, %dl: tensor<f32>) -> tensor<8x10xf32> {
  // expected-error @+1 {{'uoe.cross_entropy_grad' op targets must be [...] (logits without V) = [8], but it is 'tensor<8x10xi64>'}}
  %d = uoe.cross_entropy_grad %logits, %targets, %dl : tensor<8x10xf32>, tensor<8x10xi64>, tensor<f32>
  return %d : tensor<8x10xf32>
}

// -----

// Tests that loss_grad must be a scalar (cross_entropy_c2).
func.func @cross_entropy_c2(%logits: tensor<8x10xf32>, %targets: tensor<8xi64>, %dl: tensor<8xf32>) -> tensor<8x10xf32> {
  // expected-error @+1 {{'uoe.cross_entropy_grad' op loss_grad must have rank 0 (a scalar []), but it is 'tensor<8xf32>'}}
  %d = uoe.cross_entropy_grad %logits, %targets, %dl : tensor<8x10xf32>, tensor<8xi64>, tensor<8xf32>
  return %d : tensor<8x10xf32>
}

// -----

// Tests that loss_grad must have the element type of the logits
// (cross_entropy_c2).
func.func @cross_entropy_c2_b(%logits: tensor<8x10xf32>, %targets: tensor<8xi64>, %dl: tensor<f16>) -> tensor<8x10xf32> {
  // expected-error @+1 {{'uoe.cross_entropy_grad' op element types differ: logits has 'f32' but loss_grad has 'f16'}}
  %d = uoe.cross_entropy_grad %logits, %targets, %dl : tensor<8x10xf32>, tensor<8xi64>, tensor<f16>
  return %d : tensor<8x10xf32>
}
