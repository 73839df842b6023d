"builtin.module"() ({
  "func.func"() <{function_type = (tensor<4x16x32xf32>, tensor<3x4x8xi64>) -> tensor<3x4x8x32xf32>, sym_name = "dispatch_tokens"}> ({
  ^bb0(%arg0: tensor<4x16x32xf32>, %arg1: tensor<3x4x8xi64>):
    %0 = "uoe.dispatch"(%arg0, %arg1) <{patch = 1 : i64}> : (tensor<4x16x32xf32>, tensor<3x4x8xi64>) -> tensor<3x4x8x32xf32>
    "func.return"(%0) : (tensor<3x4x8x32xf32>) -> ()
  }) : () -> ()
}) : () -> ()
