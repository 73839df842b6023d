func.func @combine_union(%ys: tensor<3x4x8x32xf32>, %pos: tensor<3x4x8xi64>) -> tensor<4x16x32xf32> {
  %y = uoe.combine %ys, %pos union patch 1 : tensor<3x4x8x32xf32>, tensor<3x4x8xi64> -> tensor<4x16x32xf32>
  return %y : tensor<4x16x32xf32>
}
func.func @combine_gated(%ys: tensor<3x4x8x32xf32>, %pos: tensor<3x4x8xi64>, %w: tensor<3x4x8xf32>) -> tensor<4x16x32xf32> {
  %y = uoe.combine %ys, %pos weights %w gated patch 1
      : tensor<3x4x8x32xf32>, tensor<3x4x8xi64>, tensor<3x4x8xf32> -> tensor<4x16x32xf32>
  return %y : tensor<4x16x32xf32>
}
func.func @combine_patches(%ys: tensor<4x2x8x8xbf16>, %pos: tensor<4x2x2xi64>, %w: tensor<4x2x2xbf16>) -> tensor<2x16x8xbf16> {
  %y = uoe.combine %ys, %pos weights %w gated patch 4
      : tensor<4x2x8x8xbf16>, tensor<4x2x2xi64>, tensor<4x2x2xbf16> -> tensor<2x16x8xbf16>
  return %y : tensor<2x16x8xbf16>
}
func.func @combine_dynamic(%ys: tensor<3x4x?x32xf16>, %pos: tensor<3x4x?xi64>, %w: tensor<3x4x?xf16>)
    -> (tensor<4x16x32xf16>, tensor<4x16x32xf16>) {
  %u = uoe.combine %ys, %pos union patch 2 : tensor<3x4x?x32xf16>, tensor<3x4x?xi64> -> tensor<4x16x32xf16>
  %g = uoe.combine %ys, %pos weights %w gated patch 2
      : tensor<3x4x?x32xf16>, tensor<3x4x?xi64>, tensor<3x4x?xf16> -> tensor<4x16x32xf16>
  return %u, %g : tensor<4x16x32xf16>, tensor<4x16x32xf16>
}
