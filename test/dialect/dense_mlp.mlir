// RUN: uoe-opt %s -split-input-file | uoe-opt -split-input-file | FileCheck %s

// Tests that a dense MLP with gelu round-trips, its four weight operands in the
// up(...) and down(...) groups.
// CHECK-LABEL: func.func @dense_mlp_gelu
// CHECK-SAME: ([[X:%.+]]: tensor<4x16x32xf32>, [[W1:%.+]]: tensor<32x64xf32>, [[B1:%.+]]: tensor<64xf32>, [[W2:%.+]]: tensor<64x32xf32>, [[B2:%.+]]: tensor<32xf32>)
// CHECK: [[Y:%.+]] = uoe.dense_mlp [[X]], up([[W1]], [[B1]]), down([[W2]], [[B2]]) activation gelu : tensor<4x16x32xf32>, tensor<32x64xf32>, tensor<64xf32>, tensor<64x32xf32>, tensor<32xf32>
// CHECK-NEXT: return [[Y]] : tensor<4x16x32xf32>
func.func @dense_mlp_gelu(%x: tensor<4x16x32xf32>, %w1: tensor<32x64xf32>, %b1: tensor<64xf32>,
                          %w2: tensor<64x32xf32>, %b2: tensor<32xf32>) -> tensor<4x16x32xf32> {
  %y = uoe.dense_mlp %x, up(%w1, %b1), down(%w2, %b2) activation gelu
      : tensor<4x16x32xf32>, tensor<32x64xf32>, tensor<64xf32>, tensor<64x32xf32>, tensor<32xf32>
  return %y : tensor<4x16x32xf32>
}

// -----

// Tests that swiglu takes a first GEMM twice as wide as the second one's
// input ([gate | up] halves: w1 is [d, 2F], w2 is [F, d]).
// CHECK-LABEL: func.func @dense_mlp_swiglu
// CHECK: [[Y:%.+]] = uoe.dense_mlp %{{.+}}, up(%{{.+}}, %{{.+}}), down(%{{.+}}, %{{.+}}) activation swiglu : tensor<4x16x32xf32>, tensor<32x128xf32>, tensor<128xf32>, tensor<64x32xf32>, tensor<32xf32>
// CHECK-NEXT: return [[Y]]
func.func @dense_mlp_swiglu(%x: tensor<4x16x32xf32>, %w1: tensor<32x128xf32>, %b1: tensor<128xf32>,
                            %w2: tensor<64x32xf32>, %b2: tensor<32xf32>) -> tensor<4x16x32xf32> {
  %y = uoe.dense_mlp %x, up(%w1, %b1), down(%w2, %b2) activation swiglu
      : tensor<4x16x32xf32>, tensor<32x128xf32>, tensor<128xf32>, tensor<64x32xf32>, tensor<32xf32>
  return %y : tensor<4x16x32xf32>
}

// -----

// Tests that every other activation keyword round-trips, on a rank-2 input.
// CHECK-LABEL: func.func @dense_mlp_activations
// CHECK: [[A:%.+]] = uoe.dense_mlp %{{.+}} activation none : tensor<8x32xf32>
// CHECK: [[B:%.+]] = uoe.dense_mlp [[A]], {{.+}} activation gelu_tanh : tensor<8x32xf32>
// CHECK: [[C:%.+]] = uoe.dense_mlp [[B]], {{.+}} activation relu : tensor<8x32xf32>
// CHECK: [[D:%.+]] = uoe.dense_mlp [[C]], {{.+}} activation silu : tensor<8x32xf32>
// CHECK-NEXT: return [[D]]
func.func @dense_mlp_activations(%x: tensor<8x32xf32>, %w1: tensor<32x16xf32>, %b1: tensor<16xf32>,
                                 %w2: tensor<16x32xf32>, %b2: tensor<32xf32>) -> tensor<8x32xf32> {
  %a = uoe.dense_mlp %x, up(%w1, %b1), down(%w2, %b2) activation none
      : tensor<8x32xf32>, tensor<32x16xf32>, tensor<16xf32>, tensor<16x32xf32>, tensor<32xf32>
  %b = uoe.dense_mlp %a, up(%w1, %b1), down(%w2, %b2) activation gelu_tanh
      : tensor<8x32xf32>, tensor<32x16xf32>, tensor<16xf32>, tensor<16x32xf32>, tensor<32xf32>
  %c = uoe.dense_mlp %b, up(%w1, %b1), down(%w2, %b2) activation relu
      : tensor<8x32xf32>, tensor<32x16xf32>, tensor<16xf32>, tensor<16x32xf32>, tensor<32xf32>
  %d = uoe.dense_mlp %c, up(%w1, %b1), down(%w2, %b2) activation silu
      : tensor<8x32xf32>, tensor<32x16xf32>, tensor<16xf32>, tensor<16x32xf32>, tensor<32xf32>
  return %d : tensor<8x32xf32>
}

// -----

// Tests that half-precision element types (f16, bf16) are accepted.
// CHECK-LABEL: func.func @dense_mlp_half
// CHECK: uoe.dense_mlp {{.+}} activation gelu : tensor<2x8x32xf16>, tensor<32x64xf16>, tensor<64xf16>, tensor<64x32xf16>, tensor<32xf16>
// CHECK: uoe.dense_mlp {{.+}} activation silu : tensor<2x8x32xbf16>, tensor<32x64xbf16>, tensor<64xbf16>, tensor<64x32xbf16>, tensor<32xbf16>
func.func @dense_mlp_half(%x: tensor<2x8x32xf16>, %w1: tensor<32x64xf16>, %b1: tensor<64xf16>,
                          %w2: tensor<64x32xf16>, %b2: tensor<32xf16>,
                          %xb: tensor<2x8x32xbf16>, %w1b: tensor<32x64xbf16>, %b1b: tensor<64xbf16>,
                          %w2b: tensor<64x32xbf16>, %b2b: tensor<32xbf16>) -> (tensor<2x8x32xf16>, tensor<2x8x32xbf16>) {
  %y = uoe.dense_mlp %x, up(%w1, %b1), down(%w2, %b2) activation gelu
      : tensor<2x8x32xf16>, tensor<32x64xf16>, tensor<64xf16>, tensor<64x32xf16>, tensor<32xf16>
  %z = uoe.dense_mlp %xb, up(%w1b, %b1b), down(%w2b, %b2b) activation silu
      : tensor<2x8x32xbf16>, tensor<32x64xbf16>, tensor<64xbf16>, tensor<64x32xbf16>, tensor<32xbf16>
  return %y, %z : tensor<2x8x32xf16>, tensor<2x8x32xbf16>
}
