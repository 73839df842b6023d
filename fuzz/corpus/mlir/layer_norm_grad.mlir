func.func @layer_norm_grad_f32(%x: tensor<2x16x32xf32>, %gamma: tensor<32xf32>, %dy: tensor<2x16x32xf32>)
    -> (tensor<2x16x32xf32>, tensor<32xf32>, tensor<32xf32>) {
  %dx, %dg, %db = uoe.layer_norm_grad %x, %gamma, %dy eps 1.0e-5 : tensor<2x16x32xf32>, tensor<32xf32>
  return %dx, %dg, %db : tensor<2x16x32xf32>, tensor<32xf32>, tensor<32xf32>
}
func.func @layer_norm_grad_f64_rank1(%x: tensor<8xf64>, %gamma: tensor<8xf64>, %dy: tensor<8xf64>) -> tensor<8xf64> {
  %dx, %dg, %db = uoe.layer_norm_grad %x, %gamma, %dy eps 1.0e-3 : tensor<8xf64>, tensor<8xf64>
  return %dx : tensor<8xf64>
}
