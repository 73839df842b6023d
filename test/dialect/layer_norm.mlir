// RUN: uoe-opt %s -split-input-file | uoe-opt -split-input-file | FileCheck %s

// Tests that LayerNorm over the last dimension round-trips with its eps.
// CHECK-LABEL: func.func @layer_norm_f32
// CHECK-SAME: ([[X:%.+]]: tensor<2x16x32xf32>, [[G:%.+]]: tensor<32xf32>, [[B:%.+]]: tensor<32xf32>)
// CHECK: [[Y:%.+]] = uoe.layer_norm [[X]], [[G]], [[B]] eps 1.000000e-05 : tensor<2x16x32xf32>, tensor<32xf32>, tensor<32xf32>{{$}}
// CHECK-NEXT: return [[Y]] : tensor<2x16x32xf32>
func.func @layer_norm_f32(%x: tensor<2x16x32xf32>, %gamma: tensor<32xf32>, %beta: tensor<32xf32>) -> tensor<2x16x32xf32> {
  %y = uoe.layer_norm %x, %gamma, %beta eps 1.0e-5 : tensor<2x16x32xf32>, tensor<32xf32>, tensor<32xf32>
  return %y : tensor<2x16x32xf32>
}

// -----

// Tests that gamma and beta keep their order and that bf16 and a rank-1
// input are accepted.
// CHECK-LABEL: func.func @layer_norm_bf16_rank1
// CHECK-SAME: ([[X:%.+]]: tensor<8xbf16>, [[G:%.+]]: tensor<8xbf16>, [[B:%.+]]: tensor<8xbf16>)
// CHECK: [[Y:%.+]] = uoe.layer_norm [[X]], [[B]], [[G]] eps 1.000000e-03 : tensor<8xbf16>, tensor<8xbf16>, tensor<8xbf16>
// CHECK-NEXT: return [[Y]]
func.func @layer_norm_bf16_rank1(%x: tensor<8xbf16>, %gamma: tensor<8xbf16>, %beta: tensor<8xbf16>) -> tensor<8xbf16> {
  %y = uoe.layer_norm %x, %beta, %gamma eps 1.0e-3 : tensor<8xbf16>, tensor<8xbf16>, tensor<8xbf16>
  return %y : tensor<8xbf16>
}
