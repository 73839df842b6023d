func.func @smha_plain(%x: tensor<2x16x32xf32>, %wg: tensor<2x32xf32>, %bg: tensor<2xf32>,
                      %wqkv: tensor<3x2x32x16xf32>, %bqkv: tensor<3x2x16xf32>, %wo: tensor<2x16x32xf32>,
                      %bo: tensor<2x32xf32>) -> tensor<2x16x32xf32> {
  %y = uoe.smha %x, router(%wg, %bg), qkv(%wqkv, %bqkv), out(%wo, %bo) heads 4 top 1 union
      : tensor<2x16x32xf32>, tensor<2x32xf32>, tensor<2xf32>, tensor<3x2x32x16xf32>, tensor<3x2x16xf32>,
        tensor<2x16x32xf32>, tensor<2x32xf32>
  return %y : tensor<2x16x32xf32>
}
func.func @smha_compacted(%x: tensor<2x16x32xf32>, %wg: tensor<2x32xf32>, %bg: tensor<2xf32>,
                          %wqkv: tensor<3x2x32x16xf32>, %bqkv: tensor<3x2x16xf32>, %wo: tensor<2x16x32xf32>,
                          %bo: tensor<2x32xf32>, %kp: tensor<2x16xi1>) -> tensor<2x16x32xf32> {
  %y = uoe.smha %x, router(%wg, %bg), qkv(%wqkv, %bqkv), out(%wo, %bo) key_padding %kp heads 4 top 1 causal rope compacted union
      : tensor<2x16x32xf32>, tensor<2x32xf32>, tensor<2xf32>, tensor<3x2x32x16xf32>, tensor<3x2x16xf32>,
        tensor<2x16x32xf32>, tensor<2x32xf32>, tensor<2x16xi1>
  return %y : tensor<2x16x32xf32>
}
func.func @smha_gated_original(%x: tensor<1x8x32xf16>, %wg: tensor<2x32xf16>, %bg: tensor<2xf16>,
                               %wqkv: tensor<3x2x32x16xf16>, %bqkv: tensor<3x2x16xf16>, %wo: tensor<2x16x32xf16>,
                               %bo: tensor<2x32xf16>) -> tensor<1x8x32xf16> {
  %y = uoe.smha %x, router(%wg, %bg), qkv(%wqkv, %bqkv), out(%wo, %bo) heads 8 top 2 rope original gated
      {score = #uoe.score<sigmoid>, eps = 1.0e-5 : f64, norm_capacity = 0.5 : f64, rope_base = 500000.0 : f64}
      : tensor<1x8x32xf16>, tensor<2x32xf16>, tensor<2xf16>, tensor<3x2x32x16xf16>, tensor<3x2x16xf16>,
        tensor<2x16x32xf16>, tensor<2x32xf16>
  return %y : tensor<1x8x32xf16>
}
func.func @smha_causal_safe(%x: tensor<2x16x32xf32>, %wg: tensor<2x32xf32>, %bg: tensor<2xf32>,
                            %wqkv: tensor<3x2x32x16xf32>, %bqkv: tensor<3x2x16xf32>, %wo: tensor<2x16x32xf32>,
                            %bo: tensor<2x32xf32>) -> (tensor<2x16x32xf32>, tensor<2x16x32xf32>) {
  %y = uoe.smha %x, router(%wg, %bg), qkv(%wqkv, %bqkv), out(%wo, %bo) heads 4 top 1 causal rope original gated routing causal_safe
      : tensor<2x16x32xf32>, tensor<2x32xf32>, tensor<2xf32>, tensor<3x2x32x16xf32>, tensor<3x2x16xf32>,
        tensor<2x16x32xf32>, tensor<2x32xf32>
  %z = uoe.smha %x, router(%wg, %bg), qkv(%wqkv, %bqkv), out(%wo, %bo) heads 4 top 1 causal union routing reference
      : tensor<2x16x32xf32>, tensor<2x32xf32>, tensor<2xf32>, tensor<3x2x32x16xf32>, tensor<3x2x16xf32>,
        tensor<2x16x32xf32>, tensor<2x32xf32>
  return %y, %z : tensor<2x16x32xf32>, tensor<2x16x32xf32>
}
