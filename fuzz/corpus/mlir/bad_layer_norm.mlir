func.func @layer_norm_input_rank(%x: tensor<f32>, %gamma: tensor<32xf32>, %beta: tensor<32xf32>) -> tensor<f32> {
  %y = uoe.layer_norm %x, %gamma, %beta eps 1.0e-5 : tensor<f32>, tensor<32xf32>, tensor<32xf32>
  return %y : tensor<f32>
}
