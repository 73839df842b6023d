// RUN: uoe-opt %s -split-input-file --convert-uoe-to-linalg --verify-diagnostics | FileCheck %s

// Tests that the attention backward with a dynamic L recomputes the scores
// and runs its four products as batch matmuls over E*B*heads = 12 (S = q k^T,
// dP = dO v^T, dV = P^T dO, dQ = dS k, dK = dS^T q), with L kept as `?`.
// CHECK-LABEL: func.func @selective_attention_grad_dynamic
// CHECK: linalg.batch_matmul ins(%{{.+}}, %{{.+}} : tensor<12x?x4xf32>, tensor<12x4x?xf32>) outs(%{{.+}} : tensor<12x?x?xf32>)
// CHECK: linalg.batch_matmul ins(%{{.+}}, %{{.+}} : tensor<12x?x4xf32>, tensor<12x4x?xf32>) outs(%{{.+}} : tensor<12x?x?xf32>)
// CHECK: [[PT:%.+]] = linalg.transpose ins(%{{.+}} : tensor<12x?x?xf32>) outs(%{{.+}} : tensor<12x?x?xf32>) permutation = [0, 2, 1]
// CHECK: linalg.batch_matmul ins([[PT]], %{{.+}} : tensor<12x?x?xf32>, tensor<12x?x4xf32>) outs(%{{.+}} : tensor<12x?x4xf32>)
// CHECK: linalg.batch_matmul ins(%{{.+}}, %{{.+}} : tensor<12x?x?xf32>, tensor<12x?x4xf32>) outs(%{{.+}} : tensor<12x?x4xf32>)
// CHECK: [[DST:%.+]] = linalg.transpose ins(%{{.+}} : tensor<12x?x?xf32>) outs(%{{.+}} : tensor<12x?x?xf32>) permutation = [0, 2, 1]
// CHECK: linalg.batch_matmul ins([[DST]], %{{.+}} : tensor<12x?x?xf32>, tensor<12x?x4xf32>) outs(%{{.+}} : tensor<12x?x4xf32>)
// CHECK-NOT: linalg.batch_matmul
// CHECK-NOT: uoe.
// CHECK: return %{{.+}}, %{{.+}}, %{{.+}} : tensor<2x3x?x8xf32>, tensor<2x3x?x8xf32>, tensor<2x3x?x8xf32>
func.func @selective_attention_grad_dynamic(%q: tensor<2x3x?x8xf32>, %k: tensor<2x3x?x8xf32>, %v: tensor<2x3x?x8xf32>,
    %pos: tensor<2x3x?xi64>, %do: tensor<2x3x?x8xf32>) -> (tensor<2x3x?x8xf32>, tensor<2x3x?x8xf32>, tensor<2x3x?x8xf32>) {
  %dq, %dk, %dv = uoe.selective_attention_grad %q, %k, %v, %pos, %do heads 2 causal rope compacted
      : tensor<2x3x?x8xf32>, tensor<2x3x?xi64>
  return %dq, %dk, %dv : tensor<2x3x?x8xf32>, tensor<2x3x?x8xf32>, tensor<2x3x?x8xf32>
}

// -----

// Tests that f64 attention gradients (gradient checks) lower the same way,
// the rotary table staying in f64 (no truncation to f64).
// CHECK-LABEL: func.func @selective_attention_grad_f64
// CHECK-NOT: arith.truncf
// CHECK-COUNT-5: linalg.batch_matmul
// CHECK-NOT: uoe.
func.func @selective_attention_grad_f64(%q: tensor<1x2x5x4xf64>, %pos: tensor<1x2x5xi64>, %kp: tensor<2x9xi1>)
    -> (tensor<1x2x5x4xf64>, tensor<1x2x5x4xf64>, tensor<1x2x5x4xf64>) {
  %dq, %dk, %dv = uoe.selective_attention_grad %q, %q, %q, %pos key_padding %kp, %q heads 1 causal rope original
      : tensor<1x2x5x4xf64>, tensor<1x2x5xi64>, tensor<2x9xi1>
  return %dq, %dk, %dv : tensor<1x2x5x4xf64>, tensor<1x2x5x4xf64>, tensor<1x2x5x4xf64>
}

// -----

// Tests that the router backward computes dx = dlogits W and
// dW = dlogits^T x as single-batch matmuls over the 64 flattened rows.
// CHECK-LABEL: func.func @router_grad
// CHECK: [[DX:%.+]] = linalg.batch_matmul ins(%{{.+}}, %{{.+}} : tensor<1x64x3xf32>, tensor<1x3x32xf32>) outs(%{{.+}} : tensor<1x64x32xf32>)
// CHECK: [[DLT:%.+]] = linalg.transpose ins(%{{.+}} : tensor<1x64x3xf32>) outs(%{{.+}} : tensor<1x3x64xf32>) permutation = [0, 2, 1]
// CHECK: [[DW:%.+]] = linalg.batch_matmul ins([[DLT]], %{{.+}} : tensor<1x3x64xf32>, tensor<1x64x32xf32>) outs(%{{.+}} : tensor<1x3x32xf32>)
// CHECK-NOT: uoe.
// CHECK: return %{{.+}}, %{{.+}}, %{{.+}} : tensor<4x16x32xf32>, tensor<3x32xf32>, tensor<3xf32>
func.func @router_grad(%x: tensor<4x16x32xf32>, %w: tensor<3x32xf32>, %p: tensor<4x16x3xf32>, %dp: tensor<4x16x3xf32>)
    -> (tensor<4x16x32xf32>, tensor<3x32xf32>, tensor<3xf32>) {
  %dx, %dw, %db = uoe.router_grad %x, %w, %p, %dp score softmax : tensor<4x16x32xf32>, tensor<3x32xf32>, tensor<4x16x3xf32> -> tensor<3xf32>
  return %dx, %dw, %db : tensor<4x16x32xf32>, tensor<3x32xf32>, tensor<3xf32>
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

// -----

// Tests that `none` is the identity and that swiglu's forward and backward
// are one generic each, with a dynamic leading dimension.
// CHECK-LABEL: func.func @activations
// CHECK-SAME: ([[Z:%.+]]: tensor<4x?x16xf64>, [[DH:%.+]]: tensor<4x?x8xf64>)
// CHECK-COUNT-2: linalg.generic
// CHECK-NOT: linalg.generic
// CHECK-NOT: uoe.
// CHECK: return %{{.+}}, %{{.+}}, [[Z]], [[DH]] : tensor<4x?x8xf64>, tensor<4x?x16xf64>, tensor<4x?x16xf64>, tensor<4x?x8xf64>
func.func @activations(%z: tensor<4x?x16xf64>, %dh: tensor<4x?x8xf64>)
    -> (tensor<4x?x8xf64>, tensor<4x?x16xf64>, tensor<4x?x16xf64>, tensor<4x?x8xf64>) {
  %h = uoe.activation %z swiglu : tensor<4x?x16xf64> -> tensor<4x?x8xf64>
  %dz = uoe.activation_grad %z, %dh swiglu : tensor<4x?x16xf64>, tensor<4x?x8xf64> -> tensor<4x?x16xf64>
  %n = uoe.activation %z none : tensor<4x?x16xf64> -> tensor<4x?x16xf64>
  %dn = uoe.activation_grad %dh, %dh none : tensor<4x?x8xf64>, tensor<4x?x8xf64> -> tensor<4x?x8xf64>
  return %h, %dz, %n, %dn : tensor<4x?x8xf64>, tensor<4x?x16xf64>, tensor<4x?x16xf64>, tensor<4x?x8xf64>
}

// -----

// Tests that the loss reduces into rank-0 accumulators (total and count) in
// a sequential reduction and takes the log of the sum of exponentials.
// CHECK-LABEL: func.func @cross_entropy
// CHECK: linalg.generic {{.+}} iterator_types = ["reduction", "reduction"]{{.+}} outs(%{{.+}}, %{{.+}} : tensor<f64>, tensor<f64>)
// CHECK: math.log
// CHECK: arith.divf
// CHECK-NOT: uoe.
func.func @cross_entropy(%logits: tensor<2x5x7xf64>, %t: tensor<2x5xi64>) -> tensor<f64> {
  %l = uoe.cross_entropy %logits, %t : tensor<2x5x7xf64>, tensor<2x5xi64> -> tensor<f64>
  return %l : tensor<f64>
}

// -----

// Tests that the remaining gradients (norms, token choice, data selection
// with a dynamic L, cross-entropy) lower to linalg with no uoe op left.
// CHECK-LABEL: func.func @others
// CHECK-NOT: uoe.
// CHECK: return
func.func @others(%x: tensor<2x16x32xf32>, %gamma: tensor<32xf32>, %dy: tensor<2x16x32xf32>,
    %p: tensor<4x16x3xf32>, %pos: tensor<3x4x?xi64>, %dw: tensor<3x4x?xf32>,
    %logits: tensor<2x5x7xf32>, %t: tensor<2x5xi64>, %dl: tensor<f32>)
    -> (tensor<2x16x32xf32>, tensor<32xf32>, tensor<32xf32>, tensor<2x16x32xf32>, tensor<32xf32>,
        tensor<4x16x3xf32>, tensor<4x16x3xf32>, tensor<2x5x7xf32>) {
  %dx, %dg, %db = uoe.layer_norm_grad %x, %gamma, %dy eps 1.0e-5 : tensor<2x16x32xf32>, tensor<32xf32>
  %dx2, %dg2 = uoe.rms_norm_grad %x, %gamma, %dy eps 1.0e-6 : tensor<2x16x32xf32>, tensor<32xf32>
  %dp = uoe.token_choice_grad %p, %p top 2 renormalize normalize axis 0 eps 1.0e-06 capacity 1.0 : tensor<4x16x3xf32>
  %ds = uoe.data_select_grad %pos, %dw patch 2 : tensor<3x4x?xi64>, tensor<3x4x?xf32> -> tensor<4x16x3xf32>
  %dlog = uoe.cross_entropy_grad %logits, %t, %dl : tensor<2x5x7xf32>, tensor<2x5xi64>, tensor<f32>
  return %dx, %dg, %db, %dx2, %dg2, %dp, %ds, %dlog
      : tensor<2x16x32xf32>, tensor<32xf32>, tensor<32xf32>, tensor<2x16x32xf32>, tensor<32xf32>,
        tensor<4x16x3xf32>, tensor<4x16x3xf32>, tensor<2x5x7xf32>
}
