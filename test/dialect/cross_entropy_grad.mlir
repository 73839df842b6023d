// RUN: uoe-opt %s -split-input-file | uoe-opt -split-input-file | FileCheck %s

// Tests that the cross-entropy gradient round-trips; the logits gradient has
// the type of the logits.
// CHECK-LABEL: func.func @cross_entropy_grad_tokens
// CHECK-SAME: ([[L:%.+]]: tensor<2x16x256xf32>, [[T:%.+]]: tensor<2x16xi64>, [[DL:%.+]]: tensor<f32>)
// CHECK: [[DLOG:%.+]] = uoe.cross_entropy_grad [[L]], [[T]], [[DL]] : tensor<2x16x256xf32>, tensor<2x16xi64>, tensor<f32>{{$}}
// CHECK-NEXT: return [[DLOG]] : tensor<2x16x256xf32>
func.func @cross_entropy_grad_tokens(%logits: tensor<2x16x256xf32>, %targets: tensor<2x16xi64>, %dl: tensor<f32>) -> tensor<2x16x256xf32> {
  %d = uoe.cross_entropy_grad %logits, %targets, %dl : tensor<2x16x256xf32>, tensor<2x16xi64>, tensor<f32>
  return %d : tensor<2x16x256xf32>
}
