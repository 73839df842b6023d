// RUN: uoe-opt %s -split-input-file | uoe-opt -split-input-file | FileCheck %s

// Tests that a top-2 selection with renormalize round-trips; both results have
// the leading shape of probs and last dimension top.
// CHECK-LABEL: func.func @expert_select_renormalize
// CHECK-SAME: ([[P:%.+]]: tensor<64x8xf32>)
// CHECK: [[IDX:%.+]], [[W:%.+]] = uoe.expert_select [[P]] top 2 renormalize : tensor<64x8xf32> -> tensor<64x2xi64>, tensor<64x2xf32>{{$}}
// CHECK-NEXT: return [[IDX]], [[W]] : tensor<64x2xi64>, tensor<64x2xf32>
func.func @expert_select_renormalize(%p: tensor<64x8xf32>) -> (tensor<64x2xi64>, tensor<64x2xf32>) {
  %idx, %w = uoe.expert_select %p top 2 renormalize : tensor<64x8xf32> -> tensor<64x2xi64>, tensor<64x2xf32>
  return %idx, %w : tensor<64x2xi64>, tensor<64x2xf32>
}

// -----

// Tests that without renormalize no clause is printed, on a rank-3 input.
// CHECK-LABEL: func.func @expert_select_plain
// CHECK: [[IDX:%.+]], [[W:%.+]] = uoe.expert_select %{{.+}} top 1 : tensor<2x16x4xf16> -> tensor<2x16x1xi64>, tensor<2x16x1xf16>{{$}}
// CHECK-NEXT: return [[IDX]], [[W]]
func.func @expert_select_plain(%p: tensor<2x16x4xf16>) -> (tensor<2x16x1xi64>, tensor<2x16x1xf16>) {
  %idx, %w = uoe.expert_select %p top 1 : tensor<2x16x4xf16> -> tensor<2x16x1xi64>, tensor<2x16x1xf16>
  return %idx, %w : tensor<2x16x1xi64>, tensor<2x16x1xf16>
}

// -----

// Tests that a whole sample (rank-1 probs) can pick all of its experts.
// CHECK-LABEL: func.func @expert_select_rank1
// CHECK: uoe.expert_select %{{.+}} top 4 : tensor<4xbf16> -> tensor<4xi64>, tensor<4xbf16>{{$}}
func.func @expert_select_rank1(%p: tensor<4xbf16>) -> (tensor<4xi64>, tensor<4xbf16>) {
  %idx, %w = uoe.expert_select %p top 4 : tensor<4xbf16> -> tensor<4xi64>, tensor<4xbf16>
  return %idx, %w : tensor<4xi64>, tensor<4xbf16>
}
