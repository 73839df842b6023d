func.func @selective_attention_plain(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x8x16xf32>, %v: tensor<2x4x8x16xf32>,
                                     %pos: tensor<2x4x8xi64>) -> tensor<2x4x8x16xf32> {
  %o = uoe.selective_attention %q, %k, %v, %pos heads 2
      : tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8xi64> -> tensor<2x4x8x16xf32>
  return %o : tensor<2x4x8x16xf32>
}
func.func @selective_attention_compacted(%q: tensor<2x4x?x16xf32>, %k: tensor<2x4x?x16xf32>, %v: tensor<2x4x?x16xf32>,
                                         %pos: tensor<2x4x?xi64>, %kp: tensor<4x16xi1>) -> tensor<2x4x?x16xf32> {
  %o = uoe.selective_attention %q, %k, %v, %pos key_padding %kp heads 2 causal rope compacted
      : tensor<2x4x?x16xf32>, tensor<2x4x?x16xf32>, tensor<2x4x?x16xf32>, tensor<2x4x?xi64>, tensor<4x16xi1> -> tensor<2x4x?x16xf32>
  return %o : tensor<2x4x?x16xf32>
}
func.func @selective_attention_original(%q: tensor<1x2x8x16xbf16>, %pos: tensor<1x2x8xi64>) -> tensor<1x2x8x16xbf16> {
  %o = uoe.selective_attention %q, %q, %q, %pos heads 4 rope original {rope_base = 500000.0 : f64, scale = 0.125 : f64}
      : tensor<1x2x8x16xbf16>, tensor<1x2x8x16xbf16>, tensor<1x2x8x16xbf16>, tensor<1x2x8xi64> -> tensor<1x2x8x16xbf16>
  return %o : tensor<1x2x8x16xbf16>
}
func.func @selective_attention_causal_odd_width(%q: tensor<2x1x4x9xf16>, %pos: tensor<2x1x4xi64>) -> tensor<2x1x4x9xf16> {
  %o = uoe.selective_attention %q, %q, %q, %pos heads 3 causal
      : tensor<2x1x4x9xf16>, tensor<2x1x4x9xf16>, tensor<2x1x4x9xf16>, tensor<2x1x4xi64> -> tensor<2x1x4x9xf16>
  return %o : tensor<2x1x4x9xf16>
}
