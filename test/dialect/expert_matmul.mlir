// RUN: uoe-opt %s -split-input-file | uoe-opt -split-input-file | FileCheck %s

// Tests that a plain per-expert GEMM (no bias, activation none) prints no
// optional clause.
// CHECK-LABEL: func.func @expert_matmul_plain
// CHECK-SAME: ([[A:%.+]]: tensor<3x4x8x32xf32>, [[B:%.+]]: tensor<3x32x16xf32>)
// CHECK: [[H:%.+]] = uoe.expert_matmul [[A]], [[B]] : tensor<3x4x8x32xf32>, tensor<3x32x16xf32> -> tensor<3x4x8x16xf32>{{$}}
// CHECK-NEXT: return [[H]] : tensor<3x4x8x16xf32>
func.func @expert_matmul_plain(%xs: tensor<3x4x8x32xf32>, %w: tensor<3x32x16xf32>) -> tensor<3x4x8x16xf32> {
  %h = uoe.expert_matmul %xs, %w : tensor<3x4x8x32xf32>, tensor<3x32x16xf32> -> tensor<3x4x8x16xf32>
  return %h : tensor<3x4x8x16xf32>
}

// -----

// Tests that a bias and an activation round-trip, the bias type after rhs.
// CHECK-LABEL: func.func @expert_matmul_bias_gelu
// CHECK-SAME: ([[A:%.+]]: tensor<3x4x8x32xf32>, [[B:%.+]]: tensor<3x32x16xf32>, [[BIAS:%.+]]: tensor<3x16xf32>)
// CHECK: [[H:%.+]] = uoe.expert_matmul [[A]], [[B]] bias [[BIAS]] activation gelu : tensor<3x4x8x32xf32>, tensor<3x32x16xf32>, tensor<3x16xf32> -> tensor<3x4x8x16xf32>{{$}}
// CHECK-NEXT: return [[H]]
func.func @expert_matmul_bias_gelu(%xs: tensor<3x4x8x32xf32>, %w: tensor<3x32x16xf32>, %b: tensor<3x16xf32>) -> tensor<3x4x8x16xf32> {
  %h = uoe.expert_matmul %xs, %w bias %b activation gelu
      : tensor<3x4x8x32xf32>, tensor<3x32x16xf32>, tensor<3x16xf32> -> tensor<3x4x8x16xf32>
  return %h : tensor<3x4x8x16xf32>
}

// -----

// Tests that an activation without a bias round-trips (no `bias` clause).
// CHECK-LABEL: func.func @expert_matmul_activation_only
// CHECK: uoe.expert_matmul %{{[^ ]+}}, %{{[^ ]+}} activation relu : tensor<2x8x16xf32>, tensor<2x16x4xf32> -> tensor<2x8x4xf32>{{$}}
func.func @expert_matmul_activation_only(%xs: tensor<2x8x16xf32>, %w: tensor<2x16x4xf32>) -> tensor<2x8x4xf32> {
  %h = uoe.expert_matmul %xs, %w activation relu : tensor<2x8x16xf32>, tensor<2x16x4xf32> -> tensor<2x8x4xf32>
  return %h : tensor<2x8x4xf32>
}

// -----

// Tests that swiglu halves N: rhs [E, K, 32] and bias [E, 32] give 16 columns.
// CHECK-LABEL: func.func @expert_matmul_swiglu
// CHECK: uoe.expert_matmul %{{.+}}, %{{.+}} bias %{{.+}} activation swiglu : tensor<3x4x8x32xbf16>, tensor<3x32x32xbf16>, tensor<3x32xbf16> -> tensor<3x4x8x16xbf16>{{$}}
func.func @expert_matmul_swiglu(%xs: tensor<3x4x8x32xbf16>, %w: tensor<3x32x32xbf16>, %b: tensor<3x32xbf16>) -> tensor<3x4x8x16xbf16> {
  %h = uoe.expert_matmul %xs, %w bias %b activation swiglu
      : tensor<3x4x8x32xbf16>, tensor<3x32x32xbf16>, tensor<3x32xbf16> -> tensor<3x4x8x16xbf16>
  return %h : tensor<3x4x8x16xbf16>
}

// -----

// Tests that a dynamic row count M (a dynamic capacity L) carries over to the
// result, with and without swiglu.
// CHECK-LABEL: func.func @expert_matmul_dynamic
// CHECK: uoe.expert_matmul %{{.+}}, %{{.+}} activation silu : tensor<3x4x?x32xf16>, tensor<3x32x16xf16> -> tensor<3x4x?x16xf16>{{$}}
// CHECK: uoe.expert_matmul %{{.+}}, %{{.+}} activation swiglu : tensor<3x4x?x32xf16>, tensor<3x32x16xf16> -> tensor<3x4x?x8xf16>{{$}}
func.func @expert_matmul_dynamic(%xs: tensor<3x4x?x32xf16>, %w: tensor<3x32x16xf16>)
    -> (tensor<3x4x?x16xf16>, tensor<3x4x?x8xf16>) {
  %h = uoe.expert_matmul %xs, %w activation silu : tensor<3x4x?x32xf16>, tensor<3x32x16xf16> -> tensor<3x4x?x16xf16>
  %g = uoe.expert_matmul %xs, %w activation swiglu : tensor<3x4x?x32xf16>, tensor<3x32x16xf16> -> tensor<3x4x?x8xf16>
  return %h, %g : tensor<3x4x?x16xf16>, tensor<3x4x?x8xf16>
}

// -----

// Tests that several batch dimensions between E and M are allowed.
// CHECK-LABEL: func.func @expert_matmul_batch_dims
// CHECK: uoe.expert_matmul %{{.+}}, %{{.+}} activation gelu_tanh : tensor<2x3x4x5x8xf64>, tensor<2x8x6xf64> -> tensor<2x3x4x5x6xf64>{{$}}
func.func @expert_matmul_batch_dims(%xs: tensor<2x3x4x5x8xf64>, %w: tensor<2x8x6xf64>) -> tensor<2x3x4x5x6xf64> {
  %h = uoe.expert_matmul %xs, %w activation gelu_tanh : tensor<2x3x4x5x8xf64>, tensor<2x8x6xf64> -> tensor<2x3x4x5x6xf64>
  return %h : tensor<2x3x4x5x6xf64>
}
