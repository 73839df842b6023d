func.func @router_softmax(%x: tensor<4x16x32xf32>, %wg: tensor<3x32xf32>, %bg: tensor<3xf32>) -> tensor<4x16x3xf32> {
  %p = uoe.router %x, %wg, %bg score softmax
      : tensor<4x16x32xf32>, tensor<3x32xf32>, tensor<3xf32> -> tensor<4x16x3xf32>
  return %p : tensor<4x16x3xf32>
}
func.func @router_sigmoid_bf16(%x: tensor<64x32xbf16>, %wg: tensor<8x32xbf16>, %bg: tensor<8xbf16>) -> tensor<64x8xbf16> {
  %p = uoe.router %x, %wg, %bg score sigmoid
      : tensor<64x32xbf16>, tensor<8x32xbf16>, tensor<8xbf16> -> tensor<64x8xbf16>
  return %p : tensor<64x8xbf16>
}
func.func @router_rank1(%x: tensor<32xf64>, %wg: tensor<4x32xf64>, %bg: tensor<4xf64>) -> tensor<4xf64> {
  %p = uoe.router %x, %wg, %bg score softmax : tensor<32xf64>, tensor<4x32xf64>, tensor<4xf64> -> tensor<4xf64>
  return %p : tensor<4xf64>
}
