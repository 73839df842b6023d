// RUN: uoe-opt %s -split-input-file --uoe-expert-gemm-to-calls | FileCheck %s
// RUN: uoe-opt %s -split-input-file --uoe-expert-gemm-to-calls=precision=bf16 | FileCheck %s --check-prefix=BF16
// RUN: not uoe-opt %s -split-input-file --uoe-expert-gemm-to-calls=precision=fp8 2>&1 | FileCheck %s --check-prefix=BAD

// BAD: uoe-expert-gemm-to-calls: unknown precision 'fp8' (f32 or bf16)

// Tests that a gathering f32 GEMM becomes one call of the runtime's fused
// kernel: flags 1 (gather), activation 1 (gelu), E 3, R 4, L 8, P 1, N 16,
// K 32, Nw 16, the operands read in place and a fresh result buffer.
// CHECK-LABEL: func.func private @uoe_expert_gemm(i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64)
// CHECK-LABEL: func.func @gather
// CHECK-DAG: bufferization.to_buffer %{{.+}} read_only : tensor<4x16x32xf32> to memref<4x16x32xf32, strided<[?, ?, 1], offset: ?>>
// CHECK-DAG: bufferization.to_buffer %{{.+}} read_only : tensor<3x4x8xi64> to memref<3x4x8xi64, strided<[?, ?, 1], offset: ?>>
// CHECK-DAG: %[[C1:.+]] = arith.constant 1 : i64
// CHECK-DAG: %[[C3:.+]] = arith.constant 3 : i64
// CHECK-DAG: %[[C4:.+]] = arith.constant 4 : i64
// CHECK-DAG: %[[C8:.+]] = arith.constant 8 : i64
// CHECK: %[[OUT:.+]] = memref.alloc() {alignment = 64 : i64} : memref<3x4x8x16xf32>
// CHECK: call @uoe_expert_gemm(%[[C1]], %[[C1]], %[[C3]], %[[C4]], %[[C8]], %[[C1]], {{.*}})
// CHECK: %[[T:.+]] = bufferization.to_tensor %[[OUT]] restrict writable
// CHECK-NOT: uoe.expert_gemm
// CHECK: return %[[T]]
// BF16-LABEL: func.func @gather
// BF16: %[[C5:.+]] = arith.constant 5 : i64
// BF16: call @uoe_expert_gemm(%[[C5]],
func.func @gather(%x: tensor<4x16x32xf32>, %w: tensor<3x32x16xf32>, %b: tensor<3x16xf32>, %pos: tensor<3x4x8xi64>) -> tensor<3x4x8x16xf32> {
  %h = uoe.expert_gemm %x, %w bias %b gather %pos activation gelu patch 1 : (tensor<4x16x32xf32>, tensor<3x32x16xf32>, tensor<3x16xf32>, tensor<3x4x8xi64>) -> tensor<3x4x8x16xf32>
  return %h : tensor<3x4x8x16xf32>
}

// -----

// Tests that a combining GEMM with a dynamic slot count passes flags 2
// (combine), the weights, and the tokens N of the result.
// CHECK-LABEL: func.func @combine
// CHECK-DAG: %[[C2:.+]] = arith.constant 2 : i64
// CHECK-DAG: %[[C0:.+]] = arith.constant 0 : i64
// CHECK-DAG: %[[C16:.+]] = arith.constant 16 : i64
// CHECK-DAG: bufferization.to_buffer %{{.+}} read_only : tensor<3x4x?xf32> to memref<3x4x?xf32, strided<[?, ?, 1], offset: ?>>
// CHECK: %[[OUT:.+]] = memref.alloc() {alignment = 64 : i64} : memref<4x16x32xf32>
// CHECK: call @uoe_expert_gemm(%[[C2]], %[[C0]], {{.*}}, %[[C16]],
// CHECK: bufferization.to_tensor %[[OUT]] restrict writable
func.func @combine(%h: tensor<3x4x?x16xf32>, %w: tensor<3x16x32xf32>, %pos: tensor<3x4x?xi64>, %wt: tensor<3x4x?xf32>) -> tensor<4x16x32xf32> {
  %y = uoe.expert_gemm %h, %w combine %pos weights %wt patch 1 : (tensor<3x4x?x16xf32>, tensor<3x16x32xf32>, tensor<3x4x?xi64>, tensor<3x4x?xf32>) -> tensor<4x16x32xf32>
  return %y : tensor<4x16x32xf32>
}

// -----

// Tests that a dynamic slot count sizes the gathered result's buffer as
// L * P.
// CHECK-LABEL: func.func @dynamic
// CHECK: %[[L:.+]] = arith.muli %{{.+}}, %{{.+}} : i64
// CHECK: %[[M:.+]] = arith.index_cast %[[L]] : i64 to index
// CHECK: memref.alloc(%[[M]]) {alignment = 64 : i64} : memref<3x2x?x8xf32>
func.func @dynamic(%x: tensor<2x16x8xf32>, %w: tensor<3x8x8xf32>, %pos: tensor<3x2x?xi64>, %n: index) -> tensor<3x2x?x8xf32> {
  %h = uoe.expert_gemm %x, %w gather %pos patch 2 : (tensor<2x16x8xf32>, tensor<3x8x8xf32>, tensor<3x2x?xi64>) -> tensor<3x2x?x8xf32>
  return %h : tensor<3x2x?x8xf32>
}

// -----

// Tests that f64 GEMMs are left for the generic lowering.
// CHECK-LABEL: func.func @f64
// CHECK-NOT: call @uoe_expert_gemm
// CHECK: uoe.expert_gemm
func.func @f64(%x: tensor<4x16x32xf64>, %w: tensor<3x32x16xf64>, %pos: tensor<3x4x8xi64>) -> tensor<3x4x8x16xf64> {
  %h = uoe.expert_gemm %x, %w gather %pos patch 1 : (tensor<4x16x32xf64>, tensor<3x32x16xf64>, tensor<3x4x8xi64>) -> tensor<3x4x8x16xf64>
  return %h : tensor<3x4x8x16xf64>
}

// -----

// Tests that a plain expert_matmul (a dense layer as one expert, no
// selection around it) is the same kernel without gather and combine:
// flags 0, gelu (1) in the epilogue, E 1, R 1, M 64 as both slots and
// tokens, patch 1, no positions.
// CHECK-LABEL: func.func @dense
// CHECK-DAG: %[[C0:.+]] = arith.constant 0 : i64
// CHECK-DAG: %[[C1:.+]] = arith.constant 1 : i64
// CHECK-DAG: %[[C64:.+]] = arith.constant 64 : i64
// CHECK: %[[OUT:.+]] = memref.alloc() {alignment = 64 : i64} : memref<1x64x48xf32>
// CHECK: call @uoe_expert_gemm(%[[C0]], %[[C1]], %[[C1]], %[[C1]], %[[C64]], %[[C1]], %[[C64]], {{.*}})
// CHECK-NOT: uoe.expert_matmul
// CHECK-NOT: uoe.activation
func.func @dense(%x: tensor<1x64x32xf32>, %w: tensor<1x32x48xf32>, %b: tensor<1x48xf32>) -> tensor<1x64x48xf32> {
  %h = uoe.expert_matmul %x, %w bias %b activation gelu : tensor<1x64x32xf32>, tensor<1x32x48xf32>, tensor<1x48xf32> -> tensor<1x64x48xf32>
  return %h : tensor<1x64x48xf32>
}

// -----

// Tests that an activation the kernel does not compute exactly (swiglu)
// stays a uoe.activation on the kernel's pre-activation result (twice as
// wide), and that a dynamic M sizes the buffer.
// CHECK-LABEL: func.func @swiglu
// CHECK: %[[M:.+]] = arith.index_cast %{{.+}} : i64 to index
// CHECK: %[[OUT:.+]] = memref.alloc(%[[M]]) {alignment = 64 : i64} : memref<2x3x?x32xf32>
// CHECK: call @uoe_expert_gemm(%[[Z:[^,]+]], %[[Z]], %{{.+}})
// CHECK: %[[T:.+]] = bufferization.to_tensor %[[OUT]] restrict writable
// CHECK: uoe.activation %[[T]] swiglu
func.func @swiglu(%x: tensor<2x3x?x8xf32>, %w: tensor<2x8x32xf32>) -> tensor<2x3x?x16xf32> {
  %h = uoe.expert_matmul %x, %w activation swiglu : tensor<2x3x?x8xf32>, tensor<2x8x32xf32> -> tensor<2x3x?x16xf32>
  return %h : tensor<2x3x?x16xf32>
}

// -----

// Tests that an expert_matmul with more than one batch dimension, or of
// f64, is left for the generic lowering.
// CHECK-LABEL: func.func @left
// CHECK-NOT: call @uoe_expert_gemm
// CHECK: uoe.expert_matmul
// CHECK: uoe.expert_matmul
func.func @left(%x: tensor<2x3x4x8x8xf32>, %w: tensor<2x8x8xf32>, %y: tensor<2x8x8xf64>, %v: tensor<2x8x8xf64>) -> (tensor<2x3x4x8x8xf32>, tensor<2x8x8xf64>) {
  %h = uoe.expert_matmul %x, %w : tensor<2x3x4x8x8xf32>, tensor<2x8x8xf32> -> tensor<2x3x4x8x8xf32>
  %g = uoe.expert_matmul %y, %v : tensor<2x8x8xf64>, tensor<2x8x8xf64> -> tensor<2x8x8xf64>
  return %h, %g : tensor<2x3x4x8x8xf32>, tensor<2x8x8xf64>
}

// -----

// Tests that weights transposed by linalg.transpose [0, 2, 1] (a backward
// pass's dy W^T) are read in place by the kernel, transposed (flag 8; with
// combine, 10): no copy of the transpose is left, and K and N are those of
// the stored [E, N, K] weights' view (K 16, N 24).
// CHECK-LABEL: func.func @transposed
// CHECK-NOT: linalg.transpose
// CHECK-DAG: %[[C10:.+]] = arith.constant 10 : i64
// CHECK-DAG: %[[C16:.+]] = arith.constant 16 : i64
// CHECK-DAG: %[[C24:.+]] = arith.constant 24 : i64
// CHECK-DAG: %[[C8:.+]] = arith.constant 8 : i64
// CHECK: bufferization.to_buffer %{{.+}} read_only : tensor<3x24x16xf32>
// CHECK: call @uoe_expert_gemm(%[[C10]], {{.*}}, %[[C16]], %[[C24]],
// CHECK: call @uoe_expert_gemm(%[[C8]], {{.*}}, %[[C16]], %[[C24]],
// CHECK-NOT: linalg.transpose
func.func @transposed(%dy: tensor<3x4x8x16xf32>, %w: tensor<3x24x16xf32>, %pos: tensor<3x4x8xi64>) -> (tensor<4x16x24xf32>, tensor<3x4x8x24xf32>) {
  %e = tensor.empty() : tensor<3x16x24xf32>
  %wt = linalg.transpose ins(%w : tensor<3x24x16xf32>) outs(%e : tensor<3x16x24xf32>) permutation = [0, 2, 1]
  %dx = uoe.expert_gemm %dy, %wt combine %pos patch 1 : (tensor<3x4x8x16xf32>, tensor<3x16x24xf32>, tensor<3x4x8xi64>) -> tensor<4x16x24xf32>
  %dh = uoe.expert_matmul %dy, %wt : tensor<3x4x8x16xf32>, tensor<3x16x24xf32> -> tensor<3x4x8x24xf32>
  return %dx, %dh : tensor<4x16x24xf32>, tensor<3x4x8x24xf32>
}
