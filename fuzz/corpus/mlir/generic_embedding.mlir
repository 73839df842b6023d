"builtin.module"() ({
  "func.func"() <{function_type = (tensor<2x5xi64>, tensor<37x48xf32>) -> tensor<2x5x48xf32>, sym_name = "embedding_tokens"}> ({
  ^bb0(%arg0: tensor<2x5xi64>, %arg1: tensor<37x48xf32>):
    %0 = "uoe.embedding"(%arg0, %arg1) : (tensor<2x5xi64>, tensor<37x48xf32>) -> tensor<2x5x48xf32>
    "func.return"(%0) : (tensor<2x5x48xf32>) -> ()
  }) : () -> ()
}) : () -> ()
