// RUN: uoe-opt %s -split-input-file -verify-diagnostics --uoe-build-train-step | FileCheck %s
// RUN: uoe-opt %s -split-input-file -verify-diagnostics "--uoe-build-train-step=optimizer=sgd" | FileCheck %s --check-prefix=SGD

// Tests the signatures of @eval_loss and @train_step (targets after the
// inputs, the step after the targets, the AdamW state after the parameters)
// and the results of the step (loss, norm, rate, then the updates).
// CHECK-LABEL: func.func @eval_loss
// CHECK-SAME: {uoe.input = "tokens"}, %{{.+}}: tensor<2x8xi64> {uoe.input = "targets"}, %{{.+}}: tensor<16x4xf32> {uoe.param = "embedding.weight"}
// CHECK-SAME: -> (tensor<f32> {uoe.result = "loss"})
// CHECK: uoe.cross_entropy
// CHECK-LABEL: func.func @train_step
// CHECK-SAME: {uoe.input = "targets"}, %{{.+}}: tensor<i64> {uoe.input = "step"}, %[[W:.+]]: tensor<16x4xf32> {uoe.param = "embedding.weight"}, %{{.+}}: tensor<16x4xf32> {uoe.param = "opt.m.embedding.weight"}, %{{.+}}: tensor<16x4xf32> {uoe.param = "opt.v.embedding.weight"}
// CHECK-SAME: -> (tensor<f32> {uoe.result = "loss"}, tensor<f32> {uoe.result = "grad_norm"}, tensor<f32> {uoe.result = "lr"}, tensor<16x4xf32> {uoe.result = "embedding.weight", uoe.updates = "embedding.weight"}, tensor<16x4xf32> {uoe.result = "opt.m.embedding.weight", uoe.updates = "opt.m.embedding.weight"}, tensor<16x4xf32> {uoe.result = "opt.v.embedding.weight", uoe.updates = "opt.v.embedding.weight"})
// CHECK: uoe.cross_entropy_grad
// CHECK: uoe.embedding_grad
// CHECK: math.sqrt
// CHECK: math.powf
// CHECK: linalg.generic
// SGD-LABEL: func.func @train_step
// SGD-SAME: {uoe.param = "opt.momentum.embedding.weight"}
// SGD-NOT: math.powf
func.func @forward(%ids: tensor<2x8xi64> {uoe.input = "tokens"}, %table: tensor<16x4xf32> {uoe.param = "embedding.weight"}) -> tensor<2x8x16xf32> {
  %h = uoe.embedding %ids, %table : tensor<2x8xi64>, tensor<16x4xf32> -> tensor<2x8x4xf32>
  %flat = tensor.collapse_shape %h [[0, 1], [2]] : tensor<2x8x4xf32> into tensor<16x4xf32>
  %lhs = tensor.expand_shape %flat [[0, 1], [2]] output_shape [1, 16, 4] : tensor<16x4xf32> into tensor<1x16x4xf32>
  %e = tensor.empty() : tensor<4x16xf32>
  %wt = linalg.transpose ins(%table : tensor<16x4xf32>) outs(%e : tensor<4x16xf32>) permutation = [1, 0]
  %rhs = tensor.expand_shape %wt [[0, 1], [2]] output_shape [1, 4, 16] : tensor<4x16xf32> into tensor<1x4x16xf32>
  %z = tensor.empty() : tensor<1x16x16xf32>
  %c0 = arith.constant 0.0 : f32
  %zero = linalg.fill ins(%c0 : f32) outs(%z : tensor<1x16x16xf32>) -> tensor<1x16x16xf32>
  %l = linalg.batch_matmul ins(%lhs, %rhs : tensor<1x16x4xf32>, tensor<1x4x16xf32>) outs(%zero : tensor<1x16x16xf32>) -> tensor<1x16x16xf32>
  %l2 = tensor.collapse_shape %l [[0, 1], [2]] : tensor<1x16x16xf32> into tensor<16x16xf32>
  %logits = tensor.expand_shape %l2 [[0, 1], [2]] output_shape [2, 8, 16] : tensor<16x16xf32> into tensor<2x8x16xf32>
  return %logits : tensor<2x8x16xf32>
}

// -----

// expected-error @+1 {{--uoe-build-train-step needs a function with one result (the logits)}}
func.func @forward(%x: tensor<2x8xf32>) -> (tensor<2x8xf32>, tensor<2x8xf32>) {
  return %x, %x : tensor<2x8xf32>, tensor<2x8xf32>
}

// -----

// expected-error @+1 {{needs float logits of rank 2 or more}}
func.func @forward(%x: tensor<8xf32>) -> tensor<8xf32> {
  return %x : tensor<8xf32>
}
