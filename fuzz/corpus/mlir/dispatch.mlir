func.func @dispatch_tokens(%x: tensor<4x16x32xf32>, %pos: tensor<3x4x8xi64>) -> tensor<3x4x8x32xf32> {
  %xs = uoe.dispatch %x, %pos patch 1 : tensor<4x16x32xf32>, tensor<3x4x8xi64> -> tensor<3x4x8x32xf32>
  return %xs : tensor<3x4x8x32xf32>
}
func.func @dispatch_patches(%x: tensor<2x16x8xbf16>, %pos: tensor<4x2x2xi64>) -> tensor<4x2x8x8xbf16> {
  %xs = uoe.dispatch %x, %pos patch 4 : tensor<2x16x8xbf16>, tensor<4x2x2xi64> -> tensor<4x2x8x8xbf16>
  return %xs : tensor<4x2x8x8xbf16>
}
func.func @dispatch_dynamic(%x: tensor<4x16x32xf16>, %pos: tensor<3x4x?xi64>) -> (tensor<3x4x?x32xf16>, tensor<3x4x?x32xf16>) {
  %xs = uoe.dispatch %x, %pos patch 1 : tensor<4x16x32xf16>, tensor<3x4x?xi64> -> tensor<3x4x?x32xf16>
  %xp = uoe.dispatch %x, %pos patch 2 : tensor<4x16x32xf16>, tensor<3x4x?xi64> -> tensor<3x4x?x32xf16>
  return %xs, %xp : tensor<3x4x?x32xf16>, tensor<3x4x?x32xf16>
}
