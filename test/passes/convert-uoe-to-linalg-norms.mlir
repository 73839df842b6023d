// RUN: uoe-opt %s -split-input-file --convert-uoe-to-linalg --verify-diagnostics | FileCheck %s --implicit-check-not=uoe.

// Tests that LayerNorm takes two passes over each row, the mean and then the
// biased variance around it (each a sum in order, then one division by d),
// and normalises in one elementwise generic with 1 / sqrt(var + eps) (not
// math.rsqrt, which libm cannot lower), gamma and beta by column.
// CHECK-LABEL: func.func @layer_norm
// CHECK-SAME: ([[X:%.+]]: tensor<2x4x8xf32>, [[G:%.+]]: tensor<8xf32>, [[B:%.+]]: tensor<8xf32>)
// CHECK-DAG: [[D:%.+]] = arith.constant 8.000000e+00 : f32
// CHECK: [[SUM:%.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} ins([[X]] : tensor<2x4x8xf32>) outs(%{{.+}} : tensor<2x4xf32>)
// CHECK: [[MEAN:%.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]} ins([[SUM]] : tensor<2x4xf32>)
// CHECK: arith.divf %{{.+}}, [[D]] : f32
// CHECK: [[SQ:%.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} ins([[X]], [[MEAN]] : tensor<2x4x8xf32>, tensor<2x4xf32>)
// CHECK: arith.subf
// CHECK: arith.mulf
// CHECK: [[VAR:%.+]] = linalg.generic {{.*}} ins([[SQ]] : tensor<2x4xf32>)
// CHECK: [[Y:%.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel"]} ins([[X]], [[VAR]], [[G]], [[MEAN]], [[B]] : tensor<2x4x8xf32>, tensor<2x4xf32>, tensor<8xf32>, tensor<2x4xf32>, tensor<8xf32>)
// CHECK: math.sqrt
// CHECK-NOT: math.rsqrt
// CHECK: return [[Y]]
func.func @layer_norm(%x: tensor<2x4x8xf32>, %g: tensor<8xf32>, %b: tensor<8xf32>) -> tensor<2x4x8xf32> {
  %y = uoe.layer_norm %x, %g, %b eps 1.0e-05 : tensor<2x4x8xf32>, tensor<8xf32>, tensor<8xf32>
  return %y : tensor<2x4x8xf32>
}

// -----

// Tests that RMSNorm takes one pass, the mean square, and normalises with no
// shift and no beta.
// CHECK-LABEL: func.func @rms_norm
// CHECK-SAME: ([[X:%.+]]: tensor<4x8xf32>, [[G:%.+]]: tensor<8xf32>)
// CHECK: [[SUM:%.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]} ins([[X]] : tensor<4x8xf32>) outs(%{{.+}} : tensor<4xf32>)
// CHECK-NEXT: ^bb0([[V:%.+]]: f32, [[ACC:%.+]]: f32):
// CHECK-NEXT: [[V2:%.+]] = arith.mulf [[V]], [[V]] : f32
// CHECK-NEXT: arith.addf [[ACC]], [[V2]] : f32
// CHECK: [[MS:%.+]] = linalg.generic {{.*}} ins([[SUM]] : tensor<4xf32>)
// CHECK: [[Y:%.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]} ins([[X]], [[MS]], [[G]] : tensor<4x8xf32>, tensor<4xf32>, tensor<8xf32>)
// CHECK-NOT: arith.subf
// CHECK: return [[Y]]
func.func @rms_norm(%x: tensor<4x8xf32>, %g: tensor<8xf32>) -> tensor<4x8xf32> {
  %y = uoe.rms_norm %x, %g eps 1.0e-06 : tensor<4x8xf32>, tensor<8xf32>
  return %y : tensor<4x8xf32>
}

// -----

// Tests that the LayerNorm backward recomputes the forward's mean and
// variance (the same two passes), takes rstd, then sum(g) and sum(g * xhat)
// per row in one reduction with two results (g = dy * gamma), writes dx in
// one elementwise generic with 1 / d = 1/32, and reduces dgamma and dbeta
// over the rows in one generic (rows reduction, columns parallel).
// CHECK-LABEL: func.func @layer_norm_grad
// CHECK-SAME: ([[X:%.+]]: tensor<2x16x32xf32>, [[G:%.+]]: tensor<32xf32>, [[DY:%.+]]: tensor<2x16x32xf32>)
// CHECK-DAG: [[INVD:%.+]] = arith.constant 3.125000e-02 : f32
// CHECK: [[SUM:%.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} ins([[X]] : tensor<2x16x32xf32>)
// CHECK: [[MEAN:%.+]] = linalg.generic {{.*}} ins([[SUM]] : tensor<2x16xf32>)
// CHECK: [[SQ:%.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} ins([[X]], [[MEAN]] : tensor<2x16x32xf32>, tensor<2x16xf32>)
// CHECK: [[VAR:%.+]] = linalg.generic {{.*}} ins([[SQ]] : tensor<2x16xf32>)
// CHECK: [[RSTD:%.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]} ins([[VAR]] : tensor<2x16xf32>)
// CHECK: math.sqrt
// CHECK: [[SUMS:%.+]]:2 = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} ins([[X]], [[DY]], [[G]], [[MEAN]], [[RSTD]] : tensor<2x16x32xf32>, tensor<2x16x32xf32>, tensor<32xf32>, tensor<2x16xf32>, tensor<2x16xf32>) outs(%{{.+}}, %{{.+}} : tensor<2x16xf32>, tensor<2x16xf32>)
// CHECK: [[DX:%.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel"]} ins([[X]], [[DY]], [[G]], [[MEAN]], [[RSTD]], [[SUMS]]#0, [[SUMS]]#1 : {{.*}}) outs(%{{.+}} : tensor<2x16x32xf32>)
// CHECK: arith.mulf %{{.+}}, [[INVD]] : f32
// CHECK: arith.mulf %{{.+}}, [[INVD]] : f32
// CHECK: [[PARAMS:%.+]]:2 = linalg.generic {{.*}} iterator_types = ["reduction", "reduction", "parallel"]} ins([[X]], [[DY]], [[MEAN]], [[RSTD]] : {{.*}}) outs(%{{.+}}, %{{.+}} : tensor<32xf32>, tensor<32xf32>)
// CHECK: return [[DX]], [[PARAMS]]#0, [[PARAMS]]#1 : tensor<2x16x32xf32>, tensor<32xf32>, tensor<32xf32>
func.func @layer_norm_grad(%x: tensor<2x16x32xf32>, %gamma: tensor<32xf32>, %dy: tensor<2x16x32xf32>)
    -> (tensor<2x16x32xf32>, tensor<32xf32>, tensor<32xf32>) {
  %dx, %dg, %db = uoe.layer_norm_grad %x, %gamma, %dy eps 1.0e-5 : tensor<2x16x32xf32>, tensor<32xf32>
  return %dx, %dg, %db : tensor<2x16x32xf32>, tensor<32xf32>, tensor<32xf32>
}

// -----

// Tests that the RMSNorm backward computes r = 1 / sqrt(mean(x^2) + eps) and
// sum(g * x) per row, dx = r (g - x r^2 mean(g x)) elementwise, and
// dgamma = sum over the rows of dy x r.
// CHECK-LABEL: func.func @rms_norm_grad
// CHECK-SAME: ([[X:%.+]]: tensor<16x32xf32>, [[G:%.+]]: tensor<32xf32>, [[DY:%.+]]: tensor<16x32xf32>)
// CHECK: [[SUM:%.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]} ins([[X]] : tensor<16x32xf32>) outs(%{{.+}} : tensor<16xf32>)
// CHECK: [[MS:%.+]] = linalg.generic {{.*}} ins([[SUM]] : tensor<16xf32>)
// CHECK: [[R:%.+]] = linalg.generic {{.*}} iterator_types = ["parallel"]} ins([[MS]] : tensor<16xf32>)
// CHECK: [[GX:%.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]} ins([[X]], [[DY]], [[G]] : tensor<16x32xf32>, tensor<16x32xf32>, tensor<32xf32>) outs(%{{.+}} : tensor<16xf32>)
// CHECK: [[DX:%.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]} ins([[X]], [[DY]], [[G]], [[R]], [[GX]] : {{.*}}) outs(%{{.+}} : tensor<16x32xf32>)
// CHECK: [[DG:%.+]] = linalg.generic {{.*}} iterator_types = ["reduction", "parallel"]} ins([[X]], [[DY]], [[R]] : tensor<16x32xf32>, tensor<16x32xf32>, tensor<16xf32>) outs(%{{.+}} : tensor<32xf32>)
// CHECK: return [[DX]], [[DG]] : tensor<16x32xf32>, tensor<32xf32>
func.func @rms_norm_grad(%x: tensor<16x32xf32>, %gamma: tensor<32xf32>, %dy: tensor<16x32xf32>) -> (tensor<16x32xf32>, tensor<32xf32>) {
  %dx, %dg = uoe.rms_norm_grad %x, %gamma, %dy eps 1.0e-6 : tensor<16x32xf32>, tensor<32xf32>
  return %dx, %dg : tensor<16x32xf32>, tensor<32xf32>
}
