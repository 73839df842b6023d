func.func @cross_entropy_tokens(%logits: tensor<2x16x256xf32>, %targets: tensor<2x16xi64>) -> tensor<f32> {
  %l = uoe.cross_entropy %logits, %targets : tensor<2x16x256xf32>, tensor<2x16xi64> -> tensor<f32>
  return %l : tensor<f32>
}
func.func @cross_entropy_classes(%logits: tensor<8x10xf64>, %targets: tensor<8xi64>) -> tensor<f64> {
  %l = uoe.cross_entropy %logits, %targets : tensor<8x10xf64>, tensor<8xi64> -> tensor<f64>
  return %l : tensor<f64>
}
