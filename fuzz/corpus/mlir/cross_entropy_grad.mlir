func.func @cross_entropy_grad_tokens(%logits: tensor<2x16x256xf32>, %targets: tensor<2x16xi64>, %dl: tensor<f32>) -> tensor<2x16x256xf32> {
  %d = uoe.cross_entropy_grad %logits, %targets, %dl : tensor<2x16x256xf32>, tensor<2x16xi64>, tensor<f32>
  return %d : tensor<2x16x256xf32>
}
