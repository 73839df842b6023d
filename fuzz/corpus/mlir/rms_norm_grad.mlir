func.func @rms_norm_grad_f32(%x: tensor<2x16x32xf32>, %gamma: tensor<32xf32>, %dy: tensor<2x16x32xf32>)
    -> (tensor<2x16x32xf32>, tensor<32xf32>) {
  %dx, %dg = uoe.rms_norm_grad %x, %gamma, %dy eps 1.0e-6 : tensor<2x16x32xf32>, tensor<32xf32>
  return %dx, %dg : tensor<2x16x32xf32>, tensor<32xf32>
}
