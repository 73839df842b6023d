// RUN: uoe-opt %s -split-input-file | uoe-opt -split-input-file | FileCheck %s

// Tests that selective attention with only the required clauses round-trips
// and prints no key_padding, causal or rope clause.
// CHECK-LABEL: func.func @selective_attention_plain
// CHECK-SAME: ([[Q:%.+]]: tensor<2x4x8x16xf32>, [[K:%.+]]: tensor<2x4x8x16xf32>, [[V:%.+]]: tensor<2x4x8x16xf32>, [[POS:%.+]]: tensor<2x4x8xi64>)
// CHECK: [[O:%.+]] = uoe.selective_attention [[Q]], [[K]], [[V]], [[POS]] heads 2 : tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8xi64> -> tensor<2x4x8x16xf32>{{$}}
// CHECK-NEXT: return [[O]] : tensor<2x4x8x16xf32>
func.func @selective_attention_plain(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x8x16xf32>, %v: tensor<2x4x8x16xf32>,
                                     %pos: tensor<2x4x8xi64>) -> tensor<2x4x8x16xf32> {
  %o = uoe.selective_attention %q, %k, %v, %pos heads 2
      : tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8xi64> -> tensor<2x4x8x16xf32>
  return %o : tensor<2x4x8x16xf32>
}

// -----

// Tests that key_padding (over the full sequence T = 16), causal and rope
// compacted round-trip, with a dynamic capacity L.
// CHECK-LABEL: func.func @selective_attention_compacted
// CHECK-SAME: [[KP:%[^:]+]]: tensor<4x16xi1>)
// CHECK: [[O:%.+]] = uoe.selective_attention %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}} key_padding [[KP]] heads 2 causal rope compacted : tensor<2x4x?x16xf32>, tensor<2x4x?x16xf32>, tensor<2x4x?x16xf32>, tensor<2x4x?xi64>, tensor<4x16xi1> -> tensor<2x4x?x16xf32>{{$}}
// CHECK-NEXT: return [[O]]
func.func @selective_attention_compacted(%q: tensor<2x4x?x16xf32>, %k: tensor<2x4x?x16xf32>, %v: tensor<2x4x?x16xf32>,
                                         %pos: tensor<2x4x?xi64>, %kp: tensor<4x16xi1>) -> tensor<2x4x?x16xf32> {
  %o = uoe.selective_attention %q, %k, %v, %pos key_padding %kp heads 2 causal rope compacted
      : tensor<2x4x?x16xf32>, tensor<2x4x?x16xf32>, tensor<2x4x?x16xf32>, tensor<2x4x?xi64>, tensor<4x16xi1> -> tensor<2x4x?x16xf32>
  return %o : tensor<2x4x?x16xf32>
}

// -----

// Tests that rope original with a rope_base and an explicit scale (both in
// the attribute dict) round-trips in bf16.
// CHECK-LABEL: func.func @selective_attention_original
// CHECK: uoe.selective_attention %{{.+}} heads 4 rope original {rope_base = 5.000000e+05 : f64, scale = 1.250000e-01 : f64} : tensor<1x2x8x16xbf16>, tensor<1x2x8x16xbf16>, tensor<1x2x8x16xbf16>, tensor<1x2x8xi64> -> tensor<1x2x8x16xbf16>{{$}}
func.func @selective_attention_original(%q: tensor<1x2x8x16xbf16>, %pos: tensor<1x2x8xi64>) -> tensor<1x2x8x16xbf16> {
  %o = uoe.selective_attention %q, %q, %q, %pos heads 4 rope original {rope_base = 500000.0 : f64, scale = 0.125 : f64}
      : tensor<1x2x8x16xbf16>, tensor<1x2x8x16xbf16>, tensor<1x2x8x16xbf16>, tensor<1x2x8xi64> -> tensor<1x2x8x16xbf16>
  return %o : tensor<1x2x8x16xbf16>
}

// -----

// Tests that causal alone (no rope) is accepted with an odd head width.
// CHECK-LABEL: func.func @selective_attention_causal_odd_width
// CHECK: uoe.selective_attention %{{.+}} heads 3 causal : tensor<2x1x4x9xf16>, tensor<2x1x4x9xf16>, tensor<2x1x4x9xf16>, tensor<2x1x4xi64> -> tensor<2x1x4x9xf16>{{$}}
func.func @selective_attention_causal_odd_width(%q: tensor<2x1x4x9xf16>, %pos: tensor<2x1x4xi64>) -> tensor<2x1x4x9xf16> {
  %o = uoe.selective_attention %q, %q, %q, %pos heads 3 causal
      : tensor<2x1x4x9xf16>, tensor<2x1x4x9xf16>, tensor<2x1x4x9xf16>, tensor<2x1x4xi64> -> tensor<2x1x4x9xf16>
  return %o : tensor<2x1x4x9xf16>
}
