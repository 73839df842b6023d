func.func @rms_norm_f32(%x: tensor<2x16x32xf32>, %gamma: tensor<32xf32>) -> tensor<2x16x32xf32> {
  %y = uoe.rms_norm %x, %gamma eps 1.0e-6 : tensor<2x16x32xf32>, tensor<32xf32>
  return %y : tensor<2