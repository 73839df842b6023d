// RUN: uoe-opt %s -split-input-file | uoe-opt -split-input-file | FileCheck %s

// Tests that dense attention with only the required clauses round-trips and
// prints no causal, rope or key_padding clause.
// CHECK-LABEL: func.func @attention_plain
// CHECK-SAME: ([[X:%.+]]: tensor<2x16x32xf32>, [[WQKV:%.+]]: tensor<3x32x32xf32>, [[BQKV:%.+]]: tensor<3x32xf32>, [[WO:%.+]]: tensor<32x32xf32>, [[BO:%.+]]: tensor<32xf32>)
// CHECK: [[Y:%.+]] = uoe.attention [[X]], qkv([[WQKV]], [[BQKV]]), out([[WO]], [[BO]]) heads 4 : tensor<2x16x32xf32>, tensor<3x32x32xf32>, tensor<3x32xf32>, tensor<32x32xf32>, tensor<32xf32>
// CHECK-NEXT: return [[Y]] : tensor<2x16x32xf32>
func.func @attention_plain(%x: tensor<2x16x32xf32>, %wqkv: tensor<3x32x32xf32>, %bqkv: tensor<3x32xf32>,
                           %wo: tensor<32x32xf32>, %bo: tensor<32xf32>) -> tensor<2x16x32xf32> {
  %y = uoe.attention %x, qkv(%wqkv, %bqkv), out(%wo, %bo) heads 4
      : tensor<2x16x32xf32>, tensor<3x32x32xf32>, tensor<3x32xf32>, tensor<32x32xf32>, tensor<32xf32>
  return %y : tensor<2x16x32xf32>
}

// -----

// Tests that every optional clause round-trips: key_padding (and its type),
// causal, rope original, and a non-default rope_base in the attribute dict.
// CHECK-LABEL: func.func @attention_all_clauses
// CHECK-SAME: ([[X:%.+]]: tensor<2x16x32xf32>, {{.+}}, [[KP:%.+]]: tensor<2x16xi1>)
// CHECK: [[Y:%.+]] = uoe.attention [[X]], qkv({{.+}}) key_padding [[KP]] heads 4 causal rope original {rope_base = 5.000000e+05 : f64} : tensor<2x16x32xf32>, tensor<3x32x32xf32>, tensor<3x32xf32>, tensor<32x32xf32>, tensor<32xf32>, tensor<2x16xi1>
// CHECK-NEXT: return [[Y]]
func.func @attention_all_clauses(%x: tensor<2x16x32xf32>, %wqkv: tensor<3x32x32xf32>, %bqkv: tensor<3x32xf32>,
                                 %wo: tensor<32x32xf32>, %bo: tensor<32xf32>, %kp: tensor<2x16xi1>) -> tensor<2x16x32xf32> {
  %y = uoe.attention %x, qkv(%wqkv, %bqkv), out(%wo, %bo) key_padding %kp heads 4 causal rope original
      {rope_base = 500000.0 : f64}
      : tensor<2x16x32xf32>, tensor<3x32x32xf32>, tensor<3x32xf32>, tensor<32x32xf32>, tensor<32xf32>, tensor<2x16xi1>
  return %y : tensor<2x16x32xf32>
}

// -----

// Tests that an explicit `rope none` and the default rope_base are elided when
// printed, and that causal alone is kept.
// CHECK-LABEL: func.func @attention_defaults_elided
// CHECK: uoe.attention %{{.+}}, qkv(%{{.+}}, %{{.+}}), out(%{{.+}}, %{{.+}}) heads 2 causal : tensor<1x8x16xf32>, tensor<3x16x16xf32>, tensor<3x16xf32>, tensor<16x16xf32>, tensor<16xf32>{{$}}
func.func @attention_defaults_elided(%x: tensor<1x8x16xf32>, %wqkv: tensor<3x16x16xf32>, %bqkv: tensor<3x16xf32>,
                                     %wo: tensor<16x16xf32>, %bo: tensor<16xf32>) -> tensor<1x8x16xf32> {
  %y = uoe.attention %x, qkv(%wqkv, %bqkv), out(%wo, %bo) heads 2 causal rope none {rope_base = 10000.0 : f64}
      : tensor<1x8x16xf32>, tensor<3x16x16xf32>, tensor<3x16xf32>, tensor<16x16xf32>, tensor<16xf32>
  return %y : tensor<1x8x16xf32>
}

// -----

// Tests that bf16 attention with one head over the whole width (and an odd
// width without rotary embedding) is accepted.
// CHECK-LABEL: func.func @attention_bf16_one_head
// CHECK: uoe.attention {{.+}} heads 1 : tensor<2x4x7xbf16>, tensor<3x7x7xbf16>, tensor<3x7xbf16>, tensor<7x7xbf16>, tensor<7xbf16>
func.func @attention_bf16_one_head(%x: tensor<2x4x7xbf16>, %wqkv: tensor<3x7x7xbf16>, %bqkv: tensor<3x7xbf16>,
                                   %wo: tensor<7x7xbf16>, %bo: tensor<7xbf16>) -> tensor<2x4x7xbf16> {
  %y = uoe.attention %x, qkv(%wqkv, %bqkv), out(%wo, %bo) heads 1
      : tensor<2x4x7xbf16>, tensor<3x7x7xbf16>, tensor<3x7xbf16>, tensor<7x7xbf16>, tensor<7xbf16>
  return %y : tensor<2x4x7xbf16>
}
