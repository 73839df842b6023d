"builtin.module"() ({
  "func.func"() <{function_type = (tensor<4x16x3xf32>) -> (tensor<3x4x8xi64>, tensor<3x4x8xf32>), sym_name = "data_select_static"}> ({
  ^bb0(%arg0: tensor<4x16x3xf32>):
    %0:2 = "uoe.data_select"(%arg0) <{capacity = 5.000000e-01 : f64, patch = 1 : i64}> : (tensor<4x16x3xf32>) -> (tensor<3x4x8xi64>, tensor<3x4x8xf32>)
    "func.return"(%0#0, %0#1) : (tensor<3x4x8xi64>, tensor<3x4x8xf32>) -> ()
  }) : () -> ()
}) : () -> ()
