// RUN: uoe-opt %s --uoe-cpu-pipeline | FileCheck %s

// Tests that the CPU pipeline takes a UoE block to the LLVM dialect with no
// uoe, linalg or tensor op left, its two expert GEMMs fused with their
// selection as calls of the runtime's fused kernel (the first gathers, the
// second combines), and its router's softmax as a vectorizable polynomial
// (no libm call).
// CHECK-LABEL: llvm.func @forward
// CHECK-NOT: uoe.
// CHECK-NOT: linalg.
// CHECK-NOT: llvm.call @erff
// CHECK-NOT: llvm.call @expf
// CHECK: llvm.intr.fma
// CHECK-COUNT-2: llvm.call @uoe_expert_gemm
// CHECK-NOT: llvm.call @uoe_sgemm_batched
// CHECK-LABEL: llvm.func @_mlir_ciface_forward
func.func @forward(%x: tensor<16x4x32xf32>, %wg: tensor<4x32xf32>, %bg: tensor<4xf32>, %w1: tensor<4x32x16xf32>, %b1: tensor<4x16xf32>, %w2: tensor<4x16x32xf32>, %b2: tensor<4x32xf32>) -> tensor<16x4x32xf32> attributes {llvm.emit_c_interface} {
  %y = uoe.uome %x, router(%wg, %bg), up(%w1, %b1), down(%w2, %b2) top 2 capacity 0.5 activation gelu union : tensor<16x4x32xf32>, tensor<4x32xf32>, tensor<4xf32>, tensor<4x32x16xf32>, tensor<4x16xf32>, tensor<4x16x32xf32>, tensor<4x32xf32>
  return %y : tensor<16x4x32xf32>
}
