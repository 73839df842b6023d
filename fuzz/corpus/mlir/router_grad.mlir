func.func @router_grad_softmax(%x: tensor<4x16x32xf32>, %w: tensor<3x32xf32>, %p: tensor<4x16x3xf32>, %dp: tensor<4x16x3xf32>)
    -> (tensor<4x16x32xf32>, tensor<3x32xf32>, tensor<3xf32>) {
  %dx, %dw, %db = uoe.router_grad %x, %w, %p, %dp score softmax
      : tensor<4x16x32xf32>, tensor<3x32xf32>, tensor<4x16x3xf32> -> tensor<3xf32>
  return %dx, %dw, %db : tensor<4x16x32xf32>, tensor<3x32xf32>, tensor<3xf32>
}
func.func @router_grad_sigmoid(%x: tensor<8xf64>, %w: tensor<5x8xf64>, %p: tensor<5xf64>, %dp: tensor<5xf64>) -> tensor<5xf64> {
  %dx, %dw, %db = uoe.router_grad %x, %w, %p, %dp score sigmoid : tensor<8xf64>, tensor<5x8xf64>, tensor<5xf64> -> tensor<5xf64>
  return %db : tensor<5xf64>
}
