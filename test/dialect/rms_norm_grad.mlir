// RUN: uoe-opt %s -split-input-file | uoe-opt -split-input-file | FileCheck %s

// Tests that the RMSNorm gradient round-trips with its two results.
// CHECK-LABEL: func.func @rms_norm_grad_f32
// CHECK-SAME: ([[X:%.+]]: tensor<2x16x32xf32>, [[G:%.+]]: tensor<32xf32>, [[DY:%.+]]: tensor<2x16x32xf32>)
// CHECK: [[DX:%[^,]+]], [[DG:%[^ ]+]] = uoe.rms_norm_grad [[X]], [[G]], [[DY]] eps 9.9999999999999995E-7 : tensor<2x16x32xf32>, tensor<32xf32>{{$}}
// CHECK-NEXT: return [[DX]], [[DG]] : tensor<2x16x32xf32>, tensor<32xf32>
func.func @rms_norm_grad_f32(%x: tensor<2x16x32xf32>, %gamma: tensor<32xf32>, %dy: tensor<2x16x32xf32>)
    -> (tensor<2x16x32xf32>, tensor<32xf32>) {
  %dx, %dg = uoe.rms_norm_grad %x, %gamma, %dy eps 1.0e-6 : tensor<2x16x32xf32>, tensor<32xf32>
  return %dx, %dg : tensor<2x16x32xf32>, tensor<32xf32>
}
