// A post-LN UoE language-model block (spec §6): LN(x + SMHA(x)) followed by
// LN(h + UoME(h)), for B=2 sequences of T=16 tokens of width d=32.
// SMHA: 4 heads in 2 head-group experts, each token keeps its top expert,
// dynamic capacity, causal, rotary positions of the compacted order
// (reference mode). UoME: 4 experts of width Fe=32 (F=128), each token keeps
// its top 2 experts, every expert keeps half of the tokens of each sequence.
func.func @forward(
    %x: tensor<2x16x32xf32>,
    %att_wg: tensor<2x32xf32>, %att_bg: tensor<2xf32>,
    %wqkv: tensor<3x2x32x16xf32>, %bqkv: tensor<3x2x16xf32>,
    %wo: tensor<2x16x32xf32>, %bo: tensor<2x32xf32>,
    %ln1_g: tensor<32xf32>, %ln1_b: tensor<32xf32>,
    %mlp_wg: tensor<4x32xf32>, %mlp_bg: tensor<4xf32>,
    %w1: tensor<4x32x32xf32>, %b1: tensor<4x32xf32>,
    %w2: tensor<4x32x32xf32>, %b2: tensor<4x32xf32>,
    %ln2_g: tensor<32xf32>, %ln2_b: tensor<32xf32>) -> tensor<2x16x32xf32> {
  %a = uoe.smha %x, router(%att_wg, %att_bg), qkv(%wqkv, %bqkv), out(%wo, %bo)
      heads 4 top 1 causal rope compacted union
      : tensor<2x16x32xf32>, tensor<2x32xf32>, tensor<2xf32>, tensor<3x2x32x16xf32>,
        tensor<3x2x16xf32>, tensor<2x16x32xf32>, tensor<2x32xf32>
  %r1 = arith.addf %x, %a : tensor<2x16x32xf32>
  %h = uoe.layer_norm %r1, %ln1_g, %ln1_b eps 1.0e-05
      : tensor<2x16x32xf32>, tensor<32xf32>, tensor<32xf32>
  %m = uoe.uome %h, router(%mlp_wg, %mlp_bg), up(%w1, %b1), down(%w2, %b2)
      top 2 capacity 0.5 activation gelu union
      : tensor<2x16x32xf32>, tensor<4x32xf32>, tensor<4xf32>, tensor<4x32x32xf32>,
        tensor<4x32xf32>, tensor<4x32x32xf32>, tensor<4x32xf32>
  %r2 = arith.addf %h, %m : tensor<2x16x32xf32>
  %y = uoe.layer_norm %r2, %ln2_g, %ln2_b eps 1.0e-05
      : tensor<2x16x32xf32>, tensor<32xf32>, tensor<32xf32>
  return %y : tensor<2x16x32xf32>
}
