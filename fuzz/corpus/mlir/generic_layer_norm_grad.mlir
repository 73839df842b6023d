"builtin.module"() ({
  "func.func"() <{function_type = (tensor<2x16x32xf32>, tensor<32xf32>, tensor<2x16x32xf32>) -> (tensor<2x16x32xf32>, tensor<32xf32>, tensor<32xf32>), sym_name = "layer_norm_grad_f32"}> ({
  ^bb0(%arg0: tensor<2x16x32xf32>, %arg1: tensor<32xf32>, %arg2: tensor<2x16x32xf32>):
    %0:3 = "uoe.layer_norm_grad"(%arg0, %arg1, %arg2) <{eps = 1.000000e-05 : f64}> : (tensor<2x16x32xf32>, tensor<32xf32>, tensor<2x16x32xf32>) -> (tensor<2x16x32xf32>, tensor<32xf32>, tensor<32xf32>)
    "func.return"(%0#0, %0#1, %0#2) : (tensor<2x16x32xf32>, tensor<32xf32>, tensor<32xf32>) -> ()
  }) : () -> ()
}) : () -> ()
