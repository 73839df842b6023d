"builtin.module"() ({
  "func.func"() <{function_type = (tensor<2x16x256xf32>, tensor<2x16xi64>) -> tensor<f32>, sym_name = "cross_entropy_tokens"}> ({
  ^bb0(%arg0: tensor<2x16x256xf32>, %arg1: tensor<2x16xi64>):
    %0 = "uoe.cross_entropy"(%arg0, %arg1) : (tensor<2x16x256xf32>, tensor<2x16xi64>) -> tensor<f32>
    "func.return"(%0) : (tensor<f32>) -> ()
  }) : () -> ()
}) : () -> ()
