// RUN: uoe-opt %s -split-input-file | uoe-opt -split-input-file | FileCheck %s

// Tests that the data-selection gradient round-trips with a static L.
// CHECK-LABEL: func.func @data_select_grad_static
// CHECK-SAME: ([[POS:%.+]]: tensor<3x4x8xi64>, [[DW:%.+]]: tensor<3x4x8xf32>)
// CHECK: [[DS:%.+]] = uoe.data_select_grad [[POS]], [[DW]] patch 1 : tensor<3x4x8xi64>, tensor<3x4x8xf32> -> tensor<4x16x3xf32>{{$}}
// CHECK-NEXT: return [[DS]]
func.func @data_select_grad_static(%pos: tensor<3x4x8xi64>, %dw: tensor<3x4x8xf32>) -> tensor<4x16x3xf32> {
  %ds = uoe.data_select_grad %pos, %dw patch 1 : tensor<3x4x8xi64>, tensor<3x4x8xf32> -> tensor<4x16x3xf32>
  return %ds : tensor<4x16x3xf32>
}

// -----

// Tests that a dynamic L and patches of 2 tokens round-trip.
// CHECK-LABEL: func.func @data_select_grad_dynamic
// CHECK: uoe.data_select_grad %{{.+}}, %{{.+}} patch 2 : tensor<3x4x?xi64>, tensor<3x4x?xf64> -> tensor<4x16x3xf64>{{$}}
func.func @data_select_grad_dynamic(%pos: tensor<3x4x?xi64>, %dw: tensor<3x4x?xf64>) -> tensor<4x16x3xf64> {
  %ds = uoe.data_select_grad %pos, %dw patch 2 : tensor<3x4x?xi64>, tensor<3x4x?xf64> -> tensor<4x16x3xf64>
  return %ds : tensor<4x16x3xf64>
}
