func.func @dense_layers(%x: tensor<2x16x32xf32>, %w1: tensor<32x128xf32>, %b1: tensor<128xf32>, %w2: tensor<64x32xf32>,
                        %b2: tensor<32xf32>, %wqkv: tensor<3x32x32xf32>, %bqkv: tensor<3x32xf32>, %wo: tensor<32x32xf32>,
                        %kp: tensor<2x16xi1>) -> tensor<2x16x32xf32> {
  %m = uoe.dense_mlp %x, up(%w1, %b1), down(%w2, %b2) activation swiglu
      : tensor<2x16x32xf32>, tensor<32x128xf32>, tensor<128xf32>, tensor<64x32xf32>, tensor<32xf32>
  %a = uoe.attention %m, qkv(%wqkv, %bqkv), out(%wo, %b2) key_padding %kp heads 4 causal rope original {rope_base = 500000.0 : f64}
      : tensor<2x16x32xf32>, tensor<3x32x32xf32>, tensor<3x32xf32>, tensor<32x32xf32>, tensor<32xf32>, tensor<2x16xi1>
  %l = uoe.layer_norm %a, %b2, %b2 eps 1.0e-5 : tensor<2x16x32xf32>, tensor<32xf32>, tensor<32xf32>
  %r = uoe.rms_norm %l, %b2 eps 1.0e-6 : tensor<2x16x32xf32>, tensor<32xf32>
  return %r : tensor<2x16x32xf32>
}
func.func @expert_layers(%x: tensor<2x16x32xf32>, %wg: tensor<4x32xf32>, %bg: tensor<4xf32>, %w1: tensor<4x32x16xf32>,
                         %b1: tensor<4x16xf32>, %w2: tensor<4x16x32xf32>, %b2: tensor<4x32xf32>,
                         %swg: tensor<2x32xf32>, %sbg: tensor<2xf32>, %wqkv: tensor<3x2x32x16xf32>, %bqkv: tensor<3x2x16xf32>,
                         %wo: tensor<2x16x32xf32>, %bo: tensor<2x32xf32>, %kp: tensor<2x16xi1>) -> tensor<2x16x32xf32> {
  %u = uoe.uome %x, router(%wg, %bg), up(%w1, %b1), down(%w2, %b2) top 2 capacity 0.5 patch 2 activation silu gated
      {score = #uoe.score<sigmoid>, eps = 1.0e-5 : f64, norm_capacity = 2.0 : f64}
      : tensor<2x16x32xf32>, tensor<4x32xf32>, tensor<4xf32>, tensor<4x32x16xf32>, tensor<4x16xf32>, tensor<4x16x32xf32>, tensor<4x32xf32>
  %m = uoe.moe %u, router(%wg, %bg), up(%w1, %b1), down(%w2, %b2) top 2 renormalize activation gelu_tanh {score = #uoe.score<sigmoid>}
      : tensor<2x16x32xf32>, tensor<4x32xf32>, tensor<4xf32>, tensor<4x32x16xf32>, tensor<4x16xf32>, tensor<4x16x32xf32>, tensor<4x32xf32>
  %s = uoe.smha %m, router(%swg, %sbg), qkv(%wqkv, %bqkv), out(%wo, %bo) key_padding %kp heads 4 top 1 causal rope compacted union
      {rope_base = 100000.0 : f64}
      : tensor<2x16x32xf32>, tensor<2x32xf32>, tensor<2xf32>, tensor<3x2x32x16xf32>, tensor<3x2x16xf32>, tensor<2x16x32xf32>,
        tensor<2x32xf32>, tensor<2x16xi1>
  return %s : tensor<2x16x32xf32>
}
func.func @routing(%x: tensor<4x16x32xf32>, %wg: tensor<3x32xf32>, %bg: tensor<3xf32>)
    -> (tensor<3x4x4xi64>, tensor<3x4x4xf32>, tensor<3x4x?xi64>, tensor<3x4x?xf32>, tensor<4x16x2xi64>, tensor<4x16x2xf32>) {
  %p = uoe.router %x, %wg, %bg score sigmoid : tensor<4x16x32xf32>, tensor<3x32xf32>, tensor<3xf32> -> tensor<4x16x3xf32>
  %g = uoe.token_choice %p top 2 renormalize normalize axis 0 eps 0.0 capacity 0.5 : tensor<4x16x3xf32>
  %t = uoe.token_choice %g top 1 : tensor<4x16x3xf32>
  %pos, %w = uoe.data_select %t patch 2 capacity 0.5 : tensor<4x16x3xf32> -> tensor<3x4x4xi64>, tensor<3x4x4xf32>
  %dpos, %dw = uoe.data_select %t patch 1 dynamic : tensor<4x16x3xf32> -> tensor<3x4x?xi64>, tensor<3x4x?xf32>
  %idx, %ew = uoe.expert_select %p top 2 renormalize : tensor<4x16x3xf32> -> tensor<4x16x2xi64>, tensor<4x16x2xf32>
  return %pos, %w, %dpos, %dw, %idx, %ew
      : tensor<3x4x4xi64>, tensor<3x4x4xf32>, tensor<3x4x?xi64>, tensor<3x4x?xf32>, tensor<4x16x2xi64>, tensor<4x16x2xf32>
}
