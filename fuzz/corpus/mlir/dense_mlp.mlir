func.func @dense_mlp_gelu(%x: tensor<4x16x32xf32>, %w1: tensor<32x64xf32>, %b1: tensor<64xf32>,
                          %w2: tensor<64x32xf32>, %b2: tensor<32xf32>) -> tensor<4x16x32xf32> {
  %y = uoe.dense_mlp %x, up(%w1, %b1), down(%w2, %b2) activation gelu
      : tensor<4x16x32xf32>, tensor<32x64xf32>, tensor<64xf32>, tensor<64x32xf32>, tensor<32xf32>
  return %y : tensor<4x16x32xf32>
}
func.func @dense_mlp_swiglu(%x: tensor<4x16x32xf32>, %w1: tensor<32x128xf32>, %b1: tensor<128xf32>,
                            %w2: tensor<64x32xf32>, %b2: tensor<32xf32>) -> tensor<4x16x32xf32> {
  %y = uoe.dense_mlp %x, up(%w1, %b1), down(%w2, %b2) activation swiglu
      : tensor<4x16x32xf32>, tensor<32x128xf32>, tensor<128xf32>, tensor<64x32xf32>, tensor<32xf32>
  return %y : tensor<4x16x32xf32>
}
func.func @dense_mlp_activations(%x: tensor<8x32xf32>, %w1: tensor<32x16xf32>, %b1: tensor<16xf32>,
                                 %w2: tensor<16x32xf32>, %b2: tensor<32xf32>) -> tensor<8x32xf32> {
  %a = uoe.dense_mlp %x, up(%w1, %b1), down(%w2, %b2) activation none
      : tensor<8x32xf32>, tensor<32x16xf32>, tensor<16xf32>, tensor<16x32xf32>, tensor<32xf32>
  %b = uoe.dense_mlp %a, up(%w1, %b1), down(%w2, %b2) activation gelu_tanh
      : tensor<8x32xf32>, tensor<32x16xf32>, tensor<16xf32>, tensor<16x32xf32>, tensor<32xf32>
  %c = uoe.dense_mlp %b, up(%w1, %b1), down(%w2, %b2) activation relu
      : tensor<8x32xf32>, tensor<32x16xf32>, tensor<16xf32>, tensor<16x32xf32>, tensor<32xf32>
  %d = uoe.dense_mlp %c, up(%w1, %b1), down(%w2, %b2) activation silu
      : tensor<8x32xf32>, tensor<32x16xf32>, tensor<16xf32>, tensor<16x32xf32>, tensor<32xf32>
  return %d : tensor<8x32xf32>
}
func.func @dense_mlp_half(%x: tensor<2x8x32xf16>, %w1: tensor<32x64xf16>, %b1: tensor<64xf16>,
                          %w2: tensor<64x32xf16>, %b2: tensor<32xf16>,
                          %xb: tensor<2x8x32xbf16>, %w1b: tensor<32x64xbf16>, %b1b: tensor<64xbf16>,
                          %w2b: tensor<64x32xbf16>, %b2b: tensor<32xbf16>) -> (tensor<2x8x32xf16>, tensor<2x8x32xbf16>) {
  %y = uoe.dense_mlp %x, up(%w1, %b1), down(%w2, %b2) activation gelu
      : tensor<2x8x32xf16>, tensor<32x64xf16>, tensor<64xf16>, tensor<64x32xf16>, tensor<32xf16>
  %z = uoe.dense_mlp %xb, up(%w1b, %b1b), down(%w2b, %b2b) activation silu
      : tensor<2x8x32xbf16>, tensor<32x64xbf16>, tensor<64xbf16>, tensor<64x32xbf16>, tensor<32xbf16>
  return %y, %z : tensor<2x8x32xf16>, tensor<2x8x32xbf16>
}
