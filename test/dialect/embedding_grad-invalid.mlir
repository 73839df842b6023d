// RUN: uoe-opt %s -split-input-file -verify-diagnostics

// Tests that the result gradient must be the shape of ids followed by d.
func.func @embedding_grad_c1(%ids: tensor<2x16xi64>, %dh: tensor<2x8x64xf32>) -> tensor<256x64xf32> {
  // expected-error @+1 {{'uoe.embedding_grad' op result_grad must be [..., T, d] = [2, 16, 64], but it is 'tensor<2x8x64xf32>'}}
  %dt = uoe.embedding_grad %ids, %dh : tensor<2x16xi64>, tensor<2x8x64xf32> -> tensor<256x64xf32>
  return %dt : tensor<256x64xf32>
}

// -----

// Tests that the result gradient must have one more dimension than ids.
func.func @embedding_grad_c1_b(%ids: tensor<2x16xi64>, %dh: tensor<32x64xf32>) -> tensor<256x64xf32> {
  // expected-error @+1 {{'uoe.embedding_grad' op result_grad must have rank 3 ([..., T, d]), but it is 'tensor<32x64xf32>'}}
  %dt = uoe.embedding_grad %ids, %dh : tensor<2x16xi64>, tensor<32x64xf32> -> tensor<256x64xf32>
  return %dt : tensor<256x64xf32>
}

// -----

// Tests that rank-0 ids are rejected.
func.func @embedding_grad_c1_c(%ids: tensor<i64>, %dh: tensor<64xf32>) -> tensor<256x64xf32> {
  // expected-error @+1 {{'uoe.embedding_grad' op ids must have rank at least 1 ([..., T]), but it is 'tensor<i64>'}}
  %dt = uoe.embedding_grad %ids, %dh : tensor<i64>, tensor<64xf32> -> tensor<256x64xf32>
  return %dt : tensor<256x64xf32>
}

// -----

// Tests that the table gradient must be [V, d] with the width of the result
// gradient.
func.func @embedding_grad_c2(%ids: tensor<2x16xi64>, %dh: tensor<2x16x64xf32>) -> tensor<256x32xf32> {
  // expected-error @+1 {{'uoe.embedding_grad' op table_grad must be [V, d] = [256, 64], but it is 'tensor<256x32xf32>'}}
  %dt = uoe.embedding_grad %ids, %dh : tensor<2x16xi64>, tensor<2x16x64xf32> -> tensor<256x32xf32>
  return %dt : tensor<256x32xf32>
}

// -----

// Tests that the table gradient must have at least one row.
func.func @embedding_grad_c2_b(%ids: tensor<2x16xi64>, %dh: tensor<2x16x64xf32>) -> tensor<0x64xf32> {
  // expected-error @+1 {{'uoe.embedding_grad' op table_grad must have at least one row (V >= 1), but it is 'tensor<0x64xf32>'}}
  %dt = uoe.embedding_grad %ids, %dh : tensor<2x16xi64>, tensor<2x16x64xf32> -> tensor<0x64xf32>
  return %dt : tensor<0x64xf32>
}

// -----

// Tests that the table gradient must have the element type of the result
// gradient.
func.func @embedding_grad_c2_c(%ids: tensor<2x16xi64>, %dh: tensor<2x16x64xf32>) -> tensor<256x64xf64> {
  // expected-error @+1 {{'uoe.embedding_grad' op element types differ: result_grad has 'f32' but table_grad has 'f64'}}
  %dt = uoe.embedding_grad %ids, %dh : tensor<2x16xi64>, tensor<2x16x64xf32> -> tensor<256x64xf64>
  return %dt : tensor<256x64xf64>
}
