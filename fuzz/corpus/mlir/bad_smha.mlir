func.func @smha_c1(%x: tensor<2x2x16x32xf32>, %wg: tensor<2x32xf32>, %bg: tensor<2xf32>, %wqkv: tensor<3x2x32x16xf32>, %bqkv: tensor<3x2x16xf32>, %wo: tensor<2x16x32xf32>, %bo: tensor<2x32xf32>) -> tensor<2x2x16x32xf32> {
  %y = uoe.smha %x, router(%wg, %bg), qkv(%wqkv, %bqkv), out(%wo, %bo) heads 4 top 1 union
      : tensor<2x2x16x32xf32>, tensor<2x32xf32>, tensor<2xf32>, tensor<3x2x32x16xf32>, tensor<3x2x16xf32>, tensor<2x16x32xf32>, tensor<2x32xf32>
  return %y : tensor<2x2x16x32xf32>
}
