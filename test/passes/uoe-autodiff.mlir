// RUN: uoe-opt %s -split-input-file -verify-diagnostics --uoe-autodiff | FileCheck %s

// Tests the signature of @forward_grad (inputs, one seed per result, then the
// parameters; the results, then a gradient per float argument) and that a
// norm's adjoint is its *_grad op, accumulated with the residual's.
// CHECK-LABEL: func.func @forward_grad
// CHECK-SAME: (%[[X:.+]]: tensor<4x8xf32> {uoe.input = "x"}, %[[DY:.+]]: tensor<4x8xf32> {uoe.input = "d_y"}, %[[G:.+]]: tensor<8xf32> {uoe.param = "g"})
// CHECK-SAME: -> (tensor<4x8xf32> {uoe.result = "y"}, tensor<4x8xf32> {uoe.result = "d_x"}, tensor<8xf32> {uoe.result = "d_g"})
// CHECK: %[[Y:.+]] = uoe.rms_norm %[[X]], %[[G]]
// CHECK: %[[Z:.+]] = arith.addf %[[X]], %[[Y]]
// CHECK: %[[DX:.+]], %[[DG:.+]] = uoe.rms_norm_grad %[[X]], %[[G]], %[[DY]]
// CHECK: %[[SUM:.+]] = arith.addf %[[DY]], %[[DX]]
// CHECK: return %[[Z]], %[[SUM]], %[[DG]]
func.func @forward(%x: tensor<4x8xf32> {uoe.input = "x"}, %g: tensor<8xf32> {uoe.param = "g"}) -> (tensor<4x8xf32> {uoe.result = "y"}) {
  %y = uoe.rms_norm %x, %g eps 1.0e-06 : tensor<4x8xf32>, tensor<8xf32>
  %z = arith.addf %x, %y : tensor<4x8xf32>
  return %z : tensor<4x8xf32>
}

// -----

// Tests the UoME backward in union mode: the activation is split out of the
// first GEMM, the combine's adjoint is a dispatch of the same positions, the
// dispatch's is a union combine, and the router gets zeros (no routing op
// is differentiated).
// CHECK-LABEL: func.func @forward_grad
// CHECK: %[[POS:.+]], %{{.+}} = uoe.data_select
// CHECK: %[[Z:.+]] = uoe.expert_matmul %{{.+}}, %{{.+}} bias %{{.+}} : {{.*}} -> tensor<4x4x8x16xf32>
// CHECK: %[[H:.+]] = uoe.activation %[[Z]] gelu
// CHECK: uoe.combine
// CHECK: uoe.dispatch %{{.+}}, %[[POS]] patch 1
// CHECK: linalg.batch_matmul
// CHECK: uoe.activation_grad %[[Z]], %{{.+}} gelu
// CHECK: uoe.combine %{{.+}}, %[[POS]] union patch 1
// CHECK-NOT: uoe.router_grad
// CHECK-NOT: uoe.token_choice_grad
// CHECK: return
func.func @forward(%x: tensor<4x16x32xf32>, %wg: tensor<4x32xf32> {uoe.param = "wg"}, %bg: tensor<4xf32> {uoe.param = "bg"}, %w1: tensor<4x32x16xf32> {uoe.param = "w1"}, %b1: tensor<4x16xf32> {uoe.param = "b1"}, %w2: tensor<4x16x32xf32> {uoe.param = "w2"}, %b2: tensor<4x32xf32> {uoe.param = "b2"}) -> tensor<4x16x32xf32> {
  %y = uoe.uome %x, router(%wg, %bg), up(%w1, %b1), down(%w2, %b2) top 2 capacity 5.000000e-01 activation gelu union : tensor<4x16x32xf32>, tensor<4x32xf32>, tensor<4xf32>, tensor<4x32x16xf32>, tensor<4x16xf32>, tensor<4x16x32xf32>, tensor<4x32xf32>
  return %y : tensor<4x16x32xf32>
}

// -----

// Tests that gated mode differentiates the routing: the combine weights'
// adjoint flows through data_select, token_choice and the router.
// CHECK-LABEL: func.func @forward_grad
// CHECK: uoe.data_select_grad
// CHECK: uoe.token_choice_grad
// CHECK: uoe.router_grad
func.func @forward(%x: tensor<4x16x32xf32>, %wg: tensor<4x32xf32> {uoe.param = "wg"}, %bg: tensor<4xf32> {uoe.param = "bg"}, %w1: tensor<4x32x16xf32> {uoe.param = "w1"}, %b1: tensor<4x16xf32> {uoe.param = "b1"}, %w2: tensor<4x16x32xf32> {uoe.param = "w2"}, %b2: tensor<4x32xf32> {uoe.param = "b2"}) -> tensor<4x16x32xf32> {
  %y = uoe.uome %x, router(%wg, %bg), up(%w1, %b1), down(%w2, %b2) top 2 capacity 5.000000e-01 activation gelu gated : tensor<4x16x32xf32>, tensor<4x32xf32>, tensor<4xf32>, tensor<4x32x16xf32>, tensor<4x16xf32>, tensor<4x16x32xf32>, tensor<4x32xf32>
  return %y : tensor<4x16x32xf32>
}

// -----

// Tests that SMHA's backward goes through selective_attention_grad.
// CHECK-LABEL: func.func @forward_grad
// CHECK: uoe.selective_attention_grad {{.*}} heads 2 causal rope compacted
func.func @forward(%x: tensor<2x16x32xf32>, %wg: tensor<2x32xf32>, %bg: tensor<2xf32>, %wqkv: tensor<3x2x32x16xf32>, %bqkv: tensor<3x2x16xf32>, %wo: tensor<2x16x32xf32>, %bo: tensor<2x32xf32>) -> tensor<2x16x32xf32> {
  %y = uoe.smha %x, router(%wg, %bg), qkv(%wqkv, %bqkv), out(%wo, %bo) heads 4 top 1 causal rope compacted union : tensor<2x16x32xf32>, tensor<2x32xf32>, tensor<2xf32>, tensor<3x2x32x16xf32>, tensor<3x2x16xf32>, tensor<2x16x32xf32>, tensor<2x32xf32>
  return %y : tensor<2x16x32xf32>
}

// -----

// Tests the rules of the embedding, the expert GEMM and the loss: the
// loss's adjoint is its *_grad op; the GEMM's are dlhs = dy rhs^T (an
// expert_matmul, which the passes fuse like the forward's) and, batch
// dimensions folded into M, drhs = lhs^T dy; the table's is
// uoe.embedding_grad and the position table's the sum over the batch,
// written into the first T = 5 of its 8 rows.
// CHECK-LABEL: func.func @forward_grad
// CHECK: %[[H:.+]] = uoe.embedding
// CHECK: %[[LOGITS:.+]] = tensor.collapse_shape
// CHECK: %[[DLOGITS:.+]] = uoe.cross_entropy_grad %[[LOGITS]]
// CHECK: %[[WT:.+]] = linalg.transpose ins(%{{.+}} : tensor<1x6x11xf32>) outs(%{{.+}} : tensor<1x11x6xf32>) permutation = [0, 2, 1]
// CHECK: uoe.expert_matmul %{{.+}}, %[[WT]] : tensor<1x2x5x11xf32>, tensor<1x11x6xf32> -> tensor<1x2x5x6xf32>
// CHECK: %[[XT:.+]] = linalg.transpose ins(%{{.+}} : tensor<1x10x6xf32>) outs(%{{.+}} : tensor<1x6x10xf32>) permutation = [0, 2, 1]
// CHECK: %[[DW:.+]] = linalg.batch_matmul ins(%[[XT]], %{{.+}} : tensor<1x6x10xf32>, tensor<1x10x11xf32>) outs(%{{.+}} : tensor<1x6x11xf32>)
// CHECK: %[[DTABLE:.+]] = uoe.embedding_grad
// CHECK: %[[PERPOS:.+]] = linalg.generic {{.*}} iterator_types = ["reduction", "parallel", "parallel"]} ins(%{{.+}} : tensor<2x5x6xf32>) outs(%{{.+}} : tensor<5x6xf32>)
// CHECK: %[[DPOS:.+]] = tensor.insert_slice %[[PERPOS]] into %{{.+}}[0, 0] [5, 6] [1, 1] : tensor<5x6xf32> into tensor<8x6xf32>
// CHECK: return %{{.+}}, %[[DTABLE]], %[[DPOS]], %[[DW]]
func.func @forward(%ids: tensor<2x5xi64>, %targets: tensor<2x5xi64>, %table: tensor<11x6xf32> {uoe.param = "table"},
    %pos: tensor<8x6xf32> {uoe.param = "pos"}, %w: tensor<1x6x11xf32> {uoe.param = "w"}) -> tensor<f32> {
  %h = uoe.embedding %ids, %table positions %pos : tensor<2x5xi64>, tensor<11x6xf32>, tensor<8x6xf32> -> tensor<2x5x6xf32>
  %x = tensor.expand_shape %h [[0, 1], [2], [3]] output_shape [1, 2, 5, 6] : tensor<2x5x6xf32> into tensor<1x2x5x6xf32>
  %l = uoe.expert_matmul %x, %w : tensor<1x2x5x6xf32>, tensor<1x6x11xf32> -> tensor<1x2x5x11xf32>
  %logits = tensor.collapse_shape %l [[0, 1], [2], [3]] : tensor<1x2x5x11xf32> into tensor<2x5x11xf32>
  %loss = uoe.cross_entropy %logits, %targets : tensor<2x5x11xf32>, tensor<2x5xi64> -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

// Tests the error on a uoe op that declares no gradient (expert selection's
// weights are reached here).
func.func @forward(%p: tensor<16x4xf32>) -> tensor<16x2xf32> {
  // expected-error @+1 {{'uoe.expert_select' op has no differentiation rule}}
  %e, %w = uoe.expert_select %p top 2 : tensor<16x4xf32> -> tensor<16x2xi64>, tensor<16x2xf32>
  return %w : tensor<16x2xf32>
}

// -----

// Tests the error on an op without a rule.
func.func @forward(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'math.exp' op has no differentiation rule}}
  %y = math.exp %x : tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

// expected-error @+1 {{--uoe-autodiff: no function @forward with a body to differentiate}}
module {
  func.func private @forward(tensor<4xf32>) -> tensor<4xf32>
}
