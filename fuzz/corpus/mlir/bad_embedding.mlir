func.func @embedding_c1(%ids: tensor<i64>, %table: tensor<37x48xf32>) -> tensor<48xf32> {
  %h = uoe.embedding %ids, %table : tensor<i64>, tensor<37x48xf32> -> tensor<48xf32>
  return %h : tensor<48xf32>
}
