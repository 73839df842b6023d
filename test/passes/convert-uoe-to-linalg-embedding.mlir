// RUN: uoe-opt %s -split-input-file --convert-uoe-to-linalg --verify-diagnostics | FileCheck %s --implicit-check-not=uoe.

// Tests that a token embedding becomes one parallel generic that clamps the
// id to [0, V - 1] and reads the table row with tensor.extract.
// CHECK-LABEL: func.func @embedding
// CHECK-SAME: ([[IDS:%.+]]: tensor<2x5xi64>, [[E:%.+]]: tensor<37x48xf32>)
// CHECK-DAG: [[ZERO:%.+]] = arith.constant 0 : i64
// CHECK-DAG: [[LAST:%.+]] = arith.constant 36 : i64
// CHECK: [[H:%.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel"]} ins([[IDS]] : tensor<2x5xi64>) outs(%{{.+}} : tensor<2x5x48xf32>)
// CHECK-NEXT: ^bb0([[ID:%.+]]: i64, %{{.+}}: f32):
// CHECK: [[LO:%.+]] = arith.maxsi [[ID]], [[ZERO]] : i64
// CHECK: [[HI:%.+]] = arith.minsi [[LO]], [[LAST]] : i64
// CHECK: [[ROW:%.+]] = arith.index_cast [[HI]] : i64 to index
// CHECK: [[J:%.+]] = linalg.index 2 : index
// CHECK: [[V:%.+]] = tensor.extract [[E]][[[ROW]], [[J]]] : tensor<37x48xf32>
// CHECK: linalg.yield [[V]] : f32
// CHECK: return [[H]]
// CHECK-NOT: uoe.
func.func @embedding(%ids: tensor<2x5xi64>, %table: tensor<37x48xf32>) -> tensor<2x5x48xf32> {
  %h = uoe.embedding %ids, %table : tensor<2x5xi64>, tensor<37x48xf32> -> tensor<2x5x48xf32>
  return %h : tensor<2x5x48xf32>
}

// -----

// Tests that learned positions are read through the first T rows of their
// table, indexed by (t, j), and added in the same generic; i32 ids are
// sign-extended first.
// CHECK-LABEL: func.func @embedding_positions
// CHECK-SAME: ([[IDS:%.+]]: tensor<2x5xi32>, [[E:%.+]]: tensor<37x48xf32>, [[P:%.+]]: tensor<9x48xf32>)
// CHECK: [[FIRST:%.+]] = tensor.extract_slice [[P]][0, 0] [5, 48] [1, 1] : tensor<9x48xf32> to tensor<5x48xf32>
// CHECK: linalg.generic {{.*}} ins([[IDS]], [[FIRST]] : tensor<2x5xi32>, tensor<5x48xf32>) outs(%{{.+}} : tensor<2x5x48xf32>)
// CHECK-NEXT: ^bb0([[ID:%.+]]: i32, [[POS:%.+]]: f32, %{{.+}}: f32):
// CHECK: arith.extsi [[ID]] : i32 to i64
// CHECK: [[V:%.+]] = tensor.extract [[E]]
// CHECK: [[S:%.+]] = arith.addf [[V]], [[POS]] : f32
// CHECK: linalg.yield [[S]] : f32
func.func @embedding_positions(%ids: tensor<2x5xi32>, %table: tensor<37x48xf32>, %pos: tensor<9x48xf32>) -> tensor<2x5x48xf32> {
  %h = uoe.embedding %ids, %table positions %pos : tensor<2x5xi32>, tensor<37x48xf32>, tensor<9x48xf32> -> tensor<2x5x48xf32>
  return %h : tensor<2x5x48xf32>
}

// -----

// Tests that a position table of exactly T rows is used as it is (no slice).
// CHECK-LABEL: func.func @embedding_positions_exact
// CHECK-NOT: tensor.extract_slice
// CHECK: linalg.generic {{.*}} ins(%{{.+}}, %{{.+}} : tensor<3xi64>, tensor<3x4xf32>)
func.func @embedding_positions_exact(%ids: tensor<3xi64>, %table: tensor<10x4xf32>, %pos: tensor<3x4xf32>) -> tensor<3x4xf32> {
  %h = uoe.embedding %ids, %table positions %pos : tensor<3xi64>, tensor<10x4xf32>, tensor<3x4xf32> -> tensor<3x4xf32>
  return %h : tensor<3x4xf32>
}

// -----

// Tests that the embedding backward is a loop over the 32 tokens carrying
// the table, adding one clamped row per step in place.
// CHECK-LABEL: func.func @embedding_grad
// CHECK: [[IDS:%.+]] = tensor.collapse_shape %arg0 {{\[\[}}0, 1]] : tensor<2x16xi64> into tensor<32xi64>
// CHECK: [[ZERO:%.+]] = linalg.fill
// CHECK: [[T:%.+]] = scf.for [[I:%.+]] = %{{.+}} to %{{.+}} step %{{.+}} iter_args([[ACC:%.+]] = [[ZERO]]) -> (tensor<256x64xf32>)
// CHECK: tensor.extract [[IDS]][[[I]]] : tensor<32xi64>
// CHECK: arith.maxsi
// CHECK: arith.minsi
// CHECK: [[ROW:%.+]] = tensor.extract_slice [[ACC]]
// CHECK: [[SUM:%.+]] = linalg.generic {{.+}} outs([[ROW]] : tensor<1x64xf32>)
// CHECK: [[NEXT:%.+]] = tensor.insert_slice [[SUM]] into [[ACC]]
// CHECK: scf.yield [[NEXT]]
// CHECK: return [[T]]
func.func @embedding_grad(%ids: tensor<2x16xi64>, %dh: tensor<2x16x64xf32>) -> tensor<256x64xf32> {
  %dt = uoe.embedding_grad %ids, %dh : tensor<2x16xi64>, tensor<2x16x64xf32> -> tensor<256x64xf32>
  return %dt : tensor<256x64xf32>
}
