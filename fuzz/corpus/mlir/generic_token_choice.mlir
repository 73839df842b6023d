"builtin.module"() ({
  "func.func"() <{function_type = (tensor<4x16x3xf32>) -> tensor<4x16x3xf32>, sym_name = "token_choice_plain"}> ({
  ^bb0(%arg0: tensor<4x16x3xf32>):
    %0 = "uoe.token_choice"(%arg0) <{capacity = 1.000000e+00 : f64, eps = 9.9999999999999995E-7 : f64, top = 2 : i64}> : (tensor<4x16x3xf32>) -> tensor<4x16x3xf32>
    "func.return"(%0) : (tensor<4x16x3xf32>) -> ()
  }) : () -> ()
}) : () -> ()
