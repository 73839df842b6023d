func.func @data_select_static(%g: tensor<4x16x3xf32>) -> (tensor<3x4x8xi64>, tensor<3x4x8xf32>) {
  %pos, %w = uoe.data_select %g patch 1 capacity 0.5
      : tensor<4x16x3xf32> -> tensor<3x4x8xi64>, tensor<3x4x8xf32>
  return %pos, %w : tensor<3x4x8xi64>, tensor<3x4x8xf32>
}
func.func @data_select_dynamic(%g: tensor<4x16x3xf32>) -> (tensor<3x4x?xi64>, tensor<3x4x?xf32>) {
  %pos, %w = uoe.data_select %g patch 1 dynamic
      : tensor<4x16x3xf32> -> tensor<3x4x?xi64>, tensor<3x4x?xf32>
  return %pos, %w : tensor<3x4x?xi64>, tensor<3x4x?xf32>
}
func.func @data_select_patch(%g: tensor<2x16x4xbf16>) -> (tensor<4x2x2xi64>, tensor<4x2x2xbf16>) {
  %pos, %w = uoe.data_select %g patch 4 capacity 0.5
      : tensor<2x16x4xbf16> -> tensor<4x2x2xi64>, tensor<4x2x2xbf16>
  return %pos, %w : tensor<4x2x2xi64>, tensor<4x2x2xbf16>
}
func.func @data_select_floor(%g: tensor<1x10x2xf16>)
    -> (tensor<2x1x3xi64>, tensor<2x1x10xi64>, tensor<2x1x?xf16>) {
  %pos, %w = uoe.data_select %g patch 1 capacity 0.3
      : tensor<1x10x2xf16> -> tensor<2x1x3xi64>, tensor<2x1x3xf16>
  %pos1, %w1 = uoe.data_select %g patch 1 capacity 1.0
      : tensor<1x10x2xf16> -> tensor<2x1x10xi64>, tensor<2x1x10xf16>
  %pos2, %w2 = uoe.data_select %g patch 2 dynamic
      : tensor<1x10x2xf16> -> tensor<2x1x?xi64>, tensor<2x1x?xf16>
  return %pos, %pos1, %w2 : tensor<2x1x3xi64>, tensor<2x1x10xi64>, tensor<2x1x?xf16>
}
