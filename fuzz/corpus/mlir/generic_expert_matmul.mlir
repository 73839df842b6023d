"builtin.module"() ({
  "func.func"() <{function_type = (tensor<3x4x8x32xf32>, tensor<3x32x16xf32>) -> tensor<3x4x8x16xf32>, sym_name = "expert_matmul_plain"}> ({
  ^bb0(%arg0: tensor<3x4x8x32xf32>, %arg1: tensor<3x32x16xf32>):
    %0 = "uoe.expert_matmul"(%arg0, %arg1) <{activation = #uoe.activation<none>}> : (tensor<3x4x8x32xf32>, tensor<3x32x16xf32>) -> tensor<3x4x8x16xf32>
    "func.return"(%0) : (tensor<3x4x8x16xf32>) -> ()
  }) : () -> ()
}) : () -> ()
