"builtin.module"() ({
  "func.func"() <{function_type = (tensor<2x16x32xf32>, tensor<3x32x32xf32>, tensor<3x32xf32>, tensor<32x32xf32>, tensor<32xf32>) -> tensor<2x16x32xf32>, sym_name = "attention_plain"}> ({
  ^bb0(%arg0: tensor<2x16x32xf32>, %arg1: tensor<3x32x32xf32>, %arg2: tensor<3x32xf32>, %arg3: tensor<32x32xf32>, %arg4: tensor<32xf32>):
    %0 = "uoe.attention"(%arg0, %arg1, %arg2, %arg3, %arg4) <{heads = 4 : i64, rope = #uoe.rope<none>, rope_base = 1.000000e+04 : f64}> : (tensor<2x16x32xf32>, tensor<3x32x32xf32>, tensor<3x32xf32>, tensor<32x32xf32>, tensor<32xf32>) -> tensor<2x16x32xf32>
    "func.return"(%0) : (tensor<2x16x32xf32>) -> ()
  }) : () -> ()
}) : () -> ()
