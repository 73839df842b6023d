func.func @token_choice_grad_normalize(%p: tensor<4x16x3xf32>, %dg: tensor<4x16x3xf32>) -> tensor<4x16x3xf32> {
  %dp = uoe.token_choice_grad %p, %dg top 2 normalize axis 0 eps 1.0e-06 capacity 1.0 : tensor<4x16x3xf32>
  return %dp : tensor<4x16x3xf32>
}
func.func @token_choice_grad_renormalize(%p: tensor<64x8xf64>, %ds: tensor<64x8xf64>) -> (tensor<64x8xf64>, tensor<64x8xf64>) {
  %a = uoe.token_choice_grad %p, %ds top 2 renormalize : tensor<64x8xf64>
  %b = uoe.token_choice_grad %p, %ds top 1 : tensor<64x8xf64>
  return %a, %b : tensor<64x8xf64>, tensor<64x8xf64>
}
