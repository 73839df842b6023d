// RUN: uoe-opt %s -split-input-file | uoe-opt -split-input-file | FileCheck %s

// Tests that the token cross-entropy round-trips with a scalar loss.
// CHECK-LABEL: func.func @cross_entropy_tokens
// CHECK-SAME: ([[L:%.+]]: tensor<2x16x256xf32>, [[T:%.+]]: tensor<2x16xi64>)
// CHECK: [[LOSS:%.+]] = uoe.cross_entropy [[L]], [[T]] : tensor<2x16x256xf32>, tensor<2x16xi64> -> tensor<f32>{{$}}
// CHECK-NEXT: return [[LOSS]]
func.func @cross_entropy_tokens(%logits: tensor<2x16x256xf32>, %targets: tensor<2x16xi64>) -> tensor<f32> {
  %l = uoe.cross_entropy %logits, %targets : tensor<2x16x256xf32>, tensor<2x16xi64> -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// Tests that a class loss over [N, V] in f64 round-trips.
// CHECK-LABEL: func.func @cross_entropy_classes
// CHECK: uoe.cross_entropy %{{.+}}, %{{.+}} : tensor<8x10xf64>, tensor<8xi64> -> tensor<f64>{{$}}
func.func @cross_entropy_classes(%logits: tensor<8x10xf64>, %targets: tensor<8xi64>) -> tensor<f64> {
  %l = uoe.cross_entropy %logits, %targets : tensor<8x10xf64>, tensor<8xi64> -> tensor<f64>
  return %l : tensor<f64>
}
