// RUN: uoe-opt %s -split-input-file --convert-uoe-to-linalg --verify-diagnostics | FileCheck %s

// Tests that dense attention (a selective attention with a static L, the
// sequence length) keeps L static through the per-head reshapes: expanding
// the static score matrix into a `?` dimension does not verify, so dense
// attention used to fail to lower at all.
// CHECK-LABEL: func.func @attention_static
// CHECK: [[S:%.+]] = linalg.batch_matmul ins(%{{.+}}, %{{.+}} : tensor<4x5x4xf32>, tensor<4x4x5xf32>) outs(%{{.+}} : tensor<4x5x5xf32>)
// CHECK: tensor.expand_shape [[S]] {{\[\[}}0, 1, 2], [3], [4]] output_shape [1, 2, 2, 5, 5] : tensor<4x5x5xf32> into tensor<1x2x2x5x5xf32>
// CHECK: [[O:%.+]] = linalg.batch_matmul ins(%{{.+}}, %{{.+}} : tensor<4x5x5xf32>, tensor<4x5x4xf32>) outs(%{{.+}} : tensor<4x5x4xf32>)
// CHECK: tensor.expand_shape [[O]] {{\[\[}}0, 1, 2], [3], [4]] output_shape [1, 2, 2, 5, 4] : tensor<4x5x4xf32> into tensor<1x2x2x5x4xf32>
// CHECK-NOT: tensor.cast
// CHECK-NOT: uoe.
// CHECK: return %{{.+}} : tensor<2x5x8xf32>
func.func @attention_static(%x: tensor<2x5x8xf32>, %wqkv: tensor<3x8x8xf32>, %bqkv: tensor<3x8xf32>, %wo: tensor<8x8xf32>, %bo: tensor<8xf32>) -> tensor<2x5x8xf32> {
  %y = uoe.attention %x, qkv(%wqkv, %bqkv), out(%wo, %bo) heads 2 causal : tensor<2x5x8xf32>, tensor<3x8x8xf32>, tensor<3x8xf32>, tensor<8x8xf32>, tensor<8xf32>
  return %y : tensor<2x5x8xf32>
}

// -----

// Tests that with a dynamic L (after dynamic selection) the reshapes carry
// L as a `?` read from the query.
// CHECK-LABEL: func.func @selective_dynamic
// CHECK: [[L:%.+]] = tensor.dim %arg0, %{{.+}} : tensor<2x3x?x8xf32>
// CHECK: tensor.expand_shape %{{.+}} {{\[\[}}0, 1, 2], [3], [4]] output_shape [2, 3, 2, [[L]], [[L]]] : tensor<12x?x?xf32> into tensor<2x3x2x?x?xf32>
// CHECK-NOT: uoe.
func.func @selective_dynamic(%q: tensor<2x3x?x8xf32>, %k: tensor<2x3x?x8xf32>, %v: tensor<2x3x?x8xf32>, %pos: tensor<2x3x?xi64>) -> tensor<2x3x?x8xf32> {
  %o = uoe.selective_attention %q, %k, %v, %pos heads 2 causal
      : tensor<2x3x?x8xf32>, tensor<2x3x?x8xf32>, tensor<2x3x?x8xf32>, tensor<2x3x?xi64> -> tensor<2x3x?x8xf32>
  return %o : tensor<2x3x?x8xf32>
}
