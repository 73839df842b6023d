// RUN: uoe-opt %s -split-input-file --uoe-fuse-selection | FileCheck %s
// RUN: uoe-opt %s -split-input-file --uoe-fuse-selection --convert-uoe-to-linalg | FileCheck %s --check-prefix=UNFUSED

// Tests that an expert MLP becomes a gathering GEMM (bias and GELU in its
// epilogue: the kernel computes the compiled GELU operation for operation)
// and a combining GEMM, with no dispatch or combine left.
// CHECK-LABEL: func.func @expert_mlp
// CHECK-SAME: (%[[X:.+]]: tensor<4x16x32xf32>, %[[POS:.+]]: tensor<3x4x8xi64>, %[[W1:.+]]: tensor<3x32x16xf32>, %[[B1:.+]]: tensor<3x16xf32>, %[[W2:.+]]: tensor<3x16x32xf32>, %[[B2:.+]]: tensor<3x32xf32>)
// CHECK-NOT: uoe.dispatch
// CHECK: %[[H:.+]] = uoe.expert_gemm %[[X]], %[[W1]] bias %[[B1]] gather %[[POS]] activation gelu patch 1 : {{.*}} -> tensor<3x4x8x16xf32>
// CHECK-NEXT: %[[Y:.+]] = uoe.expert_gemm %[[H]], %[[W2]] bias %[[B2]] combine %[[POS]] patch 1 : {{.*}} -> tensor<4x16x32xf32>
// CHECK-NEXT: return %[[Y]]
// Without a fused kernel, the generic lowering gives back the unfused ops'
// linalg: one gather, two GEMMs, the ordered combine.
// UNFUSED-LABEL: func.func @expert_mlp
// UNFUSED-NOT: uoe.
// UNFUSED-COUNT-2: linalg.batch_matmul
func.func @expert_mlp(%x: tensor<4x16x32xf32>, %pos: tensor<3x4x8xi64>, %w1: tensor<3x32x16xf32>, %b1: tensor<3x16xf32>, %w2: tensor<3x16x32xf32>, %b2: tensor<3x32xf32>) -> tensor<4x16x32xf32> {
  %xs = uoe.dispatch %x, %pos patch 1 : tensor<4x16x32xf32>, tensor<3x4x8xi64> -> tensor<3x4x8x32xf32>
  %h = uoe.expert_matmul %xs, %w1 bias %b1 activation gelu : tensor<3x4x8x32xf32>, tensor<3x32x16xf32>, tensor<3x16xf32> -> tensor<3x4x8x16xf32>
  %ys = uoe.expert_matmul %h, %w2 bias %b2 : tensor<3x4x8x16xf32>, tensor<3x16x32xf32>, tensor<3x32xf32> -> tensor<3x4x8x32xf32>
  %y = uoe.combine %ys, %pos union patch 1 : tensor<3x4x8x32xf32>, tensor<3x4x8xi64> -> tensor<4x16x32xf32>
  return %y : tensor<4x16x32xf32>
}

// -----

// Tests that ReLU, which the kernel computes as compiled code does, stays in
// the fused GEMM, and that SwiGLU (and likewise SiLU and the tanh GELU,
// whose polynomials the kernel does not share) follows it on the doubled
// width.
// CHECK-LABEL: func.func @activations
// CHECK: uoe.expert_gemm {{.*}} activation relu patch 1 : {{.*}} -> tensor<3x4x8x16xf32>
// CHECK: %[[Z:.+]] = uoe.expert_gemm {{.*}} patch 1 : {{.*}} -> tensor<3x4x8x32xf32>
// CHECK-NEXT: uoe.activation %[[Z]] swiglu : tensor<3x4x8x32xf32> -> tensor<3x4x8x16xf32>
func.func @activations(%x: tensor<4x16x32xf32>, %pos: tensor<3x4x8xi64>, %w1: tensor<3x32x16xf32>, %w2: tensor<3x32x32xf32>) -> (tensor<3x4x8x16xf32>, tensor<3x4x8x16xf32>) {
  %xs = uoe.dispatch %x, %pos patch 1 : tensor<4x16x32xf32>, tensor<3x4x8xi64> -> tensor<3x4x8x32xf32>
  %r = uoe.expert_matmul %xs, %w1 activation relu : tensor<3x4x8x32xf32>, tensor<3x32x16xf32> -> tensor<3x4x8x16xf32>
  %s = uoe.expert_matmul %xs, %w2 activation swiglu : tensor<3x4x8x32xf32>, tensor<3x32x32xf32> -> tensor<3x4x8x16xf32>
  return %r, %s : tensor<3x4x8x16xf32>, tensor<3x4x8x16xf32>
}

// -----

// Tests that one GEMM between a dispatch and a gated combine of one patch
// size does both, keeping the weights.
// CHECK-LABEL: func.func @single_gemm
// CHECK-SAME: (%[[X:.+]]: tensor<2x16x8xf32>, %[[POS:.+]]: tensor<3x2x?xi64>, %[[WT:.+]]: tensor<3x2x?xf32>, %[[W:.+]]: tensor<3x8x8xf32>)
// CHECK: %[[Y:.+]] = uoe.expert_gemm %[[X]], %[[W]] gather %[[POS]] combine %[[POS]] weights %[[WT]] patch 2 : {{.*}} -> tensor<2x16x8xf32>
// CHECK-NEXT: return %[[Y]]
func.func @single_gemm(%x: tensor<2x16x8xf32>, %pos: tensor<3x2x?xi64>, %wt: tensor<3x2x?xf32>, %w: tensor<3x8x8xf32>) -> tensor<2x16x8xf32> {
  %xs = uoe.dispatch %x, %pos patch 2 : tensor<2x16x8xf32>, tensor<3x2x?xi64> -> tensor<3x2x?x8xf32>
  %ys = uoe.expert_matmul %xs, %w : tensor<3x2x?x8xf32>, tensor<3x8x8xf32> -> tensor<3x2x?x8xf32>
  %y = uoe.combine %ys, %pos weights %wt gated patch 2 : tensor<3x2x?x8xf32>, tensor<3x2x?xi64>, tensor<3x2x?xf32> -> tensor<2x16x8xf32>
  return %y : tensor<2x16x8xf32>
}

// -----

// Tests that a dispatch and an expert output that other ops also use (as
// the backward pass does) stay, and only their GEMMs' uses fuse.
// CHECK-LABEL: func.func @shared
// CHECK: %[[XS:.+]] = uoe.dispatch
// CHECK: %[[H:.+]] = uoe.expert_gemm %{{.+}}, %{{.+}} gather %{{.+}} patch 1
// CHECK: uoe.combine %[[H]]
// CHECK: return %[[XS]], %[[H]]
func.func @shared(%x: tensor<4x16x32xf32>, %pos: tensor<3x4x8xi64>, %w: tensor<3x32x32xf32>) -> (tensor<3x4x8x32xf32>, tensor<3x4x8x32xf32>, tensor<4x16x32xf32>) {
  %xs = uoe.dispatch %x, %pos patch 1 : tensor<4x16x32xf32>, tensor<3x4x8xi64> -> tensor<3x4x8x32xf32>
  %h = uoe.expert_matmul %xs, %w : tensor<3x4x8x32xf32>, tensor<3x32x32xf32> -> tensor<3x4x8x32xf32>
  %y = uoe.combine %h, %pos union patch 1 : tensor<3x4x8x32xf32>, tensor<3x4x8xi64> -> tensor<4x16x32xf32>
  return %xs, %h, %y : tensor<3x4x8x32xf32>, tensor<3x4x8x32xf32>, tensor<4x16x32xf32>
}

// -----

// Tests that a combine of a sum of GEMMs (a backward pass's data gradient of
// one dispatch read by several GEMMs) becomes the sum of fused combining
// GEMMs, and that a sum with another addend is left alone.
// CHECK-LABEL: func.func @combine_of_sum
// CHECK-NOT: uoe.combine
// CHECK: %[[A:.+]] = uoe.expert_gemm %{{.+}}, %{{.+}} combine %[[POS:[^ ]+]] patch 1
// CHECK: %[[B:.+]] = uoe.expert_gemm %{{.+}}, %{{.+}} combine %[[POS]] patch 1
// CHECK: %[[C:.+]] = uoe.expert_gemm %{{.+}}, %{{.+}} combine %[[POS]] patch 1
// CHECK-DAG: arith.addf
// CHECK-DAG: arith.addf
// CHECK-NOT: uoe.combine
// CHECK-LABEL: func.func @combine_of_other_sum
// CHECK: uoe.combine
func.func @combine_of_sum(%a: tensor<2x3x4x8xf32>, %b: tensor<2x3x4x8xf32>, %c: tensor<2x3x4x8xf32>, %w: tensor<2x8x16xf32>, %pos: tensor<2x3x4xi64>) -> tensor<3x10x16xf32> {
  %ya = uoe.expert_matmul %a, %w : tensor<2x3x4x8xf32>, tensor<2x8x16xf32> -> tensor<2x3x4x16xf32>
  %yb = uoe.expert_matmul %b, %w : tensor<2x3x4x8xf32>, tensor<2x8x16xf32> -> tensor<2x3x4x16xf32>
  %yc = uoe.expert_matmul %c, %w : tensor<2x3x4x8xf32>, tensor<2x8x16xf32> -> tensor<2x3x4x16xf32>
  %s = arith.addf %ya, %yb : tensor<2x3x4x16xf32>
  %t = arith.addf %s, %yc : tensor<2x3x4x16xf32>
  %y = uoe.combine %t, %pos union patch 1 : tensor<2x3x4x16xf32>, tensor<2x3x4xi64> -> tensor<3x10x16xf32>
  return %y : tensor<3x10x16xf32>
}
func.func @combine_of_other_sum(%a: tensor<2x3x4x8xf32>, %d: tensor<2x3x4x16xf32>, %w: tensor<2x8x16xf32>, %pos: tensor<2x3x4xi64>) -> tensor<3x10x16xf32> {
  %ya = uoe.expert_matmul %a, %w : tensor<2x3x4x8xf32>, tensor<2x8x16xf32> -> tensor<2x3x4x16xf32>
  %s = arith.addf %ya, %d : tensor<2x3x4x16xf32>
  %y = uoe.combine %s, %pos union patch 1 : tensor<2x3x4x16xf32>, tensor<2x3x4xi64> -> tensor<3x10x16xf32>
  return %y : tensor<3x10x16xf32>
}
