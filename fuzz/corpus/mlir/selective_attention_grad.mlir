func.func @selective_attention_grad_plain(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x8x16xf32>, %v: tensor<2x4x8x16xf32>,
    %pos: tensor<2x4x8xi64>, %do: tensor<2x4x8x16xf32>) -> (tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>) {
  %dq, %dk, %dv = uoe.selective_attention_grad %q, %k, %v, %pos, %do heads 2 : tensor<2x4x8x16xf32>, tensor<2x4x8xi64>
  return %dq, %dk, %dv : tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>
}
func.func @selective_attention_grad_compacted(%q: tensor<2x4x?x16xf32>, %k: tensor<2x4x?x16xf32>, %v: tensor<2x4x?x16xf32>,
    %pos: tensor<2x4x?xi64>, %kp: tensor<4x16xi1>, %do: tensor<2x4x?x16xf32>) -> tensor<2x4x?x16xf32> {
  %dq, %dk, %dv = uoe.selective_attention_grad %q, %k, %v, %pos key_padding %kp, %do heads 2 causal rope compacted
      : tensor<2x4x?x16xf32>, tensor<2x4x?xi64>, tensor<4x16xi1>
  return %dq : tensor<2x4x?x16xf32>
}
func.func @selective_attention_grad_original(%q: tensor<1x2x3x4xf64>, %pos: tensor<1x2x3xi64>) -> tensor<1x2x3x4xf64> {
  %dq, %dk, %dv = uoe.selective_attention_grad %q, %q, %q, %pos, %q heads 1 rope original {rope_base = 500.0 : f64, scale = 0.25 : f64}
      : tensor<1x2x3x4xf64>, tensor<1x2x3xi64>
  return %dq : tensor<1x2x3x4xf64>
}
