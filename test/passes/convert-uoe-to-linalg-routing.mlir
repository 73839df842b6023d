// RUN: uoe-opt %s -split-input-file --convert-uoe-to-linalg --verify-diagnostics | FileCheck %s --implicit-check-not=uoe.

// Tests that a patch's score is the sum of its tokens' scores divided once by
// the patch size (a mean), so that patches with equal means tie exactly and
// the stable rule decides; scaling every token by 1/P before the sum would
// round each term and break such ties.
// CHECK-LABEL: func.func @data_select_patch_mean
// CHECK-DAG: [[P:%.+]] = arith.constant 3.000000e+00 : f32
// CHECK: [[SUM:%.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%{{.+}} : tensor<1x2x3x2xf32>) outs(%{{.+}} : tensor<2x1x2xf32>)
// CHECK-NEXT: ^bb0([[IN:%.+]]: f32, [[ACC:%.+]]: f32):
// CHECK-NEXT: [[ADD:%.+]] = arith.addf [[ACC]], [[IN]] : f32
// CHECK-NEXT: linalg.yield [[ADD]] : f32
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel"]} ins([[SUM]] : tensor<2x1x2xf32>)
// CHECK-NEXT: ^bb0([[S:%.+]]: f32, %{{.+}}: f32):
// CHECK-NEXT: [[MEAN:%.+]] = arith.divf [[S]], [[P]] : f32
// CHECK-NEXT: linalg.yield [[MEAN]] : f32
// CHECK-NOT: uoe.
func.func @data_select_patch_mean(%s: tensor<1x6x2xf32>) -> (tensor<2x1x1xi64>, tensor<2x1x1xf32>) {
  %pos, %w = uoe.data_select %s patch 3 capacity 0.5 : tensor<1x6x2xf32> -> tensor<2x1x1xi64>, tensor<2x1x1xf32>
  return %pos, %w : tensor<2x1x1xi64>, tensor<2x1x1xf32>
}

// -----

// Tests that with one token per patch the scores are ranked as they are,
// with no division.
// CHECK-LABEL: func.func @data_select_token
// CHECK-NOT: arith.divf
// CHECK-NOT: arith.mulf
// CHECK: return
func.func @data_select_token(%s: tensor<2x8x3xf32>) -> (tensor<3x2x4xi64>, tensor<3x2x4xf32>) {
  %pos, %w = uoe.data_select %s patch 1 capacity 0.5 : tensor<2x8x3xf32> -> tensor<3x2x4xi64>, tensor<3x2x4xf32>
  return %pos, %w : tensor<3x2x4xi64>, tensor<3x2x4xf32>
}

// -----

// Tests that a softmax router is one bias-broadcast generic, one GEMM-like
// generic whose contraction k sits between the rows and the experts (the
// experts innermost and parallel), then the masked-row-safe softmax: row
// max, exp(x - max) with -inf rows giving 0, row sum, division.
// CHECK-LABEL: func.func @router_softmax
// CHECK-SAME: ([[X:%.+]]: tensor<2x8x16xf32>, [[W:%.+]]: tensor<4x16xf32>, [[B:%.+]]: tensor<4xf32>)
// CHECK: [[BIAS:%.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel"]} ins([[B]] : tensor<4xf32>) outs(%{{.+}} : tensor<2x8x4xf32>)
// CHECK: [[LOGITS:%.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction", "parallel"]} ins([[X]], [[W]] : tensor<2x8x16xf32>, tensor<4x16xf32>) outs([[BIAS]] : tensor<2x8x4xf32>)
// CHECK: [[MAX:%.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} ins([[LOGITS]] : tensor<2x8x4xf32>) outs(%{{.+}} : tensor<2x8xf32>)
// CHECK: arith.maximumf
// CHECK: [[EXP:%.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel"]} ins([[LOGITS]], [[MAX]] : tensor<2x8x4xf32>, tensor<2x8xf32>)
// CHECK: arith.cmpf oeq
// CHECK: math.exp
// CHECK: arith.select
// CHECK: [[SUM:%.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} ins([[EXP]] : tensor<2x8x4xf32>)
// CHECK: [[P:%.+]] = linalg.generic {{.*}} ins([[EXP]], [[SUM]] : tensor<2x8x4xf32>, tensor<2x8xf32>)
// CHECK: arith.divf
// CHECK: return [[P]] : tensor<2x8x4xf32>
// CHECK-NOT: uoe.
func.func @router_softmax(%x: tensor<2x8x16xf32>, %w: tensor<4x16xf32>, %b: tensor<4xf32>) -> tensor<2x8x4xf32> {
  %p = uoe.router %x, %w, %b score softmax : tensor<2x8x16xf32>, tensor<4x16xf32>, tensor<4xf32> -> tensor<2x8x4xf32>
  return %p : tensor<2x8x4xf32>
}

// -----

// Tests that a sigmoid router scores the logits with 1 / (1 + exp(-x)) in
// one elementwise generic, with no row reduction.
// CHECK-LABEL: func.func @router_sigmoid
// CHECK-DAG: [[ONE:%.+]] = arith.constant 1.000000e+00 : f32
// CHECK: [[LOGITS:%.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "reduction", "parallel"]}
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]} ins([[LOGITS]] : tensor<8x4xf32>)
// CHECK-NEXT: ^bb0([[L:%.+]]: f32, %{{.+}}: f32):
// CHECK-NEXT: [[NEG:%.+]] = arith.negf [[L]] : f32
// CHECK-NEXT: [[E:%.+]] = math.exp [[NEG]] : f32
// CHECK-NEXT: [[D:%.+]] = arith.addf [[E]], [[ONE]] : f32
// CHECK-NEXT: [[S:%.+]] = arith.divf [[ONE]], [[D]] : f32
// CHECK-NEXT: linalg.yield [[S]] : f32
// CHECK-NOT: "reduction"
// CHECK-NOT: uoe.
func.func @router_sigmoid(%x: tensor<8x16xf32>, %w: tensor<4x16xf32>, %b: tensor<4xf32>) -> tensor<8x4xf32> {
  %p = uoe.router %x, %w, %b score sigmoid : tensor<8x16xf32>, tensor<4x16xf32>, tensor<4xf32> -> tensor<8x4xf32>
  return %p : tensor<8x4xf32>
}

// -----

// Tests that token choice ranks every entry against its row with the
// stable rule (j beats i when s[j] > s[i], or s[j] == s[i] and j < i),
// keeps the ranks below top, renormalises over the experts, then
// normalises over axis 0 with eps and floor(capacity * n) = 8.
// CHECK-LABEL: func.func @token_choice
// CHECK-SAME: ([[P:%.+]]: tensor<16x4xf32>)
// CHECK-DAG: [[SCALE:%.+]] = arith.constant 8.000000e+00 : f32
// CHECK-DAG: [[TOP:%.+]] = arith.constant 2 : i64
// CHECK: [[RANKS:%.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} ins([[P]], [[P]] : tensor<16x4xf32>, tensor<16x4xf32>) outs(%{{.+}} : tensor<16x4xi64>)
// CHECK-NEXT: ^bb0([[SI:%.+]]: f32, [[SJ:%.+]]: f32, [[ACC:%.+]]: i64):
// CHECK-NEXT: [[I:%.+]] = linalg.index 1 : index
// CHECK-NEXT: [[J:%.+]] = linalg.index 2 : index
// CHECK-NEXT: [[GT:%.+]] = arith.cmpf ogt, [[SJ]], [[SI]] : f32
// CHECK-NEXT: [[EQ:%.+]] = arith.cmpf oeq, [[SJ]], [[SI]] : f32
// CHECK-NEXT: [[BEFORE:%.+]] = arith.cmpi ult, [[J]], [[I]] : index
// CHECK-NEXT: [[TIE:%.+]] = arith.andi [[EQ]], [[BEFORE]] : i1
// CHECK-NEXT: [[BEATS:%.+]] = arith.ori [[GT]], [[TIE]] : i1
// CHECK: [[KEPT:%.+]] = linalg.generic {{.*}} ins([[P]], [[RANKS]] : tensor<16x4xf32>, tensor<16x4xi64>)
// CHECK: arith.cmpi slt, %{{.+}}, [[TOP]] : i64
// CHECK: [[ROWSUM:%.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]} ins([[KEPT]] : tensor<16x4xf32>) outs(%{{.+}} : tensor<16xf32>)
// CHECK: [[RENORM:%.+]] = linalg.generic {{.*}} ins([[KEPT]], [[ROWSUM]] : tensor<16x4xf32>, tensor<16xf32>)
// CHECK: [[COLSUM:%.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]} ins([[RENORM]] : tensor<16x4xf32>) outs(%{{.+}} : tensor<4xf32>)
// CHECK: [[G:%.+]] = linalg.generic {{.*}} ins([[RENORM]], [[COLSUM]] : tensor<16x4xf32>, tensor<4xf32>)
// CHECK: arith.mulf %{{.+}}, [[SCALE]] : f32
// CHECK: return [[G]]
// CHECK-NOT: uoe.
func.func @token_choice(%p: tensor<16x4xf32>) -> tensor<16x4xf32> {
  %s = uoe.token_choice %p top 2 renormalize normalize axis 0 eps 1.0e-06 capacity 0.5 : tensor<16x4xf32>
  return %s : tensor<16x4xf32>
}

// -----

// Tests that expert selection writes, for slot i, the expert of stable rank
// i and its probability, in one generic reducing over the experts.
// CHECK-LABEL: func.func @expert_select
// CHECK: [[RANKS:%.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} {{.*}} outs(%{{.+}} : tensor<16x4xi64>)
// CHECK: [[SEL:%.+]]:2 = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} ins(%{{.+}}, [[RANKS]] : tensor<16x4xf32>, tensor<16x4xi64>) outs(%{{.+}}, %{{.+}} : tensor<16x2xi64>, tensor<16x2xf32>)
// CHECK: [[HIT:%.+]] = arith.cmpi eq
// CHECK: arith.select [[HIT]], %{{.+}} : i64
// CHECK: arith.select [[HIT]], %{{.+}} : f32
// CHECK: return [[SEL]]#0, [[SEL]]#1
// CHECK-NOT: uoe.
func.func @expert_select(%p: tensor<16x4xf32>) -> (tensor<16x2xi64>, tensor<16x2xf32>) {
  %e, %w = uoe.expert_select %p top 2 : tensor<16x4xf32> -> tensor<16x2xi64>, tensor<16x2xf32>
  return %e, %w : tensor<16x2xi64>, tensor<16x2xf32>
}

// -----

// Tests that the router backward computes dlogits = p * (dp - sum(p dp))
// with one row reduction, then dx = dlogits W and dW = dlogits^T x as
// single-batch matmuls over the 64 flattened rows, and db as a column sum.
// CHECK-LABEL: func.func @router_grad
// CHECK: [[DOT:%.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} ins(%arg2, %arg3 : tensor<4x16x3xf32>, tensor<4x16x3xf32>) outs(%{{.+}} : tensor<4x16xf32>)
// CHECK: [[DL:%.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel"]} ins(%arg2, %arg3, [[DOT]] : tensor<4x16x3xf32>, tensor<4x16x3xf32>, tensor<4x16xf32>)
// CHECK: arith.subf
// CHECK: arith.mulf
// CHECK: [[DX:%.+]] = linalg.batch_matmul ins(%{{.+}}, %{{.+}} : tensor<1x64x3xf32>, tensor<1x3x32xf32>) outs(%{{.+}} : tensor<1x64x32xf32>)
// CHECK: [[DLT:%.+]] = linalg.transpose ins(%{{.+}} : tensor<1x64x3xf32>) outs(%{{.+}} : tensor<1x3x64xf32>) permutation = [0, 2, 1]
// CHECK: [[DW:%.+]] = linalg.batch_matmul ins([[DLT]], %{{.+}} : tensor<1x3x64xf32>, tensor<1x64x32xf32>) outs(%{{.+}} : tensor<1x3x32xf32>)
// CHECK: [[DB:%.+]] = linalg.generic {{.*}} iterator_types = ["reduction", "reduction", "parallel"]} ins([[DL]] : tensor<4x16x3xf32>) outs(%{{.+}} : tensor<3xf32>)
// CHECK-NOT: uoe.
// CHECK: return %{{.+}}, %{{.+}}, [[DB]] : tensor<4x16x32xf32>, tensor<3x32xf32>, tensor<3xf32>
func.func @router_grad(%x: tensor<4x16x32xf32>, %w: tensor<3x32xf32>, %p: tensor<4x16x3xf32>, %dp: tensor<4x16x3xf32>)
    -> (tensor<4x16x32xf32>, tensor<3x32xf32>, tensor<3xf32>) {
  %dx, %dw, %db = uoe.router_grad %x, %w, %p, %dp score softmax : tensor<4x16x32xf32>, tensor<3x32xf32>, tensor<4x16x3xf32> -> tensor<3xf32>
  return %dx, %dw, %db : tensor<4x16x32xf32>, tensor<3x32xf32>, tensor<3xf32>
}

// -----

// Tests that the sigmoid router backward takes dlogits = dp * p * (1 - p)
// elementwise, with no row reduction before the matmuls.
// CHECK-LABEL: func.func @router_grad_sigmoid
// CHECK-SAME: ([[X:%.+]]: tensor<8x16xf32>, [[W:%.+]]: tensor<4x16xf32>, [[P:%.+]]: tensor<8x4xf32>, [[DP:%.+]]: tensor<8x4xf32>)
// CHECK-DAG: [[ONE:%.+]] = arith.constant 1.000000e+00 : f32
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]} ins([[P]], [[DP]] : tensor<8x4xf32>, tensor<8x4xf32>)
// CHECK-NEXT: ^bb0([[PE:%.+]]: f32, [[DPE:%.+]]: f32, %{{.+}}: f32):
// CHECK-NEXT: [[Q:%.+]] = arith.subf [[ONE]], [[PE]] : f32
// CHECK-NEXT: [[PQ:%.+]] = arith.mulf [[PE]], [[Q]] : f32
// CHECK-NEXT: [[G:%.+]] = arith.mulf [[DPE]], [[PQ]] : f32
// CHECK-NEXT: linalg.yield [[G]] : f32
// CHECK: linalg.batch_matmul ins(%{{.+}}, %{{.+}} : tensor<1x8x4xf32>, tensor<1x4x16xf32>)
// CHECK: linalg.batch_matmul ins(%{{.+}}, %{{.+}} : tensor<1x4x8xf32>, tensor<1x8x16xf32>)
// CHECK: linalg.generic {{.*}} iterator_types = ["reduction", "parallel"]} {{.*}} outs(%{{.+}} : tensor<4xf32>)
// CHECK-NOT: uoe.
func.func @router_grad_sigmoid(%x: tensor<8x16xf32>, %w: tensor<4x16xf32>, %p: tensor<8x4xf32>, %dp: tensor<8x4xf32>)
    -> (tensor<8x16xf32>, tensor<4x16xf32>, tensor<4xf32>) {
  %dx, %dw, %db = uoe.router_grad %x, %w, %p, %dp score sigmoid : tensor<8x16xf32>, tensor<4x16xf32>, tensor<8x4xf32> -> tensor<4xf32>
  return %dx, %dw, %db : tensor<8x16xf32>, tensor<4x16xf32>, tensor<4xf32>
}

// -----

// Tests that the token-choice backward recomputes the stable ranks and the
// top-k mask, applies the renormalisation's Jacobian (one reduction with
// two row sums, then ds = (dout - sum(dout s) / D) / D, 0 where D = 0), and
// masks the result with the same ranks.
// CHECK-LABEL: func.func @token_choice_grad
// CHECK-SAME: ([[P:%.+]]: tensor<16x4xf32>, [[DG:%.+]]: tensor<16x4xf32>)
// CHECK-DAG: [[TOP:%.+]] = arith.constant 2 : i64
// CHECK: [[RANKS:%.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} ins([[P]], [[P]] : tensor<16x4xf32>, tensor<16x4xf32>) outs(%{{.+}} : tensor<16x4xi64>)
// CHECK: [[KEPT:%.+]] = linalg.generic {{.*}} ins([[P]], [[RANKS]] : tensor<16x4xf32>, tensor<16x4xi64>)
// CHECK: [[SUMS:%.+]]:2 = linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]} ins([[KEPT]], [[DG]] : tensor<16x4xf32>, tensor<16x4xf32>) outs(%{{.+}}, %{{.+}} : tensor<16xf32>, tensor<16xf32>)
// CHECK: [[DS:%.+]] = linalg.generic {{.*}} ins([[DG]], [[SUMS]]#0, [[SUMS]]#1 : tensor<16x4xf32>, tensor<16xf32>, tensor<16xf32>)
// CHECK: arith.cmpf oeq
// CHECK: arith.select
// CHECK: [[DP:%.+]] = linalg.generic {{.*}} ins([[DS]], [[RANKS]] : tensor<16x4xf32>, tensor<16x4xi64>)
// CHECK-NEXT: ^bb0(%{{.+}}: f32, [[R:%.+]]: i64, %{{.+}}: f32):
// CHECK-NEXT: arith.cmpi slt, [[R]], [[TOP]] : i64
// CHECK: return [[DP]]
// CHECK-NOT: uoe.
func.func @token_choice_grad(%p: tensor<16x4xf32>, %dg: tensor<16x4xf32>) -> tensor<16x4xf32> {
  %dp = uoe.token_choice_grad %p, %dg top 2 renormalize : tensor<16x4xf32>
  return %dp : tensor<16x4xf32>
}

// -----

// Tests that the data-selection backward, with a dynamic L, builds the
// inverse index of the positions (-1 for a patch no slot holds, a reduction
// over the slots) and gathers the weights' gradient through it, divided by
// the patch size, 0 where the index is -1.
// CHECK-LABEL: func.func @data_select_grad
// CHECK-SAME: ([[POS:%.+]]: tensor<3x4x?xi64>, [[DW:%.+]]: tensor<3x4x?xf32>)
// CHECK-DAG: [[P:%.+]] = arith.constant 2.000000e+00 : f32
// CHECK-DAG: [[NONE:%.+]] = arith.constant -1 : i64
// CHECK: [[EMPTY:%.+]] = linalg.fill ins([[NONE]] : i64) outs(%{{.+}} : tensor<3x4x8xi64>)
// CHECK: [[INV:%.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins([[POS]] : tensor<3x4x?xi64>) outs([[EMPTY]] : tensor<3x4x8xi64>)
// CHECK: [[DS:%.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel"]} ins([[INV]] : tensor<3x4x8xi64>) outs(%{{.+}} : tensor<4x16x3xf32>)
// CHECK-NEXT: ^bb0([[SLOT:%.+]]: i64, %{{.+}}: f32):
// CHECK-NEXT: [[VALID:%.+]] = arith.cmpi sge, [[SLOT]], %{{.+}} : i64
// CHECK: [[G:%.+]] = tensor.extract [[DW]]
// CHECK-NEXT: [[MEAN:%.+]] = arith.divf [[G]], [[P]] : f32
// CHECK-NEXT: arith.select [[VALID]], [[MEAN]], %{{.+}} : f32
// CHECK: return [[DS]]
// CHECK-NOT: uoe.
func.func @data_select_grad(%pos: tensor<3x4x?xi64>, %dw: tensor<3x4x?xf32>) -> tensor<4x16x3xf32> {
  %ds = uoe.data_select_grad %pos, %dw patch 2 : tensor<3x4x?xi64>, tensor<3x4x?xf32> -> tensor<4x16x3xf32>
  return %ds : tensor<4x16x3xf32>
}

// -----

// Tests that with a normalisation over axis 0 the backward recomputes the
// renormalised scores, then applies the Jacobians in reverse order: first
// the axis normalisation's (sums over axis 0 with the kept dimensions as
// the outer loops, scale floor(1.0 * 4) = 4), then the renormalisation's
// (sums over the experts), then the top-k mask.
// CHECK-LABEL: func.func @token_choice_grad_axis
// CHECK-SAME: ([[P:%.+]]: tensor<4x16x3xf32>, [[DG:%.+]]: tensor<4x16x3xf32>)
// CHECK-DAG: [[SCALE:%.+]] = arith.constant 4.000000e+00 : f32
// CHECK: [[RANKS:%.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins([[P]], [[P]] : {{.*}}) outs(%{{.+}} : tensor<4x16x3xi64>)
// CHECK: [[KEPT:%.+]] = linalg.generic {{.*}} ins([[P]], [[RANKS]] : tensor<4x16x3xf32>, tensor<4x16x3xi64>)
// CHECK: [[ROWSUM:%.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} ins([[KEPT]] : tensor<4x16x3xf32>) outs(%{{.+}} : tensor<4x16xf32>)
// CHECK: [[S1:%.+]] = linalg.generic {{.*}} ins([[KEPT]], [[ROWSUM]] : tensor<4x16x3xf32>, tensor<4x16xf32>)
// CHECK: [[AXIS:%.+]]:2 = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} ins([[S1]], [[DG]] : tensor<4x16x3xf32>, tensor<4x16x3xf32>) outs(%{{.+}}, %{{.+}} : tensor<16x3xf32>, tensor<16x3xf32>)
// CHECK: [[D1:%.+]] = linalg.generic {{.*}} ins([[DG]], [[AXIS]]#0, [[AXIS]]#1 : tensor<4x16x3xf32>, tensor<16x3xf32>, tensor<16x3xf32>)
// CHECK: arith.mulf %{{.+}}, [[SCALE]] : f32
// CHECK: [[ROWS:%.+]]:2 = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} ins([[KEPT]], [[D1]] : tensor<4x16x3xf32>, tensor<4x16x3xf32>) outs(%{{.+}}, %{{.+}} : tensor<4x16xf32>, tensor<4x16xf32>)
// CHECK: [[D0:%.+]] = linalg.generic {{.*}} ins([[D1]], [[ROWS]]#0, [[ROWS]]#1 : tensor<4x16x3xf32>, tensor<4x16xf32>, tensor<4x16xf32>)
// CHECK: [[DP:%.+]] = linalg.generic {{.*}} ins([[D0]], [[RANKS]] : tensor<4x16x3xf32>, tensor<4x16x3xi64>)
// CHECK: return [[DP]]
// CHECK-NOT: uoe.
func.func @token_choice_grad_axis(%p: tensor<4x16x3xf32>, %dg: tensor<4x16x3xf32>) -> tensor<4x16x3xf32> {
  %dp = uoe.token_choice_grad %p, %dg top 2 renormalize normalize axis 0 eps 1.0e-06 capacity 1.0 : tensor<4x16x3xf32>
  return %dp : tensor<4x16x3xf32>
}
