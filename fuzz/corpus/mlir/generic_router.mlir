"builtin.module"() ({
  "func.func"() <{function_type = (tensor<4x16x32xf32>, tensor<3x32xf32>, tensor<3xf32>) -> tensor<4x16x3xf32>, sym_name = "router_softmax"}> ({
  ^bb0(%arg0: tensor<4x16x32xf32>, %arg1: tensor<3x32xf32>, %arg2: tensor<3xf32>):
    %0 = "uoe.router"(%arg0, %arg1, %arg2) <{score = #uoe.score<softmax>}> : (tensor<4x16x32xf32>, tensor<3x32xf32>, tensor<3xf32>) -> tensor<4x16x3xf32>
    "func.return"(%0) : (tensor<4x16x3xf32>) -> ()
  }) : () -> ()
}) : () -> ()
