// RUN: uoe-opt %s -split-input-file | uoe-opt -split-input-file | FileCheck %s

// Tests that a static selection round-trips: L = floor(0.5 * 16 / 1) = 8.
// CHECK-LABEL: func.func @data_select_static
// CHECK-SAME: ([[S:%.+]]: tensor<4x16x3xf32>)
// CHECK: [[POS:%.+]], [[W:%.+]] = uoe.data_select [[S]] patch 1 capacity 5.000000e-01 : tensor<4x16x3xf32> -> tensor<3x4x8xi64>, tensor<3x4x8xf32>{{$}}
// CHECK-NEXT: return [[POS]], [[W]] : tensor<3x4x8xi64>, tensor<3x4x8xf32>
func.func @data_select_static(%g: tensor<4x16x3xf32>) -> (tensor<3x4x8xi64>, tensor<3x4x8xf32>) {
  %pos, %w = uoe.data_select %g patch 1 capacity 0.5
      : tensor<4x16x3xf32> -> tensor<3x4x8xi64>, tensor<3x4x8xf32>
  return %pos, %w : tensor<3x4x8xi64>, tensor<3x4x8xf32>
}

// -----

// Tests that a dynamic selection round-trips with the `dynamic` keyword and a
// `?` capacity L.
// CHECK-LABEL: func.func @data_select_dynamic
// CHECK: [[POS:%.+]], [[W:%.+]] = uoe.data_select %{{.+}} patch 1 dynamic : tensor<4x16x3xf32> -> tensor<3x4x?xi64>, tensor<3x4x?xf32>{{$}}
// CHECK-NEXT: return [[POS]], [[W]]
func.func @data_select_dynamic(%g: tensor<4x16x3xf32>) -> (tensor<3x4x?xi64>, tensor<3x4x?xf32>) {
  %pos, %w = uoe.data_select %g patch 1 dynamic
      : tensor<4x16x3xf32> -> tensor<3x4x?xi64>, tensor<3x4x?xf32>
  return %pos, %w : tensor<3x4x?xi64>, tensor<3x4x?xf32>
}

// -----

// Tests that patches of 4 tokens shrink L: floor(0.5 * 16 / 4) = 2 (bf16).
// CHECK-LABEL: func.func @data_select_patch
// CHECK: uoe.data_select %{{.+}} patch 4 capacity 5.000000e-01 : tensor<2x16x4xbf16> -> tensor<4x2x2xi64>, tensor<4x2x2xbf16>{{$}}
func.func @data_select_patch(%g: tensor<2x16x4xbf16>) -> (tensor<4x2x2xi64>, tensor<4x2x2xbf16>) {
  %pos, %w = uoe.data_select %g patch 4 capacity 0.5
      : tensor<2x16x4xbf16> -> tensor<4x2x2xi64>, tensor<4x2x2xbf16>
  return %pos, %w : tensor<4x2x2xi64>, tensor<4x2x2xbf16>
}

// -----

// Tests that the capacity is floored (0.3 * 10 patches = 3) and that capacity 1
// keeps every patch (L = N / P), with dynamic selection over patches of 2.
// CHECK-LABEL: func.func @data_select_floor
// CHECK: uoe.data_select %{{.+}} patch 1 capacity 3.000000e-01 : tensor<1x10x2xf16> -> tensor<2x1x3xi64>, tensor<2x1x3xf16>{{$}}
// CHECK: uoe.data_select %{{.+}} patch 1 capacity 1.000000e+00 : tensor<1x10x2xf16> -> tensor<2x1x10xi64>, tensor<2x1x10xf16>{{$}}
// CHECK: uoe.data_select %{{.+}} patch 2 dynamic : tensor<1x10x2xf16> -> tensor<2x1x?xi64>, tensor<2x1x?xf16>{{$}}
func.func @data_select_floor(%g: tensor<1x10x2xf16>)
    -> (tensor<2x1x3xi64>, tensor<2x1x10xi64>, tensor<2x1x?xf16>) {
  %pos, %w = uoe.data_select %g patch 1 capacity 0.3
      : tensor<1x10x2xf16> -> tensor<2x1x3xi64>, tensor<2x1x3xf16>
  %pos1, %w1 = uoe.data_select %g patch 1 capacity 1.0
      : tensor<1x10x2xf16> -> tensor<2x1x10xi64>, tensor<2x1x10xf16>
  %pos2, %w2 = uoe.data_select %g patch 2 dynamic
      : tensor<1x10x2xf16> -> tensor<2x1x?xi64>, tensor<2x1x?xf16>
  return %pos, %pos1, %w2 : tensor<2x1x3xi64>, tensor<2x1x10xi64>, tensor<2x1x?xf16>
}
