// RUN: uoe-opt %s -split-input-file | uoe-opt -split-input-file | FileCheck %s

// Tests that a dispatch of single tokens round-trips: [R, N, d] and [E, R, L]
// give [E, R, L, d].
// CHECK-LABEL: func.func @dispatch_tokens
// CHECK-SAME: ([[X:%.+]]: tensor<4x16x32xf32>, [[POS:%.+]]: tensor<3x4x8xi64>)
// CHECK: [[XS:%.+]] = uoe.dispatch [[X]], [[POS]] patch 1 : tensor<4x16x32xf32>, tensor<3x4x8xi64> -> tensor<3x4x8x32xf32>{{$}}
// CHECK-NEXT: return [[XS]] : tensor<3x4x8x32xf32>
func.func @dispatch_tokens(%x: tensor<4x16x32xf32>, %pos: tensor<3x4x8xi64>) -> tensor<3x4x8x32xf32> {
  %xs = uoe.dispatch %x, %pos patch 1 : tensor<4x16x32xf32>, tensor<3x4x8xi64> -> tensor<3x4x8x32xf32>
  return %xs : tensor<3x4x8x32xf32>
}

// -----

// Tests that patches multiply the rows per expert (L * P = 2 * 4 = 8).
// CHECK-LABEL: func.func @dispatch_patches
// CHECK: [[XS:%.+]] = uoe.dispatch %{{.+}}, %{{.+}} patch 4 : tensor<2x16x8xbf16>, tensor<4x2x2xi64> -> tensor<4x2x8x8xbf16>{{$}}
// CHECK-NEXT: return [[XS]]
func.func @dispatch_patches(%x: tensor<2x16x8xbf16>, %pos: tensor<4x2x2xi64>) -> tensor<4x2x8x8xbf16> {
  %xs = uoe.dispatch %x, %pos patch 4 : tensor<2x16x8xbf16>, tensor<4x2x2xi64> -> tensor<4x2x8x8xbf16>
  return %xs : tensor<4x2x8x8xbf16>
}

// -----

// Tests that a dynamic capacity L gives a dynamic row count, also with patches.
// CHECK-LABEL: func.func @dispatch_dynamic
// CHECK: uoe.dispatch %{{.+}}, %{{.+}} patch 1 : tensor<4x16x32xf16>, tensor<3x4x?xi64> -> tensor<3x4x?x32xf16>{{$}}
// CHECK: uoe.dispatch %{{.+}}, %{{.+}} patch 2 : tensor<4x16x32xf16>, tensor<3x4x?xi64> -> tensor<3x4x?x32xf16>{{$}}
func.func @dispatch_dynamic(%x: tensor<4x16x32xf16>, %pos: tensor<3x4x?xi64>) -> (tensor<3x4x?x32xf16>, tensor<3x4x?x32xf16>) {
  %xs = uoe.dispatch %x, %pos patch 1 : tensor<4x16x32xf16>, tensor<3x4x?xi64> -> tensor<3x4x?x32xf16>
  %xp = uoe.dispatch %x, %pos patch 2 : tensor<4x16x32xf16>, tensor<3x4x?xi64> -> tensor<3x4x?x32xf16>
  return %xs, %xp : tensor<3x4x?x32xf16>, tensor<3x4x?x32xf16>
}
