// RUN: uoe-opt %s -split-input-file | uoe-opt -split-input-file | FileCheck %s

// Tests that the attention gradient with only the required clauses
// round-trips; the three gradients have the type of query.
// CHECK-LABEL: func.func @selective_attention_grad_plain
// CHECK-SAME: ([[Q:%.+]]: tensor<2x4x8x16xf32>, [[K:%.+]]: tensor<2x4x8x16xf32>, [[V:%.+]]: tensor<2x4x8x16xf32>, [[POS:%.+]]: tensor<2x4x8xi64>, [[DO:%.+]]: tensor<2x4x8x16xf32>)
// CHECK: [[DQ:%[^,]+]], [[DK:%[^,]+]], [[DV:%[^ ]+]] = uoe.selective_attention_grad [[Q]], [[K]], [[V]], [[POS]], [[DO]] heads 2 : tensor<2x4x8x16xf32>, tensor<2x4x8xi64>{{$}}
// CHECK-NEXT: return [[DQ]], [[DK]], [[DV]]
func.func @selective_attention_grad_plain(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x8x16xf32>, %v: tensor<2x4x8x16xf32>,
    %pos: tensor<2x4x8xi64>, %do: tensor<2x4x8x16xf32>) -> (tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>) {
  %dq, %dk, %dv = uoe.selective_attention_grad %q, %k, %v, %pos, %do heads 2 : tensor<2x4x8x16xf32>, tensor<2x4x8xi64>
  return %dq, %dk, %dv : tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>
}

// -----

// Tests that key_padding, causal, rope and a dynamic L round-trip, the
// key_padding type after positions'.
// CHECK-LABEL: func.func @selective_attention_grad_compacted
// CHECK-SAME: [[KP:%[^:]+]]: tensor<4x16xi1>
// CHECK: uoe.selective_attention_grad %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}} key_padding [[KP]], %{{.+}} heads 2 causal rope compacted : tensor<2x4x?x16xf32>, tensor<2x4x?xi64>, tensor<4x16xi1>{{$}}
func.func @selective_attention_grad_compacted(%q: tensor<2x4x?x16xf32>, %k: tensor<2x4x?x16xf32>, %v: tensor<2x4x?x16xf32>,
    %pos: tensor<2x4x?xi64>, %kp: tensor<4x16xi1>, %do: tensor<2x4x?x16xf32>) -> tensor<2x4x?x16xf32> {
  %dq, %dk, %dv = uoe.selective_attention_grad %q, %k, %v, %pos key_padding %kp, %do heads 2 causal rope compacted
      : tensor<2x4x?x16xf32>, tensor<2x4x?xi64>, tensor<4x16xi1>
  return %dq : tensor<2x4x?x16xf32>
}

// -----

// Tests that rope original with its base and an explicit scale round-trip
// (the base and scale in the attribute dictionary).
// CHECK-LABEL: func.func @selective_attention_grad_original
// CHECK: uoe.selective_attention_grad {{.+}} heads 1 rope original {rope_base = 5.000000e+02 : f64, scale = 2.500000e-01 : f64} : tensor<1x2x3x4xf64>, tensor<1x2x3xi64>{{$}}
func.func @selective_attention_grad_original(%q: tensor<1x2x3x4xf64>, %pos: tensor<1x2x3xi64>) -> tensor<1x2x3x4xf64> {
  %dq, %dk, %dv = uoe.selective_attention_grad %q, %q, %q, %pos, %q heads 1 rope original {rope_base = 500.0 : f64, scale = 0.25 : f64}
      : tensor<1x2x3x4xf64>, tensor<1x2x3xi64>
  return %dq : tensor<1x2x3x4xf64>
}
