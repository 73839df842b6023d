"builtin.module"() ({
  "func.func"() <{function_type = (tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8xi64>) -> tensor<2x4x8x16xf32>, sym_name = "selective_attention_plain"}> ({
  ^bb0(%arg0: tensor<2x4x8x16xf32>, %arg1: tensor<2x4x8x16xf32>, %arg2: tensor<2x4x8x16xf32>, %arg3: tensor<2x4x8xi64>):
    %0 = "uoe.selective_attention"(%arg0, %arg1, %arg2, %arg3) <{heads = 2 : i64, rope = #uoe.rope<none>, rope_base = 1.000000e+04 : f64}> : (tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8xi64>) -> tensor<2x4x8x16xf32>
    "func.return"(%0) : (tensor<2x4x8x16xf32>) -> ()
  }) : () -> ()
}) : () -> ()
