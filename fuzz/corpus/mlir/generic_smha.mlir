"builtin.module"() ({
  "func.func"() <{function_type = (tensor<2x16x32xf32>, tensor<2x32xf32>, tensor<2xf32>, tensor<3x2x32x16xf32>, tensor<3x2x16xf32>, tensor<2x16x32xf32>, tensor<2x32xf32>) -> tensor<2x16x32xf32>, sym_name = "smha_plain"}> ({
  ^bb0(%arg0: tensor<2x16x32xf32>, %arg1: tensor<2x32xf32>, %arg2: tensor<2xf32>, %arg3: tensor<3x2x32x16xf32>, %arg4: tensor<3x2x16xf32>, %arg5: tensor<2x16x32xf32>, %arg6: tensor<2x32xf32>):
    %0 = "uoe.smha"(%arg0, %arg1, %arg2, %arg3, %arg4, %arg5, %arg6) <{combine = #uoe.combine<union>, eps = 9.9999999999999995E-7 : f64, heads = 4 : i64, norm_capacity = 1.000000e+00 : f64, rope = #uoe.rope<none>, rope_base = 1.000000e+04 : f64, routing = #uoe.routing<reference>, score = #uoe.score<softmax>, top = 1 : i64}> : (tensor<2x16x32xf32>, tensor<2x32xf32>, tensor<2xf32>, tensor<3x2x32x16xf32>, tensor<3x2x16xf32>, tensor<2x16x32xf32>, tensor<2x32xf32>) -> tensor<2x16x32xf32>
    "func.return"(%0) : (tensor<2x16x32xf32>) -> ()
  }) : () -> ()
}) : () -> ()
