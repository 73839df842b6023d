func.func @expert_select_renormalize(%p: tensor<64x8xf32>) -> (tensor<64x2xi64>, tensor<64x2xf32>) {
  %idx, %w = uoe.expert_select %p top 2 renormalize : tensor<64x8xf32> -> tensor<64x2xi64>, tensor<64x2xf32>
  return %idx, %w : tensor<64x2xi64>, tensor<64x2xf32>
}
func.func @expert_select_plain(%p: tensor<2x16x4xf16>) -> (tensor<2x16x1xi64>, tensor<2x16x1xf16>) {
  %idx, %w = uoe.expert_select %p top 1 : tensor<2x16x4xf16> -> tensor<2x16x1xi64>, tensor<2x16x1xf16>
  return %idx, %w : tensor<2x16x1xi64>, tensor<2x16x1xf16>
}
func.func @expert_select_rank1(%p: tensor<4xbf16>) -> (tensor<4xi64>, tensor<4xbf16>) {
  %idx, %w = uoe.expert_select %p top 4 : tensor<4xbf16> -> tensor<4xi64>, tensor<4xbf16>
  return %idx, %w : tensor<4xi64>, tensor<4xbf16>
}
