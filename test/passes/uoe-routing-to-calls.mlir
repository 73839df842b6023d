// RUN: uoe-opt %s -split-input-file --uoe-routing-to-calls | FileCheck %s

// Tests that a dynamic data selection keeps its patch scores (patch 2:
// summed, then divided by 2) and its L (the largest count of positive
// patch scores) in linalg, and ranks them with one call of the runtime's
// kernel: E 3, R 4, 8 patches, L, the scores read in place, and fresh
// positions and weights of L slots.
// CHECK-LABEL: func.func private @uoe_select_patches(i64, i64, i64, i64, i64, i64, i64, i64, i64)
// CHECK-LABEL: func.func @dynamic
// CHECK-DAG: %[[NP:.+]] = arith.constant 8 : i64
// CHECK-DAG: %[[R:.+]] = arith.constant 4 : i64
// CHECK-DAG: %[[E:.+]] = arith.constant 3 : i64
// CHECK: %[[PS:.+]] = linalg.generic {{.+}} ins(%{{.+}} : tensor<3x4x8xf32>) outs(%{{.+}} : tensor<3x4x8xf32>)
// CHECK: arith.divf
// CHECK: arith.maxsi
// CHECK: %[[L:.+]] = tensor.extract %{{.+}}[] : tensor<i64>
// CHECK: bufferization.to_buffer %[[PS]] read_only : tensor<3x4x8xf32> to memref<3x4x8xf32, strided<[?, ?, 1], offset: ?>>
// CHECK: %[[POS:.+]] = memref.alloc(%{{.+}}) {alignment = 64 : i64} : memref<3x4x?xi64>
// CHECK: %[[W:.+]] = memref.alloc(%{{.+}}) {alignment = 64 : i64} : memref<3x4x?xf32>
// CHECK: call @uoe_select_patches(%[[E]], %[[R]], %[[NP]], %[[L]],
// CHECK: %[[P:.+]] = bufferization.to_tensor %[[POS]] restrict writable
// CHECK: %[[WT:.+]] = bufferization.to_tensor %[[W]] restrict writable
// CHECK-NOT: uoe.data_select
// CHECK: return %[[P]], %[[WT]]
func.func @dynamic(%g: tensor<4x16x3xf32>) -> (tensor<3x4x?xi64>, tensor<3x4x?xf32>) {
  %pos, %w = uoe.data_select %g patch 2 dynamic : tensor<4x16x3xf32> -> tensor<3x4x?xi64>, tensor<3x4x?xf32>
  return %pos, %w : tensor<3x4x?xi64>, tensor<3x4x?xf32>
}

// -----

// Tests that a static capacity passes L as a constant (floor(0.5 * 16)).
// CHECK-LABEL: func.func @static
// CHECK-DAG: %[[L:.+]] = arith.constant 8 : i64
// CHECK-DAG: %[[NP:.+]] = arith.constant 16 : i64
// CHECK: memref.alloc() {alignment = 64 : i64} : memref<3x4x8xi64>
// CHECK: call @uoe_select_patches(%{{.+}}, %{{.+}}, %[[NP]], %[[L]],
func.func @static(%g: tensor<4x16x3xf32>) -> (tensor<3x4x8xi64>, tensor<3x4x8xf32>) {
  %pos, %w = uoe.data_select %g patch 1 capacity 0.5 : tensor<4x16x3xf32> -> tensor<3x4x8xi64>, tensor<3x4x8xf32>
  return %pos, %w : tensor<3x4x8xi64>, tensor<3x4x8xf32>
}

// -----

// Tests that a data selection on another element type is left to
// convert-uoe-to-linalg.
// CHECK-LABEL: func.func @f64
// CHECK: uoe.data_select
// CHECK-NOT: call @uoe_select_patches
func.func @f64(%g: tensor<4x16x3xf64>) -> (tensor<3x4x8xi64>, tensor<3x4x8xf64>) {
  %pos, %w = uoe.data_select %g patch 1 capacity 0.5 : tensor<4x16x3xf64> -> tensor<3x4x8xi64>, tensor<3x4x8xf64>
  return %pos, %w : tensor<3x4x8xi64>, tensor<3x4x8xf64>
}

// -----

// Tests that the router's logits come from the runtime (outer 2, inner 16,
// d 32, E 4; x, the weights and the bias read in place) and its softmax
// stays linalg on them; rank 4 and f64 routers are left alone.
// CHECK-LABEL: func.func private @uoe_router_logits(i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64)
// CHECK-LABEL: func.func @router
// CHECK-DAG: %[[C2:.+]] = arith.constant 2 : i64
// CHECK-DAG: %[[C16:.+]] = arith.constant 16 : i64
// CHECK-DAG: %[[C32:.+]] = arith.constant 32 : i64
// CHECK-DAG: %[[C4:.+]] = arith.constant 4 : i64
// CHECK: %[[OUT:.+]] = memref.alloc() {alignment = 64 : i64} : memref<2x16x4xf32>
// CHECK: call @uoe_router_logits(%[[C2]], %[[C16]], %[[C32]], %[[C4]],
// CHECK: %[[LOGITS:.+]] = bufferization.to_tensor %[[OUT]] restrict writable
// CHECK: linalg.generic {{.*}} ins(%[[LOGITS]]
// CHECK: uoe.router {{.+}} : tensor<2x16x32xf64>
func.func @router(%x: tensor<2x16x32xf32>, %w: tensor<4x32xf32>, %b: tensor<4xf32>, %y: tensor<2x16x32xf64>, %v: tensor<4x32xf64>, %c: tensor<4xf64>) -> (tensor<2x16x4xf32>, tensor<2x16x4xf64>) {
  %p = uoe.router %x, %w, %b score softmax : tensor<2x16x32xf32>, tensor<4x32xf32>, tensor<4xf32> -> tensor<2x16x4xf32>
  %q = uoe.router %y, %v, %c score softmax : tensor<2x16x32xf64>, tensor<4x32xf64>, tensor<4xf64> -> tensor<2x16x4xf64>
  return %p, %q : tensor<2x16x4xf32>, tensor<2x16x4xf64>
}
