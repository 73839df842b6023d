// RUN: uoe-opt %s -split-input-file --convert-uoe-to-linalg --verify-diagnostics | FileCheck %s --implicit-check-not=uoe.

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

// Tests the loss's three steps: the row maximum, the row sum of
// exp(x - max), then one reduction over all the items (both loops
// reductions, in order) that reads x[t] for a valid target (0 <= t < V = 7)
// and adds (max - x[t]) + log(sum) to the total and 1 to the count; the
// mean is total / count, 0 when no target is valid.
// CHECK-LABEL: func.func @cross_entropy_steps
// CHECK-SAME: ([[X:%.+]]: tensor<2x5x7xf64>, [[T:%.+]]: tensor<2x5xi64>)
// CHECK-DAG: [[V:%.+]] = arith.constant 7 : i64
// CHECK-DAG: [[NEGINF:%.+]] = arith.constant 0xFFF0000000000000 : f64
// CHECK: [[MAXINIT:%.+]] = linalg.fill ins([[NEGINF]] : f64)
// CHECK: [[MAX:%.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} ins([[X]] : tensor<2x5x7xf64>) outs([[MAXINIT]] : tensor<2x5xf64>)
// CHECK: arith.maximumf
// CHECK: [[SUM:%.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} ins([[X]], [[MAX]] : tensor<2x5x7xf64>, tensor<2x5xf64>)
// CHECK: math.exp
// CHECK: [[ACC:%.+]]:2 = linalg.generic {{.*}} iterator_types = ["reduction", "reduction"]} ins([[T]], [[MAX]], [[SUM]] : tensor<2x5xi64>, tensor<2x5xf64>, tensor<2x5xf64>) outs(%{{.+}}, %{{.+}} : tensor<f64>, tensor<f64>)
// CHECK-NEXT: ^bb0([[TI:%.+]]: i64, [[M:%.+]]: f64, [[S:%.+]]: f64, [[TOTAL:%.+]]: f64, [[COUNT:%.+]]: f64):
// CHECK-NEXT: [[BELOW:%.+]] = arith.cmpi slt, [[TI]], [[V]] : i64
// CHECK-NEXT: [[NONNEG:%.+]] = arith.cmpi sge, [[TI]], %{{.+}} : i64
// CHECK-NEXT: [[VALID:%.+]] = arith.andi [[NONNEG]], [[BELOW]] : i1
// CHECK: [[XT:%.+]] = tensor.extract [[X]]
// CHECK: [[LOG:%.+]] = math.log [[S]] : f64
// CHECK: [[SHIFT:%.+]] = arith.subf [[M]], [[XT]] : f64
// CHECK: [[TERM:%.+]] = arith.addf [[SHIFT]], [[LOG]] : f64
// CHECK: arith.select [[VALID]], [[TERM]], %{{.+}} : f64
// CHECK: [[LOSS:%.+]] = linalg.generic {{.*}} iterator_types = []} ins([[ACC]]#0, [[ACC]]#1 : tensor<f64>, tensor<f64>)
// CHECK: arith.cmpf oeq
// CHECK: arith.divf
// CHECK: return [[LOSS]] : tensor<f64>
func.func @cross_entropy_steps(%logits: tensor<2x5x7xf64>, %t: tensor<2x5xi64>) -> tensor<f64> {
  %l = uoe.cross_entropy %logits, %t : tensor<2x5x7xf64>, tensor<2x5xi64> -> tensor<f64>
  return %l : tensor<f64>
}

// -----

// Tests that the loss gradient counts the valid targets (a reduction over
// the items), scales loss_grad by 1 / count (0 when count = 0), recomputes
// the masked-row-safe softmax of the logits, and writes
// scale * (softmax - onehot(t)) on the valid items, 0 elsewhere, in one
// elementwise generic.
// CHECK-LABEL: func.func @cross_entropy_grad
// CHECK-SAME: ([[X:%.+]]: tensor<2x5x7xf32>, [[T:%.+]]: tensor<2x5xi64>, [[DL:%.+]]: tensor<f32>)
// CHECK-DAG: [[ONE:%.+]] = arith.constant 1.000000e+00 : f32
// CHECK-DAG: [[ZERO:%.+]] = arith.constant 0.000000e+00 : f32
// CHECK: [[COUNT:%.+]] = linalg.generic {{.*}} iterator_types = ["reduction", "reduction"]} ins([[T]] : tensor<2x5xi64>) outs(%{{.+}} : tensor<f32>)
// CHECK: [[SCALE:%.+]] = linalg.generic {{.*}} iterator_types = []} ins([[DL]], [[COUNT]] : tensor<f32>, tensor<f32>)
// CHECK: [[MAX:%.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} ins([[X]] : tensor<2x5x7xf32>)
// CHECK: [[EXP:%.+]] = linalg.generic {{.*}} ins([[X]], [[MAX]] : tensor<2x5x7xf32>, tensor<2x5xf32>)
// CHECK: [[SUM:%.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} ins([[EXP]] : tensor<2x5x7xf32>)
// CHECK: [[P:%.+]] = linalg.generic {{.*}} ins([[EXP]], [[SUM]] : tensor<2x5x7xf32>, tensor<2x5xf32>)
// CHECK: [[G:%.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel"]} ins([[P]], [[T]], [[SCALE]] : tensor<2x5x7xf32>, tensor<2x5xi64>, tensor<f32>) outs(%{{.+}} : tensor<2x5x7xf32>)
// CHECK-NEXT: ^bb0([[PE:%.+]]: f32, [[TI:%.+]]: i64, [[SC:%.+]]: f32, %{{.+}}: f32):
// CHECK: [[VALID:%.+]] = arith.andi
// CHECK: [[V:%.+]] = linalg.index 2 : index
// CHECK: [[VI:%.+]] = arith.index_cast [[V]] : index to i64
// CHECK: [[HIT:%.+]] = arith.cmpi eq, [[VI]], [[TI]] : i64
// CHECK: [[ONEHOT:%.+]] = arith.select [[HIT]], [[ONE]], [[ZERO]] : f32
// CHECK: [[DIFF:%.+]] = arith.subf [[PE]], [[ONEHOT]] : f32
// CHECK: [[SCALED:%.+]] = arith.mulf [[SC]], [[DIFF]] : f32
// CHECK: arith.select [[VALID]], [[SCALED]], [[ZERO]] : f32
// CHECK: return [[G]] : tensor<2x5x7xf32>
func.func @cross_entropy_grad(%logits: tensor<2x5x7xf32>, %t: tensor<2x5xi64>, %dl: tensor<f32>) -> tensor<2x5x7xf32> {
  %dlog = uoe.cross_entropy_grad %logits, %t, %dl : tensor<2x5x7xf32>, tensor<2x5xi64>, tensor<f32>
  return %dlog : tensor<2x5x7xf32>
}
