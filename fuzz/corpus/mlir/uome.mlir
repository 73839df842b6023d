func.func @uome_union(%x: tensor<4x16x32xf32>, %wg: tensor<4x32xf32>, %bg: tensor<4xf32>,
                      %w1: tensor<4x32x16xf32>, %b1: tensor<4x16xf32>, %w2: tensor<4x16x32xf32>,
                      %b2: tensor<4x32xf32>) -> tensor<4x16x32xf32> {
  %y = uoe.uome %x, router(%wg, %bg), up(%w1, %b1), down(%w2, %b2) top 2 capacity 0.5 patch 1 activation gelu union
      : tensor<4x16x32xf32>, tensor<4x32xf32>, tensor<4xf32>, tensor<4x32x16xf32>, tensor<4x16xf32>,
        tensor<4x16x32xf32>, tensor<4x32xf32>
  return %y : tensor<4x16x32xf32>
}
func.func @uome_gated_patch(%x: tensor<4x16x32xf32>, %wg: tensor<4x32xf32>, %bg: tensor<4xf32>,
                            %w1: tensor<4x32x16xf32>, %b1: tensor<4x16xf32>, %w2: tensor<4x16x32xf32>,
                            %b2: tensor<4x32xf32>) -> tensor<4x16x32xf32> {
  %y = uoe.uome %x, router(%wg, %bg), up(%w1, %b1), down(%w2, %b2) top 1 capacity 0.25 patch 4 activation silu gated
      {score = #uoe.score<sigmoid>, eps = 1.0e-5 : f64, norm_capacity = 2.0 : f64}
      : tensor<4x16x32xf32>, tensor<4x32xf32>, tensor<4xf32>, tensor<4x32x16xf32>, tensor<4x16xf32>,
        tensor<4x16x32xf32>, tensor<4x32xf32>
  return %y : tensor<4x16x32xf32>
}
func.func @uome_swiglu_bf16(%x: tensor<2x8x16xbf16>, %wg: tensor<2x16xbf16>, %bg: tensor<2xbf16>,
                            %w1: tensor<2x16x32xbf16>, %b1: tensor<2x32xbf16>, %w2: tensor<2x16x16xbf16>,
                            %b2: tensor<2x16xbf16>) -> tensor<2x8x16xbf16> {
  %y = uoe.uome %x, router(%wg, %bg), up(%w1, %b1), down(%w2, %b2) top 2 capacity 1.0 activation swiglu union
      : tensor<2x8x16xbf16>, tensor<2x16xbf16>, tensor<2xbf16>, tensor<2x16x32xbf16>, tensor<2x32xbf16>,
        tensor<2x16x16xbf16>, tensor<2x16xbf16>
  return %y : tensor<2x8x16xbf16>
}
func.func @uome_causal_safe(%x: tensor<4x16x32xf32>, %wg: tensor<4x32xf32>, %bg: tensor<4xf32>,
                            %w1: tensor<4x32x16xf32>, %b1: tensor<4x16xf32>, %w2: tensor<4x16x32xf32>,
                            %b2: tensor<4x32xf32>) -> tensor<4x16x32xf32> {
  %y = uoe.uome %x, router(%wg, %bg), up(%w1, %b1), down(%w2, %b2) top 2 capacity 0.01 activation gelu gated routing causal_safe
      : tensor<4x16x32xf32>, tensor<4x32xf32>, tensor<4xf32>, tensor<4x32x16xf32>, tensor<4x16xf32>,
        tensor<4x16x32xf32>, tensor<4x32xf32>
  return %y : tensor<4x16x32xf32>
}
