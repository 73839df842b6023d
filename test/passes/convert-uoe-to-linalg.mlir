// RUN: uoe-opt %s -split-input-file --convert-uoe-to-linalg --verify-diagnostics | FileCheck %s

// Tests that a whole UoE block lowers with no uoe op left, its GEMMs as
// batch matmuls and its selection as generics.
// CHECK-LABEL: func.func @block
// CHECK-NOT: uoe.
// CHECK: linalg.batch_matmul
// CHECK: return
func.func @block(%x: tensor<16x4x32xf32>, %wg: tensor<4x32xf32>, %bg: tensor<4xf32>, %w1: tensor<4x32x16xf32>, %b1: tensor<4x16xf32>, %w2: tensor<4x16x32xf32>, %b2: tensor<4x32xf32>, %g: tensor<32xf32>) -> tensor<16x4x32xf32> {
  %y = uoe.uome %x, router(%wg, %bg), up(%w1, %b1), down(%w2, %b2) top 2 capacity 0.5 activation gelu union : tensor<16x4x32xf32>, tensor<4x32xf32>, tensor<4xf32>, tensor<4x32x16xf32>, tensor<4x16xf32>, tensor<4x16x32xf32>, tensor<4x32xf32>
  %n = uoe.rms_norm %y, %g eps 1.0e-6 : tensor<16x4x32xf32>, tensor<32xf32>
  return %n : tensor<16x4x32xf32>
}

// -----

// Tests that ops outside the uoe dialect are left as they are.
// CHECK-LABEL: func.func @untouched
// CHECK: arith.addf %{{.+}}, %{{.+}} : tensor<4xf32>
func.func @untouched(%a: tensor<4xf32>) -> tensor<4xf32> {
  %r = arith.addf %a, %a : tensor<4xf32>
  return %r : tensor<4xf32>
}
