func.func @embedding_tokens(%ids: tensor<2x5xi64>, %table: tensor<37x48xf32>) -> tensor<2x5x48xf32> {
  %h = uoe.embedding %ids, %table : tensor<2x5xi64>, tensor<37x48xf32> -> tensor<2x5x48xf32>
  return %h : tensor<2x5x48xf32>
}
func.func @embedding_positions(%ids: tensor<2x16xi64>, %table: tensor<256x64xf32>, %pos: tensor<128x64xf32>) -> tensor<2x16x64xf32> {
  %h = uoe.embedding %ids, %table positions %pos : tensor<2x16xi64>, tensor<256x64xf32>, tensor<128x64xf32> -> tensor<2x16x64xf32>
  return %h : tensor<2x16x64xf32>
}
func.func @embedding_i32_rank1(%ids: tensor<7xi32>, %table: tensor<10x8xf16>) -> tensor<7x8xf16> {
  %h = uoe.embedding %ids, %table : tensor<7xi32>, tensor<10x8xf16> -> tensor<7x8xf16>
  return %h : tensor<7x8xf16>
}
