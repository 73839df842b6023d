// RUN: uoe-opt %s -split-input-file --convert-uoe-to-linalg --verify-diagnostics | FileCheck %s --implicit-check-not=uoe.

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

// -----

// Tests that an expert GEMM becomes one batch matmul over experts, with the
// batch dimensions folded into M, and a bias + activation epilogue.
// CHECK-LABEL: func.func @expert_matmul
// CHECK: %[[A:.+]] = tensor.collapse_shape %{{.+}} {{\[\[}}0], [1, 2], [3]] : tensor<3x4x8x32xf32> into tensor<3x32x32xf32>
// CHECK: %[[C:.+]] = linalg.batch_matmul ins(%[[A]], %{{.+}} : tensor<3x32x32xf32>, tensor<3x32x16xf32>)
// CHECK: %[[E:.+]] = linalg.generic {{.*}} ins(%[[C]], %{{.+}} : tensor<3x32x16xf32>, tensor<3x16xf32>)
// CHECK: arith.addf
// CHECK: arith.maximumf
// CHECK: tensor.expand_shape %[[E]] {{.*}} into tensor<3x4x8x16xf32>
// CHECK-NOT: uoe.
func.func @expert_matmul(%x: tensor<3x4x8x32xf32>, %w: tensor<3x32x16xf32>, %b: tensor<3x16xf32>) -> tensor<3x4x8x16xf32> {
  %h = uoe.expert_matmul %x, %w bias %b activation relu : tensor<3x4x8x32xf32>, tensor<3x32x16xf32>, tensor<3x16xf32> -> tensor<3x4x8x16xf32>
  return %h : tensor<3x4x8x16xf32>
}

// -----

// Tests that a dense MLP is a single expert: the rows folded into [1, M, d],
// two batch matmuls of one batch, the first with the bias + GELU epilogue,
// the second with the bias alone, then back to the input's shape.
// CHECK-LABEL: func.func @dense_mlp
// CHECK: [[X:%.+]] = tensor.expand_shape %{{.+}} {{\[\[}}0, 1], [2]] output_shape [1, 10, 8] : tensor<10x8xf32> into tensor<1x10x8xf32>
// CHECK: [[Z:%.+]] = linalg.batch_matmul ins([[X]], %{{.+}} : tensor<1x10x8xf32>, tensor<1x8x16xf32>) outs(%{{.+}} : tensor<1x10x16xf32>)
// CHECK: [[H:%.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel"]} ins([[Z]], %{{.+}} : tensor<1x10x16xf32>, tensor<1x16xf32>)
// CHECK: math.erf
// CHECK: [[Y:%.+]] = linalg.batch_matmul ins([[H]], %{{.+}} : tensor<1x10x16xf32>, tensor<1x16x8xf32>) outs(%{{.+}} : tensor<1x10x8xf32>)
// CHECK: [[YB:%.+]] = linalg.generic {{.*}} ins([[Y]], %{{.+}} : tensor<1x10x8xf32>, tensor<1x8xf32>)
// CHECK-NOT: math.erf
// CHECK: [[FLAT:%.+]] = tensor.collapse_shape [[YB]] {{\[\[}}0, 1], [2]] : tensor<1x10x8xf32> into tensor<10x8xf32>
// CHECK: [[OUT:%.+]] = tensor.expand_shape [[FLAT]] {{\[\[}}0, 1], [2]] output_shape [2, 5, 8] : tensor<10x8xf32> into tensor<2x5x8xf32>
// CHECK: return [[OUT]]
// CHECK-NOT: uoe.
func.func @dense_mlp(%x: tensor<2x5x8xf32>, %w1: tensor<8x16xf32>, %b1: tensor<16xf32>, %w2: tensor<16x8xf32>, %b2: tensor<8xf32>) -> tensor<2x5x8xf32> {
  %y = uoe.dense_mlp %x, up(%w1, %b1), down(%w2, %b2) activation gelu : tensor<2x5x8xf32>, tensor<8x16xf32>, tensor<16xf32>, tensor<16x8xf32>, tensor<8xf32>
  return %y : tensor<2x5x8xf32>
}

// -----

// Tests that dispatch is one parallel generic over [E, R, L*P, d] that reads
// input[r, positions[e, r, i / P] * P + i % P, c] with tensor.extract.
// CHECK-LABEL: func.func @dispatch
// CHECK-SAME: ([[X:%.+]]: tensor<2x8x4xf32>, [[POS:%.+]]: tensor<3x2x2xi64>)
// CHECK-DAG: [[P:%.+]] = arith.constant 2 : index
// CHECK: [[Y:%.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel"]} outs(%{{.+}} : tensor<3x2x4x4xf32>)
// CHECK-DAG: [[E:%.+]] = linalg.index 0 : index
// CHECK-DAG: [[R:%.+]] = linalg.index 1 : index
// CHECK-DAG: [[I:%.+]] = linalg.index 2 : index
// CHECK-DAG: [[C:%.+]] = linalg.index 3 : index
// CHECK: [[SLOT:%.+]] = arith.divui [[I]], [[P]] : index
// CHECK: [[T:%.+]] = arith.remui [[I]], [[P]] : index
// CHECK: [[PATCH:%.+]] = tensor.extract [[POS]][[[E]], [[R]], [[SLOT]]] : tensor<3x2x2xi64>
// CHECK: [[PI:%.+]] = arith.index_cast [[PATCH]] : i64 to index
// CHECK: [[FIRST:%.+]] = arith.muli [[PI]], [[P]] : index
// CHECK: [[ROW:%.+]] = arith.addi [[FIRST]], [[T]] : index
// CHECK: [[V:%.+]] = tensor.extract [[X]][[[R]], [[ROW]], [[C]]] : tensor<2x8x4xf32>
// CHECK: linalg.yield [[V]] : f32
// CHECK: return [[Y]]
// CHECK-NOT: uoe.
func.func @dispatch(%x: tensor<2x8x4xf32>, %pos: tensor<3x2x2xi64>) -> tensor<3x2x4x4xf32> {
  %y = uoe.dispatch %x, %pos patch 2 : tensor<2x8x4xf32>, tensor<3x2x2xi64> -> tensor<3x2x4x4xf32>
  return %y : tensor<3x2x4x4xf32>
}

// -----

// Tests that a gated combine builds the inverse index of the positions (-1
// where no slot holds a patch), then sums the experts' weighted rows in one
// generic whose loops are (r, n, e, c), e the only reduction, so the
// experts are added in order.
// CHECK-LABEL: func.func @combine_gated
// CHECK-SAME: ([[YS:%.+]]: tensor<3x2x4x4xf32>, [[POS:%.+]]: tensor<3x2x2xi64>, [[W:%.+]]: tensor<3x2x2xf32>)
// CHECK-DAG: [[NONE:%.+]] = arith.constant -1 : i64
// CHECK: [[EMPTY:%.+]] = linalg.fill ins([[NONE]] : i64) outs(%{{.+}} : tensor<3x2x4xi64>)
// CHECK: [[INV:%.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins([[POS]] : tensor<3x2x2xi64>) outs([[EMPTY]] : tensor<3x2x4xi64>)
// CHECK: [[OUT:%.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction", "parallel"]} ins([[INV]] : tensor<3x2x4xi64>) outs(%{{.+}} : tensor<2x8x4xf32>)
// CHECK-NEXT: ^bb0([[SLOT:%.+]]: i64, [[ACC:%.+]]: f32):
// CHECK-NEXT: [[VALID:%.+]] = arith.cmpi sge, [[SLOT]], %{{.+}} : i64
// CHECK: [[Y:%.+]] = tensor.extract [[YS]]
// CHECK: [[WE:%.+]] = tensor.extract [[W]]
// CHECK: [[WY:%.+]] = arith.mulf [[Y]], [[WE]] : f32
// CHECK: [[TERM:%.+]] = arith.select [[VALID]], [[WY]], %{{.+}} : f32
// CHECK: [[SUM:%.+]] = arith.addf [[ACC]], [[TERM]] : f32
// CHECK: linalg.yield [[SUM]] : f32
// CHECK: return [[OUT]]
// CHECK-NOT: uoe.
func.func @combine_gated(%ys: tensor<3x2x4x4xf32>, %pos: tensor<3x2x2xi64>, %w: tensor<3x2x2xf32>) -> tensor<2x8x4xf32> {
  %y = uoe.combine %ys, %pos weights %w gated patch 2 : tensor<3x2x4x4xf32>, tensor<3x2x2xi64>, tensor<3x2x2xf32> -> tensor<2x8x4xf32>
  return %y : tensor<2x8x4xf32>
}

// -----

// Tests that `none` is the identity and that swiglu's forward and backward
// are one generic each, with a dynamic leading dimension: the forward reads
// the [gate | up] halves as slices, the backward writes both halves of the
// gradient from one generic that reads each channel's partner.
// CHECK-LABEL: func.func @activations
// CHECK-SAME: ([[Z:%.+]]: tensor<4x?x16xf64>, [[DH:%.+]]: tensor<4x?x8xf64>)
// CHECK: [[H:%.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel"]} ins(%{{.+}}, %{{.+}} : tensor<4x?x8xf64>, tensor<4x?x8xf64>) outs(%{{.+}} : tensor<4x?x8xf64>)
// CHECK: [[DZ:%.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel"]} outs(%{{.+}} : tensor<4x?x16xf64>)
// CHECK: [[ISGATE:%.+]] = arith.cmpi ult
// CHECK: arith.select [[ISGATE]], %{{.+}}, %{{.+}} : f64
// CHECK-NOT: linalg.generic
// CHECK-NOT: uoe.
// CHECK: return [[H]], [[DZ]], [[Z]], [[DH]] : tensor<4x?x8xf64>, tensor<4x?x16xf64>, tensor<4x?x16xf64>, tensor<4x?x8xf64>
func.func @activations(%z: tensor<4x?x16xf64>, %dh: tensor<4x?x8xf64>)
    -> (tensor<4x?x8xf64>, tensor<4x?x16xf64>, tensor<4x?x16xf64>, tensor<4x?x8xf64>) {
  %h = uoe.activation %z swiglu : tensor<4x?x16xf64> -> tensor<4x?x8xf64>
  %dz = uoe.activation_grad %z, %dh swiglu : tensor<4x?x16xf64>, tensor<4x?x8xf64> -> tensor<4x?x16xf64>
  %n = uoe.activation %z none : tensor<4x?x16xf64> -> tensor<4x?x16xf64>
  %dn = uoe.activation_grad %dh, %dh none : tensor<4x?x8xf64>, tensor<4x?x8xf64> -> tensor<4x?x8xf64>
  return %h, %dz, %n, %dn : tensor<4x?x8xf64>, tensor<4x?x16xf64>, tensor<4x?x16xf64>, tensor<4x?x8xf64>
}

// -----

// Tests that the ReLU backward is dy * (x > 0 ? 1 : 0) in one elementwise
// generic (0 at x = 0, as PyTorch's threshold backward).
// CHECK-LABEL: func.func @activation_grad_relu
// CHECK-SAME: ([[Z:%.+]]: tensor<4x6xf32>, [[DH:%.+]]: tensor<4x6xf32>)
// CHECK-DAG: [[ONE:%.+]] = arith.constant 1.000000e+00 : f32
// CHECK-DAG: [[ZERO:%.+]] = arith.constant 0.000000e+00 : f32
// CHECK: [[DZ:%.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]} ins([[Z]], [[DH]] : tensor<4x6xf32>, tensor<4x6xf32>) outs(%{{.+}} : tensor<4x6xf32>)
// CHECK-NEXT: ^bb0([[X:%.+]]: f32, [[G:%.+]]: f32, %{{.+}}: f32):
// CHECK-NEXT: [[POS:%.+]] = arith.cmpf ogt, [[X]], [[ZERO]] : f32
// CHECK-NEXT: [[D:%.+]] = arith.select [[POS]], [[ONE]], [[ZERO]] : f32
// CHECK-NEXT: [[R:%.+]] = arith.mulf [[G]], [[D]] : f32
// CHECK-NEXT: linalg.yield [[R]] : f32
// CHECK: return [[DZ]]
// CHECK-NOT: uoe.
func.func @activation_grad_relu(%z: tensor<4x6xf32>, %dh: tensor<4x6xf32>) -> tensor<4x6xf32> {
  %dz = uoe.activation_grad %z, %dh relu : tensor<4x6xf32>, tensor<4x6xf32> -> tensor<4x6xf32>
  return %dz : tensor<4x6xf32>
}
