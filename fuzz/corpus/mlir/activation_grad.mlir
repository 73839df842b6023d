func.func @activation_grad_gelu(%z: tensor<4x8x16xf32>, %dh: tensor<4x8x16xf32>) -> tensor<4x8x16xf32> {
  %dz = uoe.activation_grad %z, %dh gelu : tensor<4x8x16xf32>, tensor<4x8x16xf32> -> tensor<4x8x16xf32>
  return %dz : tensor<4x8x16xf32>
}
func.func @activation_grad_swiglu(%z: tensor<2x?x16xf64>, %dh: tensor<2x?x8xf64>) -> tensor<2x?x16xf64> {
  %dz = uoe.activation_grad %z, %dh swiglu : tensor<2x?x16xf64>, tensor<2x?x8xf64> -> tensor<2x?x16xf64>
  return %dz : tensor<2x?x16xf64>
}
