// RUN: uoe-opt %s -split-input-file | uoe-opt -split-input-file | FileCheck %s

// Tests that the LayerNorm gradient round-trips with its three results: the
// input gradient has the input's type, the gamma and beta gradients gamma's.
// CHECK-LABEL: func.func @layer_norm_grad_f32
// CHECK-SAME: ([[X:%.+]]: tensor<2x16x32xf32>, [[G:%.+]]: tensor<32xf32>, [[DY:%.+]]: tensor<2x16x32xf32>)
// CHECK: [[DX:%[^,]+]], [[DG:%[^,]+]], [[DB:%[^ ]+]] = uoe.layer_norm_grad [[X]], [[G]], [[DY]] eps 1.000000e-05 : tensor<2x16x32xf32>, tensor<32xf32>{{$}}
// CHECK-NEXT: return [[DX]], [[DG]], [[DB]] : tensor<2x16x32xf32>, tensor<32xf32>, tensor<32xf32>
func.func @layer_norm_grad_f32(%x: tensor<2x16x32xf32>, %gamma: tensor<32xf32>, %dy: tensor<2x16x32xf32>)
    -> (tensor<2x16x32xf32>, tensor<32xf32>, tensor<32xf32>) {
  %dx, %dg, %db = uoe.layer_norm_grad %x, %gamma, %dy eps 1.0e-5 : tensor<2x16x32xf32>, tensor<32xf32>
  return %dx, %dg, %db : tensor<2x16x32xf32>, tensor<32xf32>, tensor<32xf32>
}

// -----

// Tests that a rank-1 f64 input is accepted.
// CHECK-LABEL: func.func @layer_norm_grad_f64_rank1
// CHECK: uoe.layer_norm_grad %{{.+}}, %{{.+}}, %{{.+}} eps 1.000000e-03 : tensor<8xf64>, tensor<8xf64>{{$}}
func.func @layer_norm_grad_f64_rank1(%x: tensor<8xf64>, %gamma: tensor<8xf64>, %dy: tensor<8xf64>) -> tensor<8xf64> {
  %dx, %dg, %db = uoe.layer_norm_grad %x, %gamma, %dy eps 1.0e-3 : tensor<8xf64>, tensor<8xf64>
  return %dx : tensor<8xf64>
}
