// RUN: uoe-opt %s -split-input-file | uoe-opt -split-input-file | FileCheck %s

// Tests that a union SMHA layer with only the required clauses round-trips
// (2 head-group experts of 2 heads each, De = d / E = 16).
// CHECK-LABEL: func.func @smha_plain
// CHECK-SAME: ([[X:%.+]]: tensor<2x16x32xf32>, [[WG:%.+]]: tensor<2x32xf32>, [[BG:%.+]]: tensor<2xf32>, [[WQKV:%.+]]: tensor<3x2x32x16xf32>, [[BQKV:%.+]]: tensor<3x2x16xf32>, [[WO:%.+]]: tensor<2x16x32xf32>, [[BO:%.+]]: tensor<2x32xf32>)
// CHECK: [[Y:%.+]] = uoe.smha [[X]], router([[WG]], [[BG]]), qkv([[WQKV]], [[BQKV]]), out([[WO]], [[BO]]) heads 4 top 1 union : tensor<2x16x32xf32>, tensor<2x32xf32>, tensor<2xf32>, tensor<3x2x32x16xf32>, tensor<3x2x16xf32>, tensor<2x16x32xf32>, tensor<2x32xf32>{{$}}
// CHECK-NEXT: return [[Y]] : tensor<2x16x32xf32>
func.func @smha_plain(%x: tensor<2x16x32xf32>, %wg: tensor<2x32xf32>, %bg: tensor<2xf32>,
                      %wqkv: tensor<3x2x32x16xf32>, %bqkv: tensor<3x2x16xf32>, %wo: tensor<2x16x32xf32>,
                      %bo: tensor<2x32xf32>) -> tensor<2x16x32xf32> {
  %y = uoe.smha %x, router(%wg, %bg), qkv(%wqkv, %bqkv), out(%wo, %bo) heads 4 top 1 union
      : tensor<2x16x32xf32>, tensor<2x32xf32>, tensor<2xf32>, tensor<3x2x32x16xf32>, tensor<3x2x16xf32>,
        tensor<2x16x32xf32>, tensor<2x32xf32>
  return %y : tensor<2x16x32xf32>
}

// -----

// Tests that key_padding, causal and rope compacted round-trip, with the mask
// type printed last.
// CHECK-LABEL: func.func @smha_compacted
// CHECK-SAME: [[KP:%[^:]+]]: tensor<2x16xi1>)
// CHECK: [[Y:%.+]] = uoe.smha %{{.+}} key_padding [[KP]] heads 4 top 1 causal rope compacted union : tensor<2x16x32xf32>, tensor<2x32xf32>, tensor<2xf32>, tensor<3x2x32x16xf32>, tensor<3x2x16xf32>, tensor<2x16x32xf32>, tensor<2x32xf32>, tensor<2x16xi1>{{$}}
// CHECK-NEXT: return [[Y]]
func.func @smha_compacted(%x: tensor<2x16x32xf32>, %wg: tensor<2x32xf32>, %bg: tensor<2xf32>,
                          %wqkv: tensor<3x2x32x16xf32>, %bqkv: tensor<3x2x16xf32>, %wo: tensor<2x16x32xf32>,
                          %bo: tensor<2x32xf32>, %kp: tensor<2x16xi1>) -> tensor<2x16x32xf32> {
  %y = uoe.smha %x, router(%wg, %bg), qkv(%wqkv, %bqkv), out(%wo, %bo) key_padding %kp heads 4 top 1 causal rope compacted union
      : tensor<2x16x32xf32>, tensor<2x32xf32>, tensor<2xf32>, tensor<3x2x32x16xf32>, tensor<3x2x16xf32>,
        tensor<2x16x32xf32>, tensor<2x32xf32>, tensor<2x16xi1>
  return %y : tensor<2x16x32xf32>
}

// -----

// Tests that gated mode with rope original, top = E, and the options in the
// attribute dict (score, eps, norm_capacity, rope_base) round-trip in f16.
// CHECK-LABEL: func.func @smha_gated_original
// CHECK: uoe.smha %{{.+}} heads 8 top 2 rope original gated {eps = 1.000000e-05 : f64, norm_capacity = 5.000000e-01 : f64, rope_base = 5.000000e+05 : f64, score = #uoe.score<sigmoid>} : tensor<1x8x32xf16>, tensor<2x32xf16>, tensor<2xf16>, tensor<3x2x32x16xf16>, tensor<3x2x16xf16>, tensor<2x16x32xf16>, tensor<2x32xf16>{{$}}
func.func @smha_gated_original(%x: tensor<1x8x32xf16>, %wg: tensor<2x32xf16>, %bg: tensor<2xf16>,
                               %wqkv: tensor<3x2x32x16xf16>, %bqkv: tensor<3x2x16xf16>, %wo: tensor<2x16x32xf16>,
                               %bo: tensor<2x32xf16>) -> tensor<1x8x32xf16> {
  %y = uoe.smha %x, router(%wg, %bg), qkv(%wqkv, %bqkv), out(%wo, %bo) heads 8 top 2 rope original gated
      {score = #uoe.score<sigmoid>, eps = 1.0e-5 : f64, norm_capacity = 0.5 : f64, rope_base = 500000.0 : f64}
      : tensor<1x8x32xf16>, tensor<2x32xf16>, tensor<2xf16>, tensor<3x2x32x16xf16>, tensor<3x2x16xf16>,
        tensor<2x16x32xf16>, tensor<2x32xf16>
  return %y : tensor<1x8x32xf16>
}

// -----

// Tests that causal-safe routing (spec §7) round-trips after the combine
// mode, and that the default (reference) routing is not printed.
// CHECK-LABEL: func.func @smha_causal_safe
// CHECK: uoe.smha %{{.+}} heads 4 top 1 causal rope original gated routing causal_safe : tensor<2x16x32xf32>
// CHECK: uoe.smha %{{.+}} heads 4 top 1 causal union : tensor<2x16x32xf32>
func.func @smha_causal_safe(%x: tensor<2x16x32xf32>, %wg: tensor<2x32xf32>, %bg: tensor<2xf32>,
                            %wqkv: tensor<3x2x32x16xf32>, %bqkv: tensor<3x2x16xf32>, %wo: tensor<2x16x32xf32>,
                            %bo: tensor<2x32xf32>) -> (tensor<2x16x32xf32>, tensor<2x16x32xf32>) {
  %y = uoe.smha %x, router(%wg, %bg), qkv(%wqkv, %bqkv), out(%wo, %bo) heads 4 top 1 causal rope original gated routing causal_safe
      : tensor<2x16x32xf32>, tensor<2x32xf32>, tensor<2xf32>, tensor<3x2x32x16xf32>, tensor<3x2x16xf32>,
        tensor<2x16x32xf32>, tensor<2x32xf32>
  %z = uoe.smha %x, router(%wg, %bg), qkv(%wqkv, %bqkv), out(%wo, %bo) heads 4 top 1 causal union routing reference
      : tensor<2x16x32xf32>, tensor<2x32xf32>, tensor<2xf32>, tensor<3x2x32x16xf32>, tensor<3x2x16xf32>,
        tensor<2x16x32xf32>, tensor<2x32xf32>
  return %y, %z : tensor<2x16x32xf32>, tensor<2x16x32xf32>
}
