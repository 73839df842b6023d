func.func @expert_matmul(%x: tensor<3x4x8x32xf32>, %w: tensor<3x32x16xf32>, %b: tensor<3x16xf32>) -> tensor<3x4x8x16xf32> {
  %h = uoe.expert_matmul %x, %w bias %b activation relu : tensor<3x4x8x32xf32>, tensor<3x32x16xf32>, tensor<3x16xf32> -> tensor<3x4x8x16xf32>
  return %h : tensor<3x4x8x16xf32>
}
func.func @block(%x: tensor<16x4x32xf32>, %wg: tensor<4x32xf32>, %bg: tensor<4xf32>, %w1: tensor<4x32x16xf32>, %b1: tensor<4x16xf32>, %w2: tensor<4x16x32xf32>, %b2: tensor<4x32xf32>, %g: tensor<32xf32>) -> tensor<16x4x32xf32> {
  %y = uoe.uome %x, router(%wg, %bg), up(%w1, %b1), down(%w2, %b2) top 2 capacity 0.5 activation gelu union : tensor<16x4x32xf32>, tensor<4x32xf32>, tensor<4xf32>, tensor<4x32x16xf32>, tensor<4x16xf32>, tensor<4x16x32xf32>, tensor<4x32xf32>
  %n = uoe.rms_norm %y, %g eps 1.0e-6 : tensor<16x4x32xf32>, tensor<32xf32>
  return %n : tensor<16x4x32xf32>
}
func.func @untouched(%a: tensor<4xf32>) -> tensor<4xf32> {
  %r = arith.addf %a, %a : tensor<4xf32>
  return %r : tensor<4xf32>
}
