func.func @combine_c1(%ys: tensor<3x32x32xf32>, %pos: tensor<3x4x8xi64>, %w: tensor<3x4x8xf32>) -> tensor<4x16x32xf32> {
  %y = uoe.combine %ys, %pos weights %w gated patch 1 : tensor<3x32x32xf32>, tensor<3x4x8xi64>, tensor<3x4x8xf32> -> tensor<4x16x32xf32>
  return %y : tensor<4x16x32xf32>
}
