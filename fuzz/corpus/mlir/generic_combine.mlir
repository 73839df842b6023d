"builtin.module"() ({
  "func.func"() <{function_type = (tensor<3x4x8x32xf32>, tensor<3x4x8xi64>) -> tensor<4x16x32xf32>, sym_name = "combine_union"}> ({
  ^bb0(%arg0: tensor<3x4x8x32xf32>, %arg1: tensor<3x4x8xi64>):
    %0 = "uoe.combine"(%arg0, %arg1) <{mode = #uoe.combine<union>, patch = 1 : i64}> : (tensor<3x4x8x32xf32>, tensor<3x4x8xi64>) -> tensor<4x16x32xf32>
    "func.return"(%0) : (tensor<4x16x32xf32>) -> ()
  }) : () -> ()
}) : () -> ()
