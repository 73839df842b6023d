func.func @moe_renormalize(%x: tensor<64x32xf32>, %wg: tensor<8x32xf32>, %bg: tensor<8xf32>,
                           %w1: tensor<8x32x16xf32>, %b1: tensor<8x16xf32>, %w2: tensor<8x16x32xf32>,
                           %b2: tensor<8x32xf32>) -> tensor<64x32xf32> {
  %y = uoe.moe %x, router(%wg, %bg), up(%w1, %b1), down(%w2, %b2) top 2 renormalize activation silu
      : tensor<64x32xf32>, tensor<8x32xf32>, tensor<8xf32>, tensor<8x32x16xf32>, tensor<8x16xf32>,
        tensor<8x16x32xf32>, tensor<8x32xf32>
  return %y : tensor<64x32xf32>
}
func.func @moe_top1_sigmoid(%x: tensor<2x16x32xf32>, %wg: tensor<4x32xf32>, %bg: tensor<4xf32>,
                            %w1: tensor<4x32x16xf32>, %b1: tensor<4x16xf32>, %w2: tensor<4x16x32xf32>,
                            %b2: tensor<4x32xf32>) -> tensor<2x16x32xf32> {
  %y = uoe.moe %x, router(%wg, %bg), up(%w1, %b1), down(%w2, %b2) top 1 activation gelu {score = #uoe.score<sigmoid>}
      : tensor<2x16x32xf32>, tensor<4x32xf32>, tensor<4xf32>, tensor<4x32x16xf32>, tensor<4x16xf32>,
        tensor<4x16x32xf32>, tensor<4x32xf32>
  return %y : tensor<2x16x32xf32>
}
func.func @moe_swiglu_bf16(%x: tensor<16x32xbf16>, %wg: tensor<4x32xbf16>, %bg: tensor<4xbf16>,
                           %w1: tensor<4x32x32xbf16>, %b1: tensor<4x32xbf16>, %w2: tensor<4x16x32xbf16>,
                           %b2: tensor<4x32xbf16>) -> tensor<16x32xbf16> {
  %y = uoe.moe %x, router(%wg, %bg), up(%w1, %b1), down(%w2, %b2) top 4 activation swiglu
      : tensor<16x32xbf16>, tensor<4x32xbf16>, tensor<4xbf16>, tensor<4x32x32xbf16>, tensor<4x32xbf16>,
        tensor<4x16x32xbf16>, tensor<4x32xbf16>
  return %y : tensor<16x32xbf16>
}
