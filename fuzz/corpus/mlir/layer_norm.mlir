func.func @layer_norm_f32(%x: tensor<2x16x32xf32>, %gamma: tensor<32xf32>, %beta: tensor<32xf32>) -> tensor<2x16x32xf32> {
  %y = uoe.layer_norm %x, %gamma, %beta eps 1.0e-5 : tensor<2x16x32xf32>, tensor<32xf32>, tensor<32xf32>
  return %y : tensor<2x16x32xf32>
}
func.func @layer_norm_bf16_rank1(%x: tensor<8xbf16>, %gamma: tensor<8xbf16>, %beta: tensor<8xbf16>) -> tensor<8xbf16> {
  %y = uoe.layer_norm %x, %beta, %gamma eps 1.0e-3 : tensor<8xbf16>, tensor<8xbf16>, tensor<8xbf16>
  return %y : tensor<8xbf16>
}
