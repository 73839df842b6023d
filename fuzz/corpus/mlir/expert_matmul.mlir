func.func @expert_matmul_plain(%xs: tensor<3x4x8x32xf32>, %w: tensor<3x32x16xf32>) -> tensor<3x4x8x16xf32> {
  %h = uoe.expert_matmul %xs, %w : tensor<3x4x8x32xf32>, tensor<3x32x16xf32> -> tensor<3x4x8x16xf32>
  return %h : tensor<3x4x8x16xf32>
}
func.func @expert_matmul_bias_gelu(%xs: tensor<3x4x8x32xf32>, %w: tensor<3x32x16xf32>, %b: tensor<3x16xf32>) -> tensor<3x4x8x16xf32> {
  %h = uoe.expert_matmul %xs, %w bias %b activation gelu
      : tensor<3x4x8x32xf32>, tensor<3x32x16xf32>, tensor<3x16xf32> -> tensor<3x4x8x16xf32>
  return %h : tensor<3x4x8x16xf32>
}
func.func @expert_matmul_activation_only(%xs: tensor<2x8x16xf32>, %w: tensor<2x16x4xf32>) -> tensor<2x8x4xf32> {
  %h = uoe.expert_matmul %xs, %w activation relu : tensor<2x8x16xf32>, tensor<2x16x4xf32> -> tensor<2x8x4xf32>
  return %h : tensor<2x8x4xf32>
}
func.func @expert_matmul_swiglu(%xs: tensor<3x4x8x32xbf16>, %w: tensor<3x32x32xbf16>, %b: tensor<3x32xbf16>) -> tensor<3x4x8x16xbf16> {
  %h = uoe.expert_matmul %xs, %w bias %b activation swiglu
      : tensor<3x4x8x32xbf16>, tensor<3x32x32xbf16>, tensor<3x32xbf16> -> tensor<3x4x8x16xbf16>
  return %h : tensor<3x4x8x16xbf16>
}
func.func @expert_matmul_dynamic(%xs: tensor<3x4x?x32xf16>, %w: tensor<3x32x16xf16>)
    -> (tensor<3x4x?x16xf16>, tensor<3x4x?x8xf16>) {
  %h = uoe.expert_matmul %xs, %w activation silu : tensor<3x4x?x32xf16>, tensor<3x32x16xf16> -> tensor<3x4x?x16xf16>
  %g = uoe.expert_matmul %xs, %w activation swiglu : tensor<3x4x?x32xf16>, tensor<3x32x16xf16> -> tensor<3x4x?x8xf16>
  return %h, %g : tensor<3x4x?x16xf16>, tensor<3x4x?x8xf16>
}
func.func @expert_matmul_batch_dims(%xs: tensor<2x3x4x5x8xf64>, %w: tensor<2x8x6xf64>) -> tensor<2x3x4x5x6xf64> {
  %h = uoe.expert_matmul %xs, %w activation gelu_tanh : tensor<2x3x4x5x8xf64>, tensor<2x8x6xf64> -> tensor<2x3x4x5x6xf64>
  return %h : tensor<2x3x4x5x6xf64>
}
