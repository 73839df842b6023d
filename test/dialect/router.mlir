// RUN: uoe-opt %s -split-input-file | uoe-opt -split-input-file | FileCheck %s

// Tests that a softmax router over a rank-3 input round-trips; probs has the
// input's shape with its last dimension replaced by E.
// CHECK-LABEL: func.func @router_softmax
// CHECK-SAME: ([[X:%.+]]: tensor<4x16x32xf32>, [[W:%.+]]: tensor<3x32xf32>, [[B:%.+]]: tensor<3xf32>)
// CHECK: [[P:%.+]] = uoe.router [[X]], [[W]], [[B]] score softmax : tensor<4x16x32xf32>, tensor<3x32xf32>, tensor<3xf32> -> tensor<4x16x3xf32>{{$}}
// CHECK-NEXT: return [[P]] : tensor<4x16x3xf32>
func.func @router_softmax(%x: tensor<4x16x32xf32>, %wg: tensor<3x32xf32>, %bg: tensor<3xf32>) -> tensor<4x16x3xf32> {
  %p = uoe.router %x, %wg, %bg score softmax
      : tensor<4x16x32xf32>, tensor<3x32xf32>, tensor<3xf32> -> tensor<4x16x3xf32>
  return %p : tensor<4x16x3xf32>
}

// -----

// Tests that a sigmoid router over a rank-2 bf16 input round-trips.
// CHECK-LABEL: func.func @router_sigmoid_bf16
// CHECK: [[P:%.+]] = uoe.router %{{.+}}, %{{.+}}, %{{.+}} score sigmoid : tensor<64x32xbf16>, tensor<8x32xbf16>, tensor<8xbf16> -> tensor<64x8xbf16>{{$}}
// CHECK-NEXT: return [[P]]
func.func @router_sigmoid_bf16(%x: tensor<64x32xbf16>, %wg: tensor<8x32xbf16>, %bg: tensor<8xbf16>) -> tensor<64x8xbf16> {
  %p = uoe.router %x, %wg, %bg score sigmoid
      : tensor<64x32xbf16>, tensor<8x32xbf16>, tensor<8xbf16> -> tensor<64x8xbf16>
  return %p : tensor<64x8xbf16>
}

// -----

// Tests that a router on a single token (rank-1 input) yields rank-1 probs.
// CHECK-LABEL: func.func @router_rank1
// CHECK: uoe.router {{.+}} score softmax : tensor<32xf64>, tensor<4x32xf64>, tensor<4xf64> -> tensor<4xf64>{{$}}
func.func @router_rank1(%x: tensor<32xf64>, %wg: tensor<4x32xf64>, %bg: tensor<4xf64>) -> tensor<4xf64> {
  %p = uoe.router %x, %wg, %bg score softmax : tensor<32xf64>, tensor<4x32xf64>, tensor<4xf64> -> tensor<4xf64>
  return %p : tensor<4xf64>
}
