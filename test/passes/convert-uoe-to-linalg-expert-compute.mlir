// RUN: uoe-opt %s -split-input-file --convert-uoe-to-linalg --verify-diagnostics | FileCheck %s

// Tests that the SwiGLU epilogue of an expert GEMM reads the [gate | up]
// halves of the product and of the bias as slices of the result's width, so
// that every operand of its generic has the extent of the loops (reading
// the whole product with the result's loops made a dynamic-size generic
// iterate over 2F columns and write past its F-column result).
// CHECK-LABEL: func.func @swiglu_dynamic
// CHECK: [[PROD:%.+]] = linalg.batch_matmul {{.*}} -> tensor<2x?x12xf32>
// CHECK-DAG: [[GATE:%.+]] = tensor.extract_slice [[PROD]][0, 0, 0] [2, %{{.+}}, 6] [1, 1, 1] : tensor<2x?x12xf32> to tensor<2x?x6xf32>
// CHECK-DAG: [[UP:%.+]] = tensor.extract_slice [[PROD]][0, 0, 6] [2, %{{.+}}, 6] [1, 1, 1] : tensor<2x?x12xf32> to tensor<2x?x6xf32>
// CHECK-DAG: [[BGATE:%.+]] = tensor.extract_slice %{{.+}}[0, 0] [2, 6] [1, 1] : tensor<2x12xf32> to tensor<2x6xf32>
// CHECK-DAG: [[BUP:%.+]] = tensor.extract_slice %{{.+}}[0, 6] [2, 6] [1, 1] : tensor<2x12xf32> to tensor<2x6xf32>
// CHECK: linalg.generic {{.*}} ins([[GATE]], [[UP]], [[BGATE]], [[BUP]] : tensor<2x?x6xf32>, tensor<2x?x6xf32>, tensor<2x6xf32>, tensor<2x6xf32>) outs(%{{.+}} : tensor<2x?x6xf32>)
// CHECK-NEXT: ^bb0([[G:%.+]]: f32, [[U:%.+]]: f32, [[BG:%.+]]: f32, [[BU:%.+]]: f32, %{{.+}}: f32):
// CHECK-DAG: [[GB:%.+]] = arith.addf [[G]], [[BG]] : f32
// CHECK-DAG: [[UB:%.+]] = arith.addf [[U]], [[BU]] : f32
// CHECK: [[SILU:%.+]] = arith.divf [[GB]], %{{.+}} : f32
// CHECK: [[Y:%.+]] = arith.mulf [[SILU]], [[UB]] : f32
// CHECK: linalg.yield [[Y]] : f32
// CHECK-NOT: tensor.extract %
// CHECK-NOT: uoe.
func.func @swiglu_dynamic(%x: tensor<2x3x?x8xf32>, %w: tensor<2x8x12xf32>, %b: tensor<2x12xf32>) -> tensor<2x3x?x6xf32> {
  %h = uoe.expert_matmul %x, %w bias %b activation swiglu : tensor<2x3x?x8xf32>, tensor<2x8x12xf32>, tensor<2x12xf32> -> tensor<2x3x?x6xf32>
  return %h : tensor<2x3x?x6xf32>
}

// -----

// Tests that a static SwiGLU expert GEMM (a dense MLP's, here) verifies:
// the same slices, without a bias.
// CHECK-LABEL: func.func @swiglu_static_no_bias
// CHECK: [[PROD:%.+]] = linalg.batch_matmul {{.*}} -> tensor<1x5x8xf32>
// CHECK-DAG: [[GATE:%.+]] = tensor.extract_slice [[PROD]][0, 0, 0] [1, 5, 4] [1, 1, 1] : tensor<1x5x8xf32> to tensor<1x5x4xf32>
// CHECK-DAG: [[UP:%.+]] = tensor.extract_slice [[PROD]][0, 0, 4] [1, 5, 4] [1, 1, 1] : tensor<1x5x8xf32> to tensor<1x5x4xf32>
// CHECK: linalg.generic {{.*}} ins([[GATE]], [[UP]] : tensor<1x5x4xf32>, tensor<1x5x4xf32>) outs(%{{.+}} : tensor<1x5x4xf32>)
func.func @swiglu_static_no_bias(%x: tensor<1x5x3xf32>, %w: tensor<1x3x8xf32>) -> tensor<1x5x4xf32> {
  %h = uoe.expert_matmul %x, %w activation swiglu : tensor<1x5x3xf32>, tensor<1x3x8xf32> -> tensor<1x5x4xf32>
  return %h : tensor<1x5x4xf32>
}

// -----

// Tests that the other activations keep reading the product and the bias
// whole, with no slice.
// CHECK-LABEL: func.func @gelu_whole
// CHECK-NOT: tensor.extract_slice
// CHECK: linalg.generic {{.*}} ins(%{{.+}}, %{{.+}} : tensor<2x6x4xf32>, tensor<2x4xf32>)
// CHECK: math.erf
func.func @gelu_whole(%x: tensor<2x6x3xf32>, %w: tensor<2x3x4xf32>, %b: tensor<2x4xf32>) -> tensor<2x6x4xf32> {
  %h = uoe.expert_matmul %x, %w bias %b activation gelu : tensor<2x6x3xf32>, tensor<2x3x4xf32>, tensor<2x4xf32> -> tensor<2x6x4xf32>
  return %h : tensor<2x6x4xf32>
}
