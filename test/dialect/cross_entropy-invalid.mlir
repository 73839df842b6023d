// RUN: uoe-opt %s -split-input-file -verify-diagnostics

// Tests that logits must have rank at least 2.
func.func @cross_entropy_c1(%logits: tensor<10xf32>, %targets: tensor<i64>) -> tensor<f32> {
  // expected-error @+1 {{'uoe.cross_entropy' op logits must have rank at least 2 ([..., V]), but it is 'tensor<10xf32>'}}
  %l = uoe.cross_entropy %logits, %targets : tensor<10xf32>, tensor<i64> -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// Tests that targets must have the shape of logits without V.
func.func @cross_entropy_c1_b(%logits: tensor<2x16x256xf32>, %targets: tensor<2x15xi64>) -> tensor<f32> {
  // expected-error @+1 {{'uoe.cross_entropy' op targets must be [...] (logits without V) = [2, 16], but it is 'tensor<2x15xi64>'}}
  %l = uoe.cross_entropy %logits, %targets : tensor<2x16x256xf32>, tensor<2x15xi64> -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// Tests that the loss must be a scalar.
func.func @cross_entropy_c2(%logits: tensor<2x16x256xf32>, %targets: tensor<2x16xi64>) -> tensor<1xf32> {
  // expected-error @+1 {{'uoe.cross_entropy' op loss must have rank 0 (a scalar []), but it is 'tensor<1xf32>'}}
  %l = uoe.cross_entropy %logits, %targets : tensor<2x16x256xf32>, tensor<2x16xi64> -> tensor<1xf32>
  return %l : tensor<1xf32>
}

// -----

// Tests that the loss must have the element type of the logits.
func.func @cross_entropy_c2_b(%logits: tensor<2x16x256xf32>, %targets: tensor<2x16xi64>) -> tensor<f64> {
  // expected-error @+1 {{'uoe.cross_entropy' op element types differ: logits has 'f32' but loss has 'f64'}}
  %l = uoe.cross_entropy %logits, %targets : tensor<2x16x256xf32>, tensor<2x16xi64> -> tensor<f64>
  return %l : tensor<f64>
}
