// RUN: uoe-opt %s -split-input-file --uoe-norms-to-calls | FileCheck %s

// Tests that a post-LN residual add and LayerNorm become one call: flags
// 10 (beta 8 | residual 2), outer 2, inner 8, width 16, eps as f64, both
// addends read in place, no sum written (the add has no other user).
// CHECK-LABEL: func.func private @uoe_norm(i64, i64, i64, i64, f64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64)
// CHECK-LABEL: func.func @post
// CHECK-DAG: %[[EPS:.+]] = arith.constant 1.000000e-05 : f64
// CHECK-DAG: %[[W:.+]] = arith.constant 16 : i64
// CHECK-DAG: %[[IN:.+]] = arith.constant 8 : i64
// CHECK-DAG: %[[OUT_ROWS:.+]] = arith.constant 2 : i64
// CHECK-DAG: %[[FLAGS:.+]] = arith.constant 10 : i64
// CHECK-DAG: %[[ZERO:.+]] = arith.constant 0 : i64
// CHECK-NOT: arith.addf
// CHECK: bufferization.to_buffer %arg0 read_only
// CHECK: bufferization.to_buffer %arg1 read_only
// CHECK: %[[OUT:.+]] = memref.alloc() {alignment = 64 : i64} : memref<2x8x16xf32>
// CHECK: call @uoe_norm(%[[FLAGS]], %[[OUT_ROWS]], %[[IN]], %[[W]], %[[EPS]], {{.+}}, %[[ZERO]])
// CHECK: %[[Y:.+]] = bufferization.to_tensor %[[OUT]] restrict writable
// CHECK: return %[[Y]]
func.func @post(%x: tensor<2x8x16xf32>, %y: tensor<2x8x16xf32>, %g: tensor<16xf32>, %b: tensor<16xf32>) -> tensor<2x8x16xf32> {
  %s = arith.addf %x, %y : tensor<2x8x16xf32>
  %n = uoe.layer_norm %s, %g, %b eps 1.0e-5 : tensor<2x8x16xf32>, tensor<16xf32>, tensor<16xf32>
  return %n : tensor<2x8x16xf32>
}

// -----

// Tests that a residual stream read again (pre-norm) is written by the
// kernel (flags 7: RMSNorm 1 | residual 2 | write sum 4) and its other user
// reads that buffer.
// CHECK-LABEL: func.func @pre
// CHECK-DAG: %[[FLAGS:.+]] = arith.constant 7 : i64
// CHECK: %[[OUT:.+]] = memref.alloc() {alignment = 64 : i64} : memref<8x16xf32>
// CHECK: %[[SUM:.+]] = memref.alloc() {alignment = 64 : i64} : memref<8x16xf32>
// CHECK: call @uoe_norm(%[[FLAGS]],
// CHECK-DAG: %[[S:.+]] = bufferization.to_tensor %[[SUM]] restrict writable
// CHECK-DAG: %[[N:.+]] = bufferization.to_tensor %[[OUT]] restrict writable
// CHECK: %[[R:.+]] = arith.mulf %[[N]], %[[S]]
// CHECK: return %[[R]]
func.func @pre(%x: tensor<8x16xf32>, %y: tensor<8x16xf32>, %g: tensor<16xf32>) -> tensor<8x16xf32> {
  %s = arith.addf %x, %y : tensor<8x16xf32>
  %n = uoe.rms_norm %s, %g eps 1.0e-6 : tensor<8x16xf32>, tensor<16xf32>
  %r = arith.mulf %n, %s : tensor<8x16xf32>
  return %r : tensor<8x16xf32>
}

// -----

// Tests that a residual sum read before the norm stays an add, which the
// norm reads (flags 8: no residual), since the kernel's sum would come too
// late for that reader.
// CHECK-LABEL: func.func @used_before
// CHECK-DAG: %[[FLAGS:.+]] = arith.constant 8 : i64
// CHECK: %[[S:.+]] = arith.addf %arg0, %arg1
// CHECK: arith.mulf %[[S]], %[[S]]
// CHECK: call @uoe_norm(%[[FLAGS]],
func.func @used_before(%x: tensor<4x16xf32>, %y: tensor<4x16xf32>, %g: tensor<16xf32>, %b: tensor<16xf32>) -> (tensor<4x16xf32>, tensor<4x16xf32>) {
  %s = arith.addf %x, %y : tensor<4x16xf32>
  %sq = arith.mulf %s, %s : tensor<4x16xf32>
  %n = uoe.layer_norm %s, %g, %b eps 1.0e-5 : tensor<4x16xf32>, tensor<16xf32>, tensor<16xf32>
  return %sq, %n : tensor<4x16xf32>, tensor<4x16xf32>
}

// -----

// Tests that a norm without an add reads its input (flags 8) and that other
// element types are left to convert-uoe-to-linalg.
// CHECK-LABEL: func.func @plain
// CHECK-DAG: %[[FLAGS:.+]] = arith.constant 8 : i64
// CHECK: call @uoe_norm(%[[FLAGS]],
// CHECK: uoe.layer_norm {{.+}} : tensor<4x16xf64>
func.func @plain(%x: tensor<4x16xf32>, %g: tensor<16xf32>, %b: tensor<16xf32>, %z: tensor<4x16xf64>, %gz: tensor<16xf64>, %bz: tensor<16xf64>) -> (tensor<4x16xf32>, tensor<4x16xf64>) {
  %n = uoe.layer_norm %x, %g, %b eps 1.0e-5 : tensor<4x16xf32>, tensor<16xf32>, tensor<16xf32>
  %m = uoe.layer_norm %z, %gz, %bz eps 1.0e-5 : tensor<4x16xf64>, tensor<16xf64>, tensor<16xf64>
  return %n, %m : tensor<4x16xf32>, tensor<4x16xf64>
}

// -----

// Tests that the norms' gradients become calls of uoe_norm_grad: LayerNorm
// (flags 0) with dx, dgamma and dbeta buffers, RMSNorm (flags 1) with dx and
// dgamma and a zero for dbeta; x and dy read in place; f64 left alone.
// CHECK-LABEL: func.func private @uoe_norm_grad(i64, i64, i64, i64, f64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64)
// CHECK-LABEL: func.func @grads
// CHECK-DAG: %[[ZERO:.+]] = arith.constant 0 : i64
// CHECK-DAG: %[[ONE:.+]] = arith.constant 1 : i64
// CHECK-DAG: %[[W:.+]] = arith.constant 16 : i64
// CHECK-DAG: %[[IN:.+]] = arith.constant 8 : i64
// CHECK-DAG: %[[OUTER:.+]] = arith.constant 2 : i64
// CHECK: memref.alloc() {alignment = 64 : i64} : memref<2x8x16xf32>
// CHECK: memref.alloc() {alignment = 64 : i64} : memref<16xf32>
// CHECK: memref.alloc() {alignment = 64 : i64} : memref<16xf32>
// CHECK: call @uoe_norm_grad(%[[ZERO]], %[[OUTER]], %[[IN]], %[[W]], {{.+}})
// CHECK: call @uoe_norm_grad(%[[ONE]], %[[OUTER]], %[[IN]], %[[W]], {{.+}}, %[[ZERO]])
// CHECK-NOT: uoe.layer_norm_grad {{.+}} : tensor<2x8x16xf32>
// CHECK-NOT: uoe.rms_norm_grad
// CHECK: uoe.layer_norm_grad {{.+}} : tensor<4x16xf64>
func.func @grads(%x: tensor<2x8x16xf32>, %g: tensor<16xf32>, %dy: tensor<2x8x16xf32>, %z: tensor<4x16xf64>, %gz: tensor<16xf64>) -> (tensor<2x8x16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<2x8x16xf32>, tensor<16xf32>, tensor<4x16xf64>) {
  %dx, %dg, %db = uoe.layer_norm_grad %x, %g, %dy eps 1.0e-5 : tensor<2x8x16xf32>, tensor<16xf32>
  %rx, %rg = uoe.rms_norm_grad %x, %g, %dy eps 1.0e-6 : tensor<2x8x16xf32>, tensor<16xf32>
  %zx, %zg, %zb = uoe.layer_norm_grad %z, %gz, %z eps 1.0e-5 : tensor<4x16xf64>, tensor<16xf64>
  return %dx, %dg, %db, %rx, %rg, %zx : tensor<2x8x16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<2x8x16xf32>, tensor<16xf32>, tensor<4x16xf64>
}
