func.func @token_choice_plain(%p: tensor<4x16x3xf32>) -> tensor<4x16x3xf32> {
  %g = uoe.token_choice %p top 2 : tensor<4x16x3xf32>
  return %g : tensor<4x16x3xf32>
}
func.func @token_choice_renormalize(%p: tensor<1x64x8xf32>) -> tensor<1x64x8xf32> {
  %s = uoe.token_choice %p top 2 renormalize : tensor<1x64x8xf32>
  return %s : tensor<1x64x8xf32>
}
func.func @token_choice_normalize(%p: tensor<4x16x3xf32>) -> tensor<4x16x3xf32> {
  %g = uoe.token_choice %p top 2 normalize axis 0 eps 1.0e-06 capacity 1.0 : tensor<4x16x3xf32>
  return %g : tensor<4x16x3xf32>
}
func.func @token_choice_both(%p: tensor<2x4x8x4xf16>) -> tensor<2x4x8x4xf16> {
  %g = uoe.token_choice %p top 1 renormalize normalize axis 1 eps 0.0 capacity 2.0 : tensor<2x4x8x4xf16>
  return %g : tensor<2x4x8x4xf16>
}
func.func @token_choice_top_all(%p: tensor<4xbf16>) -> tensor<4xbf16> {
  %g = uoe.token_choice %p top 4 : tensor<4xbf16>
  return %g : tensor<4xbf16>
}
