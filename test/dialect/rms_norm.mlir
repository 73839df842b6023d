// RUN: uoe-opt %s -split-input-file | uoe-opt -split-input-file | FileCheck %s

// Tests that RMSNorm round-trips with its eps.
// CHECK-LABEL: func.func @rms_norm_f32
// CHECK-SAME: ([[X:%.+]]: tensor<2x16x32xf32>, [[G:%.+]]: tensor<32xf32>)
// CHECK: [[Y:%.+]] = uoe.rms_norm [[X]], [[G]] eps 9.9999999999999995E-7 : tensor<2x16x32xf32>, tensor<32xf32>{{$}}
// CHECK-NEXT: return [[Y]] : tensor<2x16x32xf32>
func.func @rms_norm_f32(%x: tensor<2x16x32xf32>, %gamma: tensor<32xf32>) -> tensor<2x16x32xf32> {
  %y = uoe.rms_norm %x, %gamma eps 1.0e-6 : tensor<2x16x32xf32>, tensor<32xf32>
  return %y : tensor<2x16x32xf32>
}

// -----

// Tests that f16 and f64 element types are accepted.
// CHECK-LABEL: func.func @rms_norm_f16_f64
// CHECK: uoe.rms_norm %{{.+}}, %{{.+}} eps 1.000000e-05 : tensor<4x8xf16>, tensor<8xf16>{{$}}
// CHECK: uoe.rms_norm %{{.+}}, %{{.+}} eps 1.000000e-05 : tensor<4x8xf64>, tensor<8xf64>{{$}}
func.func @rms_norm_f16_f64(%x: tensor<4x8xf16>, %gamma: tensor<8xf16>, %xd: tensor<4x8xf64>, %gd: tensor<8xf64>)
    -> (tensor<4x8xf16>, tensor<4x8xf64>) {
  %y = uoe.rms_norm %x, %gamma eps 1.0e-5 : tensor<4x8xf16>, tensor<8xf16>
  %z = uoe.rms_norm %xd, %gd eps 1.0e-5 : tensor<4x8xf64>, tensor<8xf64>
  return %y, %z : tensor<4x8xf16>, tensor<4x8xf64>
}
