// RUN: uoe-opt %s -split-input-file --convert-uoe-to-linalg --verify-diagnostics | FileCheck %s --implicit-check-not=uoe.

// Tests that dense attention (a selective attention with a static L, the
// sequence length) keeps L static through the per-head reshapes: expanding
// the static score matrix into a `?` dimension does not verify, so dense
// attention used to fail to lower at all.
// CHECK-LABEL: func.func @attention_static
// CHECK: [[S:%.+]] = linalg.batch_matmul ins(%{{.+}}, %{{.+}} : tensor<4x5x4xf32>, tensor<4x4x5xf32>) outs(%{{.+}} : tensor<4x5x5xf32>)
// CHECK: tensor.expand_shape [[S]] {{\[\[}}0, 1, 2], [3], [4]] output_shape [1, 2, 2, 5, 5] : tensor<4x5x5xf32> into tensor<1x2x2x5x5xf32>
// CHECK: [[O:%.+]] = linalg.batch_matmul ins(%{{.+}}, %{{.+}} : tensor<4x5x5xf32>, tensor<4x5x4xf32>) outs(%{{.+}} : tensor<4x5x4xf32>)
// CHECK: tensor.expand_shape [[O]] {{\[\[}}0, 1, 2], [3], [4]] output_shape [1, 2, 2, 5, 4] : tensor<4x5x4xf32> into tensor<1x2x2x5x4xf32>
// CHECK-NOT: tensor.cast
// CHECK-NOT: uoe.
// CHECK: return %{{.+}} : tensor<2x5x8xf32>
func.func @attention_static(%x: tensor<2x5x8xf32>, %wqkv: tensor<3x8x8xf32>, %bqkv: tensor<3x8xf32>, %wo: tensor<8x8xf32>, %bo: tensor<8xf32>) -> tensor<2x5x8xf32> {
  %y = uoe.attention %x, qkv(%wqkv, %bqkv), out(%wo, %bo) heads 2 causal : tensor<2x5x8xf32>, tensor<3x8x8xf32>, tensor<3x8xf32>, tensor<8x8xf32>, tensor<8xf32>
  return %y : tensor<2x5x8xf32>
}

// -----

// Tests that with a dynamic L (after dynamic selection) the reshapes carry
// L as a `?` read from the query.
// CHECK-LABEL: func.func @selective_dynamic
// CHECK: [[L:%.+]] = tensor.dim %arg0, %{{.+}} : tensor<2x3x?x8xf32>
// CHECK: tensor.expand_shape %{{.+}} {{\[\[}}0, 1, 2], [3], [4]] output_shape [2, 3, 2, [[L]], [[L]]] : tensor<12x?x?xf32> into tensor<2x3x2x?x?xf32>
// CHECK-NOT: uoe.
func.func @selective_dynamic(%q: tensor<2x3x?x8xf32>, %k: tensor<2x3x?x8xf32>, %v: tensor<2x3x?x8xf32>, %pos: tensor<2x3x?xi64>) -> tensor<2x3x?x8xf32> {
  %o = uoe.selective_attention %q, %k, %v, %pos heads 2 causal
      : tensor<2x3x?x8xf32>, tensor<2x3x?x8xf32>, tensor<2x3x?x8xf32>, tensor<2x3x?xi64> -> tensor<2x3x?x8xf32>
  return %o : tensor<2x3x?x8xf32>
}

// -----

// Tests the pieces of selective attention with original rotary positions
// and key padding: the table's length is max(position) + 1 (a reduction over
// the positions), its angles are computed in f64 and rounded once to f32;
// q and k are rotated by one generic each; the masks are applied by original
// position (causal: key position > query position; padding: the key's mask
// entry) with -inf, before the masked-row-safe softmax.
// CHECK-LABEL: func.func @selective_rope_padding
// CHECK-SAME: ([[Q:%.+]]: tensor<1x2x5x8xf32>, [[POS:%.+]]: tensor<1x2x5xi64>, [[KP:%.+]]: tensor<2x9xi1>)
// CHECK-DAG: [[NEGINF:%.+]] = arith.constant 0xFF800000 : f32
// CHECK: [[MAXPOS:%.+]] = linalg.generic {{.*}} iterator_types = ["reduction", "reduction", "reduction"]} ins([[POS]] : tensor<1x2x5xi64>) outs(%{{.+}} : tensor<i64>)
// CHECK: arith.maxsi
// CHECK: [[TABLE:%.+]] = linalg.generic {{.*}} outs(%{{.+}} : tensor<?x2x2xf32>)
// CHECK: math.cos %{{.+}} : f64
// CHECK: math.sin %{{.+}} : f64
// CHECK: arith.truncf %{{.+}} : f64 to f32
// CHECK: [[QR:%.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel"]} outs(%{{.+}} : tensor<1x2x5x8xf32>)
// CHECK: tensor.extract [[TABLE]]
// CHECK: [[KR:%.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel"]} outs(%{{.+}} : tensor<1x2x5x8xf32>)
// CHECK: [[S:%.+]] = linalg.batch_matmul ins(%{{.+}}, %{{.+}} : tensor<4x5x4xf32>, tensor<4x4x5xf32>) outs(%{{.+}} : tensor<4x5x5xf32>)
// CHECK: [[MASKED:%.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%{{.+}} : tensor<1x2x2x5x5xf32>)
// CHECK: [[KEY:%.+]] = tensor.extract [[POS]]
// CHECK: [[QUERY:%.+]] = tensor.extract [[POS]]
// CHECK: [[FUTURE:%.+]] = arith.cmpi sgt, [[KEY]], [[QUERY]] : i64
// CHECK: [[PAD:%.+]] = tensor.extract [[KP]]
// CHECK: [[HIDE:%.+]] = arith.ori [[FUTURE]], [[PAD]] : i1
// CHECK: arith.select [[HIDE]], [[NEGINF]], %{{.+}} : f32
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins([[MASKED]] : tensor<1x2x2x5x5xf32>)
// CHECK: arith.maximumf
// CHECK: [[O:%.+]] = linalg.batch_matmul ins(%{{.+}}, %{{.+}} : tensor<4x5x5xf32>, tensor<4x5x4xf32>) outs(%{{.+}} : tensor<4x5x4xf32>)
// CHECK: return
// CHECK-NOT: uoe.
func.func @selective_rope_padding(%q: tensor<1x2x5x8xf32>, %pos: tensor<1x2x5xi64>, %kp: tensor<2x9xi1>) -> tensor<1x2x5x8xf32> {
  %o = uoe.selective_attention %q, %q, %q, %pos key_padding %kp heads 2 causal rope original
      : tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5xi64>, tensor<2x9xi1> -> tensor<1x2x5x8xf32>
  return %o : tensor<1x2x5x8xf32>
}

// -----

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

// Tests the backward's own steps on static sizes: delta = rowsum(P * dP) as
// one reduction over the keys, dS = P * (dP - delta) * scale in one
// elementwise generic that feeds dQ and dK, and dQ, dK rotated back by R^T
// (the rotation's sines negated: the first-half test flipped by xori).
// CHECK-LABEL: func.func @selective_attention_grad_rope
// CHECK: [[P:%.+]] = tensor.collapse_shape %{{.+}} {{\[\[}}0, 1, 2], [3], [4]] : tensor<1x2x2x5x5xf32> into tensor<4x5x5xf32>
// CHECK: [[DP:%.+]] = linalg.batch_matmul ins(%{{.+}}, %{{.+}} : tensor<4x5x4xf32>, tensor<4x4x5xf32>) outs(%{{.+}} : tensor<4x5x5xf32>)
// CHECK: [[DELTA:%.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} ins([[P]], [[DP]] : tensor<4x5x5xf32>, tensor<4x5x5xf32>) outs(%{{.+}} : tensor<4x5xf32>)
// CHECK: [[DS:%.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel"]} ins([[P]], [[DP]], [[DELTA]] : tensor<4x5x5xf32>, tensor<4x5x5xf32>, tensor<4x5xf32>)
// CHECK: [[PT:%.+]] = linalg.transpose ins([[P]] : tensor<4x5x5xf32>)
// CHECK: linalg.batch_matmul ins([[PT]], %{{.+}} : tensor<4x5x5xf32>, tensor<4x5x4xf32>)
// CHECK: linalg.batch_matmul ins([[DS]], %{{.+}} : tensor<4x5x5xf32>, tensor<4x5x4xf32>)
// CHECK: [[DST:%.+]] = linalg.transpose ins([[DS]] : tensor<4x5x5xf32>)
// CHECK: linalg.batch_matmul ins([[DST]], %{{.+}} : tensor<4x5x5xf32>, tensor<4x5x4xf32>)
// CHECK: [[DQ:%.+]] = linalg.generic {{.*}} outs(%{{.+}} : tensor<1x2x5x8xf32>)
// CHECK: arith.xori
// CHECK: [[DK:%.+]] = linalg.generic {{.*}} outs(%{{.+}} : tensor<1x2x5x8xf32>)
// CHECK: arith.xori
// CHECK: return [[DQ]], [[DK]], %{{.+}} : tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>
// CHECK-NOT: uoe.
func.func @selective_attention_grad_rope(%q: tensor<1x2x5x8xf32>, %pos: tensor<1x2x5xi64>, %do: tensor<1x2x5x8xf32>)
    -> (tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>) {
  %dq, %dk, %dv = uoe.selective_attention_grad %q, %q, %q, %pos, %do heads 2 rope original
      : tensor<1x2x5x8xf32>, tensor<1x2x5xi64>
  return %dq, %dk, %dv : tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>
}
