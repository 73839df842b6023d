func.func @embedding_grad_i64(%ids: tensor<2x16xi64>, %dh: tensor<2x16x64xf32>) -> tensor<256x64xf32> {
  %dt = uoe.embedding_grad %ids, %dh : tensor<2x16xi64>, tensor<2x16x64xf32> -> tensor<256x64xf32>
  return %dt : tensor<256x64xf32>
}
func.func @embedding_grad_i32(%ids: tensor<7xi32>, %dh: tensor<7x5xf64>) -> tensor<11x5xf64> {
  %dt = uoe.embedding_grad %ids, %dh : tensor<7xi32>, tensor<7x5xf64> -> tensor<11x5xf64>
  return %dt : tensor<11x5xf64>
}
