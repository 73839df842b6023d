// RUN: uoe-opt %s -split-input-file | uoe-opt -split-input-file | FileCheck %s

// Tests that the token-choice gradient with the reference normalisation
// round-trips; the probs gradient has the type of probs.
// CHECK-LABEL: func.func @token_choice_grad_normalize
// CHECK-SAME: ([[P:%.+]]: tensor<4x16x3xf32>, [[DG:%.+]]: tensor<4x16x3xf32>)
// CHECK: [[DP:%.+]] = uoe.token_choice_grad [[P]], [[DG]] top 2 normalize axis 0 eps 9.9999999999999995E-7 capacity 1.000000e+00 : tensor<4x16x3xf32>{{$}}
// CHECK-NEXT: return [[DP]]
func.func @token_choice_grad_normalize(%p: tensor<4x16x3xf32>, %dg: tensor<4x16x3xf32>) -> tensor<4x16x3xf32> {
  %dp = uoe.token_choice_grad %p, %dg top 2 normalize axis 0 eps 1.0e-06 capacity 1.0 : tensor<4x16x3xf32>
  return %dp : tensor<4x16x3xf32>
}

// -----

// Tests that renormalize alone, and no option, round-trip.
// CHECK-LABEL: func.func @token_choice_grad_renormalize
// CHECK: uoe.token_choice_grad %{{.+}}, %{{.+}} top 2 renormalize : tensor<64x8xf64>{{$}}
// CHECK: uoe.token_choice_grad %{{.+}}, %{{.+}} top 1 : tensor<64x8xf64>{{$}}
func.func @token_choice_grad_renormalize(%p: tensor<64x8xf64>, %ds: tensor<64x8xf64>) -> (tensor<64x8xf64>, tensor<64x8xf64>) {
  %a = uoe.token_choice_grad %p, %ds top 2 renormalize : tensor<64x8xf64>
  %b = uoe.token_choice_grad %p, %ds top 1 : tensor<64x8xf64>
  return %a, %b : tensor<64x8xf64>, tensor<64x8xf64>
}
