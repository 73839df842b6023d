func.func @router_input_rank(%x: tensor<f32>, %wg: tensor<3x32xf32>, %bg: tensor<3xf32>) -> tensor<3xf32> {
  %y = uoe.router %x, %wg, %bg score softmax : tensor<f32>, tensor<3x32xf32>, tensor<3xf32> -> tensor<3xf32>
  return %y : tensor<3xf32>
}
