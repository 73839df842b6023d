// RUN: uoe-opt %s -split-input-file | uoe-opt -split-input-file | FileCheck %s

// Tests that a gathering expert GEMM with bias and activation round-trips.
// CHECK-LABEL: func.func @expert_gemm_gather
// CHECK: uoe.expert_gemm %{{.+}}, %{{.+}} bias %{{.+}} gather %{{.+}} activation gelu patch 1 : (tensor<4x16x32xf32>, tensor<3x32x16xf32>, tensor<3x16xf32>, tensor<3x4x8xi64>) -> tensor<3x4x8x16xf32>{{$}}
func.func @expert_gemm_gather(%x: tensor<4x16x32xf32>, %w: tensor<3x32x16xf32>, %b: tensor<3x16xf32>, %pos: tensor<3x4x8xi64>) -> tensor<3x4x8x16xf32> {
  %h = uoe.expert_gemm %x, %w bias %b gather %pos activation gelu patch 1 : (tensor<4x16x32xf32>, tensor<3x32x16xf32>, tensor<3x16xf32>, tensor<3x4x8xi64>) -> tensor<3x4x8x16xf32>
  return %h : tensor<3x4x8x16xf32>
}

// -----

// Tests that a gated combining expert GEMM round-trips with its weights.
// CHECK-LABEL: func.func @expert_gemm_combine
// CHECK: uoe.expert_gemm %{{.+}}, %{{.+}} combine %{{.+}} weights %{{.+}} patch 2 : (tensor<3x4x16x16xf32>, tensor<3x16x32xf32>, tensor<3x4x8xi64>, tensor<3x4x8xf32>) -> tensor<4x32x32xf32>{{$}}
func.func @expert_gemm_combine(%h: tensor<3x4x16x16xf32>, %w: tensor<3x16x32xf32>, %pos: tensor<3x4x8xi64>, %wt: tensor<3x4x8xf32>) -> tensor<4x32x32xf32> {
  %y = uoe.expert_gemm %h, %w combine %pos weights %wt patch 2 : (tensor<3x4x16x16xf32>, tensor<3x16x32xf32>, tensor<3x4x8xi64>, tensor<3x4x8xf32>) -> tensor<4x32x32xf32>
  return %y : tensor<4x32x32xf32>
}

// -----

// Tests both at once, with a dynamic slot count and SwiGLU halving the width.
// CHECK-LABEL: func.func @expert_gemm_both
// CHECK: uoe.expert_gemm %{{.+}}, %{{.+}} gather %[[P:.+]] combine %[[P]] activation swiglu patch 1 : (tensor<2x16x8xf32>, tensor<3x8x16xf32>, tensor<3x2x?xi64>, tensor<3x2x?xi64>) -> tensor<2x16x8xf32>
func.func @expert_gemm_both(%x: tensor<2x16x8xf32>, %w: tensor<3x8x16xf32>, %pos: tensor<3x2x?xi64>) -> tensor<2x16x8xf32> {
  %y = uoe.expert_gemm %x, %w gather %pos combine %pos activation swiglu patch 1 : (tensor<2x16x8xf32>, tensor<3x8x16xf32>, tensor<3x2x?xi64>, tensor<3x2x?xi64>) -> tensor<2x16x8xf32>
  return %y : tensor<2x16x8xf32>
}
