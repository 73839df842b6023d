// RUN: uoe-opt %s -split-input-file --convert-uoe-to-linalg --verify-diagnostics | FileCheck %s

// Tests that a patch's score is the sum of its tokens' scores divided once by
// the patch size (a mean), so that patches with equal means tie exactly and
// the stable rule decides; scaling every token by 1/P before the sum would
// round each term and break such ties.
// CHECK-LABEL: func.func @data_select_patch_mean
// CHECK-DAG: [[P:%.+]] = arith.constant 3.000000e+00 : f32
// CHECK: [[SUM:%.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%{{.+}} : tensor<1x2x3x2xf32>) outs(%{{.+}} : tensor<2x1x2xf32>)
// CHECK-NEXT: ^bb0([[IN:%.+]]: f32, [[ACC:%.+]]: f32):
// CHECK-NEXT: [[ADD:%.+]] = arith.addf [[ACC]], [[IN]] : f32
// CHECK-NEXT: linalg.yield [[ADD]] : f32
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel"]} ins([[SUM]] : tensor<2x1x2xf32>)
// CHECK-NEXT: ^bb0([[S:%.+]]: f32, %{{.+}}: f32):
// CHECK-NEXT: [[MEAN:%.+]] = arith.divf [[S]], [[P]] : f32
// CHECK-NEXT: linalg.yield [[MEAN]] : f32
// CHECK-NOT: uoe.
func.func @data_select_patch_mean(%s: tensor<1x6x2xf32>) -> (tensor<2x1x1xi64>, tensor<2x1x1xf32>) {
  %pos, %w = uoe.data_select %s patch 3 capacity 0.5 : tensor<1x6x2xf32> -> tensor<2x1x1xi64>, tensor<2x1x1xf32>
  return %pos, %w : tensor<2x1x1xi64>, tensor<2x1x1xf32>
}

// -----

// Tests that with one token per patch the scores are ranked as they are,
// with no division.
// CHECK-LABEL: func.func @data_select_token
// CHECK-NOT: arith.divf
// CHECK-NOT: arith.mulf
// CHECK: return
func.func @data_select_token(%s: tensor<2x8x3xf32>) -> (tensor<3x2x4xi64>, tensor<3x2x4xf32>) {
  %pos, %w = uoe.data_select %s patch 1 capacity 0.5 : tensor<2x8x3xf32> -> tensor<3x2x4xi64>, tensor<3x2x4xf32>
  return %pos, %w : tensor<3x2x4xi64>, tensor<3x2x4xf32>
}
