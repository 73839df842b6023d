func.func @rms_norm_f32(%x: tensor<2x16x32xf32>, %gamma: tensor<32xf32>) -> tensor<2x16x32xf32> {
  %y = uoe.rms_norm %x, %gamma eps 1.0e-6 : tensor<2x16x32xf32>, tensor<32xf32>
  return %y : tensor<2x16x32xf32>
}
func.func @rms_norm_f16_f64(%x: tensor<4x8xf16>, %gamma: tensor<8xf16>, %xd: tensor<4x8xf64>, %gd: tensor<8xf64>)
    -> (tensor<4x8xf16>, tensor<4x8xf64>) {
  %y = uoe.rms_norm %x, %gamma eps 1.0e-5 : tensor<4x8xf16>, tensor<8xf16>
  %z = uoe.rms_norm %xd, %gd eps 1.0e-5 : tensor<4x8xf64>, tensor<8xf64>
  return %y, %z : tensor<4x8xf16>, tensor<4x8xf64>
}
