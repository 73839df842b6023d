"builtin.module"() ({
  "func.func"() <{function_type = (tensor<64x32xf32>, tensor<8x32xf32>, tensor<8xf32>, tensor<8x32x16xf32>, tensor<8x16xf32>, tensor<8x16x32xf32>, tensor<8x32xf32>) -> tensor<64x32xf32>, sym_name = "moe_renormalize"}> ({
  ^bb0(%arg0: tensor<64x32xf32>, %arg1: tensor<8x32xf32>, %arg2: tensor<8xf32>, %arg3: tensor<8x32x16xf32>, %arg4: tensor<8x16xf32>, %arg5: tensor<8x16x32xf32>, %arg6: tensor<8x32xf32>):
    %0 = "uoe.moe"(%arg0, %arg1, %arg2, %arg3, %arg4, %arg5, %arg6) <{activation = #uoe.activation<silu>, renormalize, score = #uoe.score<softmax>, top = 2 : i64}> : (tensor<64x32xf32>, tensor<8x32xf32>, tensor<8xf32>, tensor<8x32x16xf32>, tensor<8x16xf32>, tensor<8x16x32xf32>, tensor<8x32xf32>) -> tensor<64x32xf32>
    "func.return"(%0) : (tensor<64x32xf32>) -> ()
  }) : () -> ()
}) : () -> ()
