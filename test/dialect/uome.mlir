// RUN: uoe-opt %s -split-input-file | uoe-opt -split-input-file | FileCheck %s

// Tests that a union UoE MLP layer with the default patch size round-trips
// (patch 1 is elided when printed).
// CHECK-LABEL: func.func @uome_union
// CHECK-SAME: ([[X:%.+]]: tensor<4x16x32xf32>, [[WG:%.+]]: tensor<4x32xf32>, [[BG:%.+]]: tensor<4xf32>, [[W1:%.+]]: tensor<4x32x16xf32>, [[B1:%.+]]: tensor<4x16xf32>, [[W2:%.+]]: tensor<4x16x32xf32>, [[B2:%.+]]: tensor<4x32xf32>)
// CHECK: [[Y:%.+]] = uoe.uome [[X]], router([[WG]], [[BG]]), up([[W1]], [[B1]]), down([[W2]], [[B2]]) top 2 capacity 5.000000e-01 activation gelu union : tensor<4x16x32xf32>, tensor<4x32xf32>, tensor<4xf32>, tensor<4x32x16xf32>, tensor<4x16xf32>, tensor<4x16x32xf32>, tensor<4x32xf32>{{$}}
// CHECK-NEXT: return [[Y]] : tensor<4x16x32xf32>
func.func @uome_union(%x: tensor<4x16x32xf32>, %wg: tensor<4x32xf32>, %bg: tensor<4xf32>,
                      %w1: tensor<4x32x16xf32>, %b1: tensor<4x16xf32>, %w2: tensor<4x16x32xf32>,
                      %b2: tensor<4x32xf32>) -> tensor<4x16x32xf32> {
  %y = uoe.uome %x, router(%wg, %bg), up(%w1, %b1), down(%w2, %b2) top 2 capacity 0.5 patch 1 activation gelu union
      : tensor<4x16x32xf32>, tensor<4x32xf32>, tensor<4xf32>, tensor<4x32x16xf32>, tensor<4x16xf32>,
        tensor<4x16x32xf32>, tensor<4x32xf32>
  return %y : tensor<4x16x32xf32>
}

// -----

// Tests that the gated mode, a patch size above 1 and the options without a
// keyword (score, eps, norm_capacity, in the attribute dict) round-trip.
// CHECK-LABEL: func.func @uome_gated_patch
// CHECK: [[Y:%.+]] = uoe.uome %{{.+}} top 1 capacity 2.500000e-01 patch 4 activation silu gated {eps = 1.000000e-05 : f64, norm_capacity = 2.000000e+00 : f64, score = #uoe.score<sigmoid>} : tensor<4x16x32xf32>
// CHECK-NEXT: return [[Y]]
func.func @uome_gated_patch(%x: tensor<4x16x32xf32>, %wg: tensor<4x32xf32>, %bg: tensor<4xf32>,
                            %w1: tensor<4x32x16xf32>, %b1: tensor<4x16xf32>, %w2: tensor<4x16x32xf32>,
                            %b2: tensor<4x32xf32>) -> tensor<4x16x32xf32> {
  %y = uoe.uome %x, router(%wg, %bg), up(%w1, %b1), down(%w2, %b2) top 1 capacity 0.25 patch 4 activation silu gated
      {score = #uoe.score<sigmoid>, eps = 1.0e-5 : f64, norm_capacity = 2.0 : f64}
      : tensor<4x16x32xf32>, tensor<4x32xf32>, tensor<4xf32>, tensor<4x32x16xf32>, tensor<4x16xf32>,
        tensor<4x16x32xf32>, tensor<4x32xf32>
  return %y : tensor<4x16x32xf32>
}

// -----

// Tests that swiglu experts take w1 twice as wide as w2's rows
// (w1: [E, d, 2Fe], b1: [E, 2Fe], w2: [E, Fe, d]), in bf16, with every
// expert kept (top = E) and every patch selected (capacity 1).
// CHECK-LABEL: func.func @uome_swiglu_bf16
// CHECK: uoe.uome %{{.+}} top 2 capacity 1.000000e+00 activation swiglu union : tensor<2x8x16xbf16>, tensor<2x16xbf16>, tensor<2xbf16>, tensor<2x16x32xbf16>, tensor<2x32xbf16>, tensor<2x16x16xbf16>, tensor<2x16xbf16>
func.func @uome_swiglu_bf16(%x: tensor<2x8x16xbf16>, %wg: tensor<2x16xbf16>, %bg: tensor<2xbf16>,
                            %w1: tensor<2x16x32xbf16>, %b1: tensor<2x32xbf16>, %w2: tensor<2x16x16xbf16>,
                            %b2: tensor<2x16xbf16>) -> tensor<2x8x16xbf16> {
  %y = uoe.uome %x, router(%wg, %bg), up(%w1, %b1), down(%w2, %b2) top 2 capacity 1.0 activation swiglu union
      : tensor<2x8x16xbf16>, tensor<2x16xbf16>, tensor<2xbf16>, tensor<2x16x32xbf16>, tensor<2x32xbf16>,
        tensor<2x16x16xbf16>, tensor<2x16xbf16>
  return %y : tensor<2x8x16xbf16>
}

// -----

// Tests that causal-safe routing (spec §7) round-trips; its capacity is
// unused, so one that selects no patch is accepted.
// CHECK-LABEL: func.func @uome_causal_safe
// CHECK: uoe.uome %{{.+}} top 2 capacity 1.000000e-02 activation gelu gated routing causal_safe : tensor<4x16x32xf32>
func.func @uome_causal_safe(%x: tensor<4x16x32xf32>, %wg: tensor<4x32xf32>, %bg: tensor<4xf32>,
                            %w1: tensor<4x32x16xf32>, %b1: tensor<4x16xf32>, %w2: tensor<4x16x32xf32>,
                            %b2: tensor<4x32xf32>) -> tensor<4x16x32xf32> {
  %y = uoe.uome %x, router(%wg, %bg), up(%w1, %b1), down(%w2, %b2) top 2 capacity 0.01 activation gelu gated routing causal_safe
      : tensor<4x16x32xf32>, tensor<4x32xf32>, tensor<4xf32>, tensor<4x32x16xf32>, tensor<4x16xf32>,
        tensor<4x16x32xf32>, tensor<4x32xf32>
  return %y : tensor<4x16x32xf32>
}
