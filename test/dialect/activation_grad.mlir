// RUN: uoe-opt %s -split-input-file | uoe-opt -split-input-file | FileCheck %s

// Tests that the activation gradient round-trips; the input gradient has the
// input's type.
// CHECK-LABEL: func.func @activation_grad_gelu
// CHECK-SAME: ([[Z:%.+]]: tensor<4x8x16xf32>, [[DH:%.+]]: tensor<4x8x16xf32>)
// CHECK: [[DZ:%.+]] = uoe.activation_grad [[Z]], [[DH]] gelu : tensor<4x8x16xf32>, tensor<4x8x16xf32> -> tensor<4x8x16xf32>{{$}}
// CHECK-NEXT: return [[DZ]]
func.func @activation_grad_gelu(%z: tensor<4x8x16xf32>, %dh: tensor<4x8x16xf32>) -> tensor<4x8x16xf32> {
  %dz = uoe.activation_grad %z, %dh gelu : tensor<4x8x16xf32>, tensor<4x8x16xf32> -> tensor<4x8x16xf32>
  return %dz : tensor<4x8x16xf32>
}

// -----

// Tests that with swiglu the result gradient has half the input's width.
// CHECK-LABEL: func.func @activation_grad_swiglu
// CHECK: uoe.activation_grad %{{.+}}, %{{.+}} swiglu : tensor<2x?x16xf64>, tensor<2x?x8xf64> -> tensor<2x?x16xf64>{{$}}
func.func @activation_grad_swiglu(%z: tensor<2x?x16xf64>, %dh: tensor<2x?x8xf64>) -> tensor<2x?x16xf64> {
  %dz = uoe.activation_grad %z, %dh swiglu : tensor<2x?x16xf64>, tensor<2x?x8xf64> -> tensor<2x?x16xf64>
  return %dz : tensor<2x?x16xf64>
}
