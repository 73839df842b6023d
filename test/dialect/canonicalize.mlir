// RUN: uoe-opt %s -split-input-file -canonicalize | FileCheck %s

// Tests that token_choice keeping every expert (top == E) without any
// normalisation folds to its input.
// CHECK-LABEL: func.func @token_choice_fold_top_all
// CHECK-SAME: ([[P:%.+]]: tensor<4x16x3xf32>)
// CHECK-NOT: uoe.token_choice
// CHECK: return [[P]] : tensor<4x16x3xf32>
func.func @token_choice_fold_top_all(%p: tensor<4x16x3xf32>) -> tensor<4x16x3xf32> {
  %g = uoe.token_choice %p top 3 : tensor<4x16x3xf32>
  return %g : tensor<4x16x3xf32>
}

// -----

// Tests that token_choice keeping fewer than E experts does not fold.
// CHECK-LABEL: func.func @token_choice_no_fold_top_k
// CHECK-SAME: ([[P:%.+]]: tensor<4x16x3xf32>)
// CHECK: [[G:%.+]] = uoe.token_choice [[P]] top 2 : tensor<4x16x3xf32>
// CHECK-NEXT: return [[G]]
func.func @token_choice_no_fold_top_k(%p: tensor<4x16x3xf32>) -> tensor<4x16x3xf32> {
  %g = uoe.token_choice %p top 2 : tensor<4x16x3xf32>
  return %g : tensor<4x16x3xf32>
}

// -----

// Tests that token_choice with top == E does not fold when it renormalises
// (sigmoid scores do not sum to 1).
// CHECK-LABEL: func.func @token_choice_no_fold_renormalize
// CHECK: [[G:%.+]] = uoe.token_choice %{{.+}} top 3 renormalize : tensor<4x16x3xf32>
// CHECK-NEXT: return [[G]]
func.func @token_choice_no_fold_renormalize(%p: tensor<4x16x3xf32>) -> tensor<4x16x3xf32> {
  %g = uoe.token_choice %p top 3 renormalize : tensor<4x16x3xf32>
  return %g : tensor<4x16x3xf32>
}

// -----

// Tests that token_choice with top == E does not fold when it normalises over
// an axis.
// CHECK-LABEL: func.func @token_choice_no_fold_normalize
// CHECK: [[G:%.+]] = uoe.token_choice %{{.+}} top 3 normalize axis 0 eps 9.9999999999999995E-7 capacity 1.000000e+00 : tensor<4x16x3xf32>
// CHECK-NEXT: return [[G]]
func.func @token_choice_no_fold_normalize(%p: tensor<4x16x3xf32>) -> tensor<4x16x3xf32> {
  %g = uoe.token_choice %p top 3 normalize axis 0 eps 1.0e-6 capacity 1.0 : tensor<4x16x3xf32>
  return %g : tensor<4x16x3xf32>
}

// -----

// Tests that a data selection keeping every patch (capacity 1: L = N / P = 4)
// has constant positions 0..L-1 in every (expert, row); the op stays for its
// weights.
// CHECK-LABEL: func.func @data_select_keep_all_is_iota
// CHECK-SAME: ([[S:%.+]]: tensor<2x8x3xf32>)
// CHECK-DAG: [[IOTA:%.+]] = arith.constant dense<{{\[}}{{\[}}[0, 1, 2, 3], [0, 1, 2, 3]], {{\[}}[0, 1, 2, 3], [0, 1, 2, 3]], {{\[}}[0, 1, 2, 3], [0, 1, 2, 3]]]> : tensor<3x2x4xi64>
// CHECK-DAG: [[POS:%.+]], [[W:%.+]] = uoe.data_select [[S]] patch 2 capacity 1.000000e+00 : tensor<2x8x3xf32> -> tensor<3x2x4xi64>, tensor<3x2x4xf32>
// CHECK: return [[IOTA]], [[W]] : tensor<3x2x4xi64>, tensor<3x2x4xf32>
func.func @data_select_keep_all_is_iota(%s: tensor<2x8x3xf32>) -> (tensor<3x2x4xi64>, tensor<3x2x4xf32>) {
  %pos, %w = uoe.data_select %s patch 2 capacity 1.0
      : tensor<2x8x3xf32> -> tensor<3x2x4xi64>, tensor<3x2x4xf32>
  return %pos, %w : tensor<3x2x4xi64>, tensor<3x2x4xf32>
}

// -----

// Tests that a capacity that keeps every patch without being 1
// (floor(1.1 * 5) = 5 = N / P) also gives constant positions, and that the
// selection, whose weights are unused, is then erased.
// CHECK-LABEL: func.func @data_select_keep_all_positions_only
// CHECK-NEXT: [[IOTA:%.+]] = arith.constant dense<{{\[}}{{\[}}[0, 1, 2, 3, 4]], {{\[}}[0, 1, 2, 3, 4]]]> : tensor<2x1x5xi64>
// CHECK-NEXT: return [[IOTA]] : tensor<2x1x5xi64>
func.func @data_select_keep_all_positions_only(%s: tensor<1x5x2xf16>) -> tensor<2x1x5xi64> {
  %pos, %w = uoe.data_select %s patch 1 capacity 1.1
      : tensor<1x5x2xf16> -> tensor<2x1x5xi64>, tensor<2x1x5xf16>
  return %pos : tensor<2x1x5xi64>
}

// -----

// Tests that a selection keeping only some patches (L = 2 of 4) keeps its
// data-dependent positions.
// CHECK-LABEL: func.func @data_select_partial_not_iota
// CHECK-NOT: arith.constant
// CHECK: [[POS:%.+]], [[W:%.+]] = uoe.data_select %{{.+}} patch 2 capacity 5.000000e-01 : tensor<2x8x3xf32> -> tensor<3x2x2xi64>, tensor<3x2x2xf32>
// CHECK-NEXT: return [[POS]], [[W]]
func.func @data_select_partial_not_iota(%s: tensor<2x8x3xf32>) -> (tensor<3x2x2xi64>, tensor<3x2x2xf32>) {
  %pos, %w = uoe.data_select %s patch 2 capacity 0.5
      : tensor<2x8x3xf32> -> tensor<3x2x2xi64>, tensor<3x2x2xf32>
  return %pos, %w : tensor<3x2x2xi64>, tensor<3x2x2xf32>
}

// -----

// Tests that a dynamic selection keeps its positions: L is only known at run
// time.
// CHECK-LABEL: func.func @data_select_dynamic_not_iota
// CHECK-NOT: arith.constant
// CHECK: [[POS:%.+]], [[W:%.+]] = uoe.data_select %{{.+}} patch 2 dynamic : tensor<2x8x3xf32> -> tensor<3x2x?xi64>, tensor<3x2x?xf32>
// CHECK-NEXT: return [[POS]], [[W]]
func.func @data_select_dynamic_not_iota(%s: tensor<2x8x3xf32>) -> (tensor<3x2x?xi64>, tensor<3x2x?xf32>) {
  %pos, %w = uoe.data_select %s patch 2 dynamic
      : tensor<2x8x3xf32> -> tensor<3x2x?xi64>, tensor<3x2x?xf32>
  return %pos, %w : tensor<3x2x?xi64>, tensor<3x2x?xf32>
}

// -----

// Tests that a gated combine whose weights are the constant 1 becomes a union
// combine without weights (and the constant is dropped).
// CHECK-LABEL: func.func @combine_unit_weights_is_union
// CHECK-SAME: ([[YS:%.+]]: tensor<3x4x8x32xf32>, [[POS:%.+]]: tensor<3x4x8xi64>)
// CHECK-NOT: arith.constant
// CHECK: [[Y:%.+]] = uoe.combine [[YS]], [[POS]] union patch 1 : tensor<3x4x8x32xf32>, tensor<3x4x8xi64> -> tensor<4x16x32xf32>{{$}}
// CHECK-NEXT: return [[Y]]
func.func @combine_unit_weights_is_union(%ys: tensor<3x4x8x32xf32>, %pos: tensor<3x4x8xi64>) -> tensor<4x16x32xf32> {
  %one = arith.constant dense<1.0> : tensor<3x4x8xf32>
  %y = uoe.combine %ys, %pos weights %one gated patch 1
      : tensor<3x4x8x32xf32>, tensor<3x4x8xi64>, tensor<3x4x8xf32> -> tensor<4x16x32xf32>
  return %y : tensor<4x16x32xf32>
}

// -----

// Tests that unit weights in bf16, with patches, also make a union combine
// that keeps the patch size.
// CHECK-LABEL: func.func @combine_unit_weights_bf16
// CHECK: uoe.combine %{{[^ ]+}}, %{{[^ ]+}} union patch 4 : tensor<4x2x8x8xbf16>, tensor<4x2x2xi64> -> tensor<2x16x8xbf16>{{$}}
func.func @combine_unit_weights_bf16(%ys: tensor<4x2x8x8xbf16>, %pos: tensor<4x2x2xi64>) -> tensor<2x16x8xbf16> {
  %one = arith.constant dense<1.0> : tensor<4x2x2xbf16>
  %y = uoe.combine %ys, %pos weights %one gated patch 4
      : tensor<4x2x8x8xbf16>, tensor<4x2x2xi64>, tensor<4x2x2xbf16> -> tensor<2x16x8xbf16>
  return %y : tensor<2x16x8xbf16>
}

// -----

// Tests that a gated combine whose constant weights are not 1 stays gated.
// CHECK-LABEL: func.func @combine_half_weights_stay_gated
// CHECK: [[W:%.+]] = arith.constant dense<5.000000e-01> : tensor<3x4x8xf32>
// CHECK: uoe.combine %{{.+}}, %{{.+}} weights [[W]] gated patch 1 : tensor<3x4x8x32xf32>, tensor<3x4x8xi64>, tensor<3x4x8xf32> -> tensor<4x16x32xf32>
func.func @combine_half_weights_stay_gated(%ys: tensor<3x4x8x32xf32>, %pos: tensor<3x4x8xi64>) -> tensor<4x16x32xf32> {
  %half = arith.constant dense<0.5> : tensor<3x4x8xf32>
  %y = uoe.combine %ys, %pos weights %half gated patch 1
      : tensor<3x4x8x32xf32>, tensor<3x4x8xi64>, tensor<3x4x8xf32> -> tensor<4x16x32xf32>
  return %y : tensor<4x16x32xf32>
}

// -----

// Tests that constant weights that are 1 only in places (not a splat of 1)
// stay gated.
// CHECK-LABEL: func.func @combine_mixed_weights_stay_gated
// CHECK: [[W:%.+]] = arith.constant dense<{{\[}}{{\[}}[1.000000e+00, 0.000000e+00]]]> : tensor<1x1x2xf32>
// CHECK: uoe.combine %{{.+}}, %{{.+}} weights [[W]] gated patch 1
func.func @combine_mixed_weights_stay_gated(%ys: tensor<1x1x2x4xf32>, %pos: tensor<1x1x2xi64>) -> tensor<1x2x4xf32> {
  %w = arith.constant dense<[[[1.0, 0.0]]]> : tensor<1x1x2xf32>
  %y = uoe.combine %ys, %pos weights %w gated patch 1
      : tensor<1x1x2x4xf32>, tensor<1x1x2xi64>, tensor<1x1x2xf32> -> tensor<1x2x4xf32>
  return %y : tensor<1x2x4xf32>
}

// -----

// Tests that a gated combine whose weights are not a constant stays gated.
// CHECK-LABEL: func.func @combine_runtime_weights_stay_gated
// CHECK-SAME: [[W:%[^:]+]]: tensor<3x4x8xf32>)
// CHECK: uoe.combine %{{.+}}, %{{.+}} weights [[W]] gated patch 1
func.func @combine_runtime_weights_stay_gated(%ys: tensor<3x4x8x32xf32>, %pos: tensor<3x4x8xi64>, %w: tensor<3x4x8xf32>) -> tensor<4x16x32xf32> {
  %y = uoe.combine %ys, %pos weights %w gated patch 1
      : tensor<3x4x8x32xf32>, tensor<3x4x8xi64>, tensor<3x4x8xf32> -> tensor<4x16x32xf32>
  return %y : tensor<4x16x32xf32>
}
