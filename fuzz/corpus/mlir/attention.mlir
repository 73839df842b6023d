func.func @attention_plain(%x: tensor<2x16x32xf32>, %wqkv: tensor<3x32x32xf32>, %bqkv: tensor<3x32xf32>,
                           %wo: tensor<32x32xf32>, %bo: tensor<32xf32>) -> tensor<2x16x32xf32> {
  %y = uoe.attention %x, qkv(%wqkv, %bqkv), out(%wo, %bo) heads 4
      : tensor<2x16x32xf32>, tensor<3x32x32xf32>, tensor<3x32xf32>, tensor<32x32xf32>, tensor<32xf32>
  return %y : tensor<2x16x32xf32>
}
func.func @attention_all_clauses(%x: tensor<2x16x32xf32>, %wqkv: tensor<3x32x32xf32>, %bqkv: tensor<3x32xf32>,
                                 %wo: tensor<32x32xf32>, %bo: tensor<32xf32>, %kp: tensor<2x16xi1>) -> tensor<2x16x32xf32> {
  %y = uoe.attention %x, qkv(%wqkv, %bqkv), out(%wo, %bo) key_padding %kp heads 4 causal rope original
      {rope_base = 500000.0 : f64}
      : tensor<2x16x32xf32>, tensor<3x32x32xf32>, tensor<3x32xf32>, tensor<32x32xf32>, tensor<32xf32>, tensor<2x16xi1>
  return %y : tensor<2x16x32xf32>
}
func.func @attention_defaults_elided(%x: tensor<1x8x16xf32>, %wqkv: tensor<3x16x16xf32>, %bqkv: tensor<3x16xf32>,
                                     %wo: tensor<16x16xf32>, %bo: tensor<16xf32>) -> tensor<1x8x16xf32> {
  %y = uoe.attention %x, qkv(%wqkv, %bqkv), out(%wo, %bo) heads 2 causal rope none {rope_base = 10000.0 : f64}
      : tensor<1x8x16xf32>, tensor<3x16x16xf32>, tensor<3x16xf32>, tensor<16x16xf32>, tensor<16xf32>
  return %y : tensor<1x8x16xf32>
}
func.func @attention_bf16_one_head(%x: tensor<2x4x7xbf16>, %wqkv: tensor<3x7x7xbf16>, %bqkv: tensor<3x7xbf16>,
                                   %wo: tensor<7x7xbf16>, %bo: tensor<7xbf16>) -> tensor<2x4x7xbf16> {
  %y = uoe.attention %x, qkv(%wqkv, %bqkv), out(%wo, %bo) heads 1
      : tensor<2x4x7xbf16>, tensor<3x7x7xbf16>, tensor<3x7xbf16>, tensor<7x7xbf16>, tensor<7xbf16>
  return %y : tensor<2x4x7xbf16>
}
