func.func @activation_gelu(%z: tensor<4x8x16xf32>) -> tensor<4x8x16xf32> {
  %h = uoe.activation %z gelu : tensor<4x8x16xf32> -> tensor<4x8x16xf32>
  return %h : tensor<4x8x16xf32>
}
func.func @activation_swiglu(%z: tensor<3x?x16xf64>) -> tensor<3x?x8xf64> {
  %h = uoe.activation %z swiglu : tensor<3x?x16xf64> -> tensor<3x?x8xf64>
  return %h : tensor<3x?x8xf64>
}
func.func @activation_keywords(%z: tensor<8xf32>) -> (tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) {
  %a = uoe.activation %z none : tensor<8xf32> -> tensor<8xf32>
  %b = uoe.activation %z gelu_tanh : tensor<8xf32> -> tensor<8xf32>
  %c = uoe.activation %z relu : tensor<8xf32> -> tensor<8xf32>
  %d = uoe.activation %z silu : tensor<8xf32> -> tensor<8xf32>
  return %a, %b, %c, %d : tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>
}
