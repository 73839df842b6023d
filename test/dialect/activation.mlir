// RUN: uoe-opt %s -split-input-file | uoe-opt -split-input-file | FileCheck %s

// Tests that an elementwise activation round-trips with its result type.
// CHECK-LABEL: func.func @activation_gelu
// CHECK-SAME: ([[Z:%.+]]: tensor<4x8x16xf32>)
// CHECK: [[H:%.+]] = uoe.activation [[Z]] gelu : tensor<4x8x16xf32> -> tensor<4x8x16xf32>{{$}}
// CHECK-NEXT: return [[H]]
func.func @activation_gelu(%z: tensor<4x8x16xf32>) -> tensor<4x8x16xf32> {
  %h = uoe.activation %z gelu : tensor<4x8x16xf32> -> tensor<4x8x16xf32>
  return %h : tensor<4x8x16xf32>
}

// -----

// Tests that swiglu halves the last dimension and that a dynamic leading
// dimension and f64 are accepted.
// CHECK-LABEL: func.func @activation_swiglu
// CHECK: uoe.activation %{{.+}} swiglu : tensor<3x?x16xf64> -> tensor<3x?x8xf64>{{$}}
func.func @activation_swiglu(%z: tensor<3x?x16xf64>) -> tensor<3x?x8xf64> {
  %h = uoe.activation %z swiglu : tensor<3x?x16xf64> -> tensor<3x?x8xf64>
  return %h : tensor<3x?x8xf64>
}

// -----

// Tests that the other activations parse and print as bare keywords.
// CHECK-LABEL: func.func @activation_keywords
// CHECK: uoe.activation %{{.+}} none :
// CHECK: uoe.activation %{{.+}} gelu_tanh :
// CHECK: uoe.activation %{{.+}} relu :
// CHECK: uoe.activation %{{.+}} silu :
func.func @activation_keywords(%z: tensor<8xf32>) -> (tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) {
  %a = uoe.activation %z none : tensor<8xf32> -> tensor<8xf32>
  %b = uoe.activation %z gelu_tanh : tensor<8xf32> -> tensor<8xf32>
  %c = uoe.activation %z relu : tensor<8xf32> -> tensor<8xf32>
  %d = uoe.activation %z silu : tensor<8xf32> -> tensor<8xf32>
  return %a, %b, %c, %d : tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>
}
