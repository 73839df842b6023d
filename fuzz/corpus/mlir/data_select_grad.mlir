func.func @data_select_grad_static(%pos: tensor<3x4x8xi64>, %dw: tensor<3x4x8xf32>) -> tensor<4x16x3xf32> {
  %ds = uoe.data_select_grad %pos, %dw patch 1 : tensor<3x4x8xi64>, tensor<3x4x8xf32> -> tensor<4x16x3xf32>
  return %ds : tensor<4x16x3xf32>
}
func.func @data_select_grad_dynamic(%pos: tensor<3x4x?xi64>, %dw: tensor<3x4x?xf64>) -> tensor<4x16x3xf64> {
  %ds = uoe.data_select_grad %pos, %dw patch 2 : tensor<3x4x?xi64>, tensor<3x4x?xf64> -> tensor<4x16x3xf64>
  return %ds : tensor<4x16x3xf64>
}
