// RUN: uoe-opt %s -split-input-file | uoe-opt -split-input-file | FileCheck %s

// Tests that the router gradient round-trips: the input, weight and bias
// gradients, the last with its written type.
// CHECK-LABEL: func.func @router_grad_softmax
// CHECK-SAME: ([[X:%.+]]: tensor<4x16x32xf32>, [[W:%.+]]: tensor<3x32xf32>, [[P:%.+]]: tensor<4x16x3xf32>, [[DP:%.+]]: tensor<4x16x3xf32>)
// CHECK: [[DX:%[^,]+]], [[DW:%[^,]+]], [[DB:%[^ ]+]] = uoe.router_grad [[X]], [[W]], [[P]], [[DP]] score softmax : tensor<4x16x32xf32>, tensor<3x32xf32>, tensor<4x16x3xf32> -> tensor<3xf32>{{$}}
// CHECK-NEXT: return [[DX]], [[DW]], [[DB]] : tensor<4x16x32xf32>, tensor<3x32xf32>, tensor<3xf32>
func.func @router_grad_softmax(%x: tensor<4x16x32xf32>, %w: tensor<3x32xf32>, %p: tensor<4x16x3xf32>, %dp: tensor<4x16x3xf32>)
    -> (tensor<4x16x32xf32>, tensor<3x32xf32>, tensor<3xf32>) {
  %dx, %dw, %db = uoe.router_grad %x, %w, %p, %dp score softmax
      : tensor<4x16x32xf32>, tensor<3x32xf32>, tensor<4x16x3xf32> -> tensor<3xf32>
  return %dx, %dw, %db : tensor<4x16x32xf32>, tensor<3x32xf32>, tensor<3xf32>
}

// -----

// Tests that sigmoid scores and a rank-1 f64 input round-trip.
// CHECK-LABEL: func.func @router_grad_sigmoid
// CHECK: uoe.router_grad %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}} score sigmoid : tensor<8xf64>, tensor<5x8xf64>, tensor<5xf64> -> tensor<5xf64>{{$}}
func.func @router_grad_sigmoid(%x: tensor<8xf64>, %w: tensor<5x8xf64>, %p: tensor<5xf64>, %dp: tensor<5xf64>) -> tensor<5xf64> {
  %dx, %dw, %db = uoe.router_grad %x, %w, %p, %dp score sigmoid : tensor<8xf64>, tensor<5x8xf64>, tensor<5xf64> -> tensor<5xf64>
  return %db : tensor<5xf64>
}
