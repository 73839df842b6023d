// RUN: uoe-opt %s -split-input-file --uoe-linalg-to-blas | FileCheck %s
// RUN: uoe-opt %s -split-input-file --uoe-linalg-to-blas=precision=bf16 | FileCheck %s --check-prefix=BF16
// RUN: not uoe-opt %s -split-input-file --uoe-linalg-to-blas=precision=fp8 2>&1 | FileCheck %s --check-prefix=BAD

// BAD: uoe-linalg-to-blas: unknown precision 'fp8' (f32 or bf16)

// Tests that an f32 batch matmul on buffers becomes one call with the sizes,
// leading dimensions and batch strides of its operands, accumulating (beta 1).
// CHECK-LABEL: func.func private @uoe_sgemm_batched(i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, f32)
// CHECK-LABEL: func.func @f32
// CHECK-NOT: linalg.batch_matmul
// CHECK-DAG: %[[BETA:.+]] = arith.constant 1.000000e+00 : f32
// CHECK: call @uoe_sgemm_batched({{.*}}, %[[BETA]]) : (i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, f32) -> ()
// With precision=bf16, the same call of the bf16 GEMM (products of bf16,
// sums in f32).
// BF16-LABEL: func.func private @uoe_gemm_batched_bf16(i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, f32)
// BF16-LABEL: func.func @f32
// BF16-NOT: uoe_sgemm_batched
// BF16: call @uoe_gemm_batched_bf16(
func.func @f32(%a: memref<4x64x32xf32>, %b: memref<4x32x16xf32>, %c: memref<4x64x16xf32>) {
  linalg.batch_matmul ins(%a, %b : memref<4x64x32xf32>, memref<4x32x16xf32>) outs(%c : memref<4x64x16xf32>)
  return
}

// -----

// Tests that f64 matmuls and matmuls on tensors are left alone.
// CHECK-LABEL: func.func @not_applied
// CHECK-NOT: uoe_sgemm_batched
// CHECK: linalg.batch_matmul {{.*}} memref<2x3x4xf64>
// CHECK: linalg.batch_matmul {{.*}} tensor<2x3x4xf32>
func.func @not_applied(%a: memref<2x3x4xf64>, %b: memref<2x4x5xf64>, %c: memref<2x3x5xf64>, %ta: tensor<2x3x4xf32>, %tb: tensor<2x4x5xf32>, %tc: tensor<2x3x5xf32>) -> tensor<2x3x5xf32> {
  linalg.batch_matmul ins(%a, %b : memref<2x3x4xf64>, memref<2x4x5xf64>) outs(%c : memref<2x3x5xf64>)
  %r = linalg.batch_matmul ins(%ta, %tb : tensor<2x3x4xf32>, tensor<2x4x5xf32>) outs(%tc : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  return %r : tensor<2x3x5xf32>
}

// -----

// Tests that a zero fill of the output right before the matmul (with only
// allocations, views or pure ops in between) folds into the call: beta 0.
// CHECK-LABEL: func.func @zero_filled
// CHECK-NOT: linalg.fill
// CHECK-DAG: %[[BETA:.+]] = arith.constant 0.000000e+00 : f32
// CHECK: call @uoe_sgemm_batched({{.*}}, %[[BETA]])
func.func @zero_filled(%a: memref<4x64x32xf32>, %b: memref<4x32x16xf32>) -> memref<4x64x16xf32> {
  %zero = arith.constant 0.0 : f32
  %c = memref.alloc() : memref<4x64x16xf32>
  linalg.fill ins(%zero : f32) outs(%c : memref<4x64x16xf32>)
  %other = memref.alloc() : memref<8xf32>
  linalg.batch_matmul ins(%a, %b : memref<4x64x32xf32>, memref<4x32x16xf32>) outs(%c : memref<4x64x16xf32>)
  return %c : memref<4x64x16xf32>
}

// -----

// Tests that a zero fill whose output is read before the matmul, and a
// fill with another value, stay: beta 1.
// CHECK-LABEL: func.func @not_folded
// CHECK-DAG: %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// CHECK-DAG: %[[ONE:.+]] = arith.constant 1.000000e+00 : f32
// CHECK: linalg.fill ins(%[[ZERO]] : f32)
// CHECK: memref.copy
// CHECK: call @uoe_sgemm_batched({{.*}}, %[[ONE]])
// CHECK: linalg.fill ins(%[[ONE]] : f32)
// CHECK: call @uoe_sgemm_batched({{.*}}, %[[ONE]])
func.func @not_folded(%a: memref<4x64x32xf32>, %b: memref<4x32x16xf32>, %c: memref<4x64x16xf32>, %d: memref<4x64x16xf32>) {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  linalg.fill ins(%zero : f32) outs(%c : memref<4x64x16xf32>)
  memref.copy %c, %d : memref<4x64x16xf32> to memref<4x64x16xf32>
  linalg.batch_matmul ins(%a, %b : memref<4x64x32xf32>, memref<4x32x16xf32>) outs(%c : memref<4x64x16xf32>)
  linalg.fill ins(%one : f32) outs(%d : memref<4x64x16xf32>)
  linalg.batch_matmul ins(%a, %b : memref<4x64x32xf32>, memref<4x32x16xf32>) outs(%d : memref<4x64x16xf32>)
  return
}

// -----

// Tests that transposes materialised for one GEMM alone (the backward's
// X^T dY and dY W^T) are read in place as transposed operands: the call
// passes the sources with trans flags 1, m = 16 and k = 64 from the
// transposed A's source [4, 64, 16], n = 8 from B's source [4, 8, 64]; the
// transposes and their buffers go.
// CHECK-LABEL: func.func @transposed
// CHECK-SAME: (%[[X:.+]]: memref<4x64x16xf32>, %[[W:.+]]: memref<4x8x64xf32>, %[[C:.+]]: memref<4x16x8xf32>)
// CHECK-DAG: %[[YES:.+]] = arith.constant 1 : i64
// CHECK-DAG: %[[M:.+]] = arith.constant 16 : i64
// CHECK-DAG: %[[N:.+]] = arith.constant 8 : i64
// CHECK-DAG: %[[K:.+]] = arith.constant 64 : i64
// CHECK-NOT: linalg.transpose
// CHECK-NOT: memref.alloc
// CHECK: call @uoe_sgemm_batched(%{{.+}}, %[[M]], %[[N]], %[[K]], %{{.+}}, %{{.+}}, %{{.+}}, %[[YES]], %{{.+}}, %{{.+}}, %{{.+}}, %[[YES]],
// CHECK-NOT: memref.dealloc
func.func @transposed(%x: memref<4x64x16xf32>, %w: memref<4x8x64xf32>, %c: memref<4x16x8xf32>) {
  %xt = memref.alloc() : memref<4x16x64xf32>
  linalg.transpose ins(%x : memref<4x64x16xf32>) outs(%xt : memref<4x16x64xf32>) permutation = [0, 2, 1]
  %wt = memref.alloc() : memref<4x64x8xf32>
  linalg.transpose ins(%w : memref<4x8x64xf32>) outs(%wt : memref<4x64x8xf32>) permutation = [0, 2, 1]
  linalg.batch_matmul ins(%xt, %wt : memref<4x16x64xf32>, memref<4x64x8xf32>) outs(%c : memref<4x16x8xf32>)
  memref.dealloc %xt : memref<4x16x64xf32>
  memref.dealloc %wt : memref<4x64x8xf32>
  return
}

// -----

// Tests that a transpose stays when its source may change before the GEMM
// (here a fill of the source) or when its buffer has another reader.
// CHECK-LABEL: func.func @kept
// CHECK: linalg.transpose
// CHECK: call @uoe_sgemm_batched(
// CHECK: linalg.transpose
// CHECK: call @uoe_sgemm_batched(
func.func @kept(%x: memref<4x64x16xf32>, %w: memref<4x64x8xf32>, %c: memref<4x16x8xf32>) -> memref<4x16x64xf32> {
  %cst = arith.constant 1.0 : f32
  %xt = memref.alloc() : memref<4x16x64xf32>
  linalg.transpose ins(%x : memref<4x64x16xf32>) outs(%xt : memref<4x16x64xf32>) permutation = [0, 2, 1]
  linalg.fill ins(%cst : f32) outs(%x : memref<4x64x16xf32>)
  linalg.batch_matmul ins(%xt, %w : memref<4x16x64xf32>, memref<4x64x8xf32>) outs(%c : memref<4x16x8xf32>)
  %yt = memref.alloc() : memref<4x16x64xf32>
  linalg.transpose ins(%x : memref<4x64x16xf32>) outs(%yt : memref<4x16x64xf32>) permutation = [0, 2, 1]
  linalg.batch_matmul ins(%yt, %w : memref<4x16x64xf32>, memref<4x64x8xf32>) outs(%c : memref<4x16x8xf32>)
  return %yt : memref<4x16x64xf32>
}
