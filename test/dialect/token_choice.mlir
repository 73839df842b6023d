// RUN: uoe-opt %s -split-input-file | uoe-opt -split-input-file | FileCheck %s

// Tests that a plain top-k token choice prints no renormalize or normalize
// clause.
// CHECK-LABEL: func.func @token_choice_plain
// CHECK-SAME: ([[P:%.+]]: tensor<4x16x3xf32>)
// CHECK: [[G:%.+]] = uoe.token_choice [[P]] top 2 : tensor<4x16x3xf32>{{$}}
// CHECK-NEXT: return [[G]] : tensor<4x16x3xf32>
func.func @token_choice_plain(%p: tensor<4x16x3xf32>) -> tensor<4x16x3xf32> {
  %g = uoe.token_choice %p top 2 : tensor<4x16x3xf32>
  return %g : tensor<4x16x3xf32>
}

// -----

// Tests that renormalize (token-choice MoE gating) round-trips.
// CHECK-LABEL: func.func @token_choice_renormalize
// CHECK: [[G:%.+]] = uoe.token_choice %{{.+}} top 2 renormalize : tensor<1x64x8xf32>{{$}}
// CHECK-NEXT: return [[G]]
func.func @token_choice_renormalize(%p: tensor<1x64x8xf32>) -> tensor<1x64x8xf32> {
  %s = uoe.token_choice %p top 2 renormalize : tensor<1x64x8xf32>
  return %s : tensor<1x64x8xf32>
}

// -----

// Tests that the normalize clause prints its axis, eps and capacity.
// CHECK-LABEL: func.func @token_choice_normalize
// CHECK: [[G:%.+]] = uoe.token_choice %{{.+}} top 2 normalize axis 0 eps 9.9999999999999995E-7 capacity 1.000000e+00 : tensor<4x16x3xf32>{{$}}
// CHECK-NEXT: return [[G]]
func.func @token_choice_normalize(%p: tensor<4x16x3xf32>) -> tensor<4x16x3xf32> {
  %g = uoe.token_choice %p top 2 normalize axis 0 eps 1.0e-06 capacity 1.0 : tensor<4x16x3xf32>
  return %g : tensor<4x16x3xf32>
}

// -----

// Tests that renormalize and normalize combine (renormalize first), with a
// non-zero axis, eps 0 and a capacity above 1, in f16.
// CHECK-LABEL: func.func @token_choice_both
// CHECK: uoe.token_choice %{{.+}} top 1 renormalize normalize axis 1 eps 0.000000e+00 capacity 2.000000e+00 : tensor<2x4x8x4xf16>{{$}}
func.func @token_choice_both(%p: tensor<2x4x8x4xf16>) -> tensor<2x4x8x4xf16> {
  %g = uoe.token_choice %p top 1 renormalize normalize axis 1 eps 0.0 capacity 2.0 : tensor<2x4x8x4xf16>
  return %g : tensor<2x4x8x4xf16>
}

// -----

// Tests that top = E on a rank-1 input is accepted (and not folded away by
// parsing and printing alone).
// CHECK-LABEL: func.func @token_choice_top_all
// CHECK: [[G:%.+]] = uoe.token_choice %{{.+}} top 4 : tensor<4xbf16>{{$}}
// CHECK-NEXT: return [[G]]
func.func @token_choice_top_all(%p: tensor<4xbf16>) -> tensor<4xbf16> {
  %g = uoe.token_choice %p top 4 : tensor<4xbf16>
  return %g : tensor<4xbf16>
}
