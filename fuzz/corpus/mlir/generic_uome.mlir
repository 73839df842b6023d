"builtin.module"() ({
  "func.func"() <{function_type = (tensor<4x16x32xf32>, tensor<4x32xf32>, tensor<4xf32>, tensor<4x32x16xf32>, tensor<4x16xf32>, tensor<4x16x32xf32>, tensor<4x32xf32>) -> tensor<4x16x32xf32>, sym_name = "uome_union"}> ({
  ^bb0(%arg0: tensor<4x16x32xf32>, %arg1: tensor<4x32xf32>, %arg2: tensor<4xf32>, %arg3: tensor<4x32x16xf32>, %arg4: tensor<4x16xf32>, %arg5: tensor<4x16x32xf32>, %arg6: tensor<4x32xf32>):
    %0 = "uoe.uome"(%arg0, %arg1, %arg2, %arg3, %arg4, %arg5, %arg6) <{activation = #uoe.activation<gelu>, capacity = 5.000000e-01 : f64, combine = #uoe.combine<union>, eps = 9.9999999999999995E-7 : f64, norm_capacity = 1.000000e+00 : f64, patch = 1 : i64, routing = #uoe.routing<reference>, score = #uoe.score<softmax>, top = 2 : i64}> : (tensor<4x16x32xf32>, tensor<4x32xf32>, tensor<4xf32>, tensor<4x32x16xf32>, tensor<4x16xf32>, tensor<4x16x32xf32>, tensor<4x32xf32>) -> tensor<4x16x32xf32>
    "func.return"(%0) : (tensor<4x16x32xf32>) -> ()
  }) : () -> ()
}) : () -> ()
