// RUN: uoe-opt %s -split-input-file | uoe-opt -split-input-file | FileCheck %s
// RUN: uoe-opt %s -split-input-file -canonicalize | FileCheck %s --check-prefix=CANON

// Tests that cached attention and its kernel form round-trip.
// CHECK-LABEL: func.func @cached
// CHECK-SAME: ([[X:%.+]]: tensor<2x3x32xf32>, [[WQKV:%.+]]: tensor<3x32x32xf32>, [[BQKV:%.+]]: tensor<3x32xf32>, [[WO:%.+]]: tensor<32x32xf32>, [[BO:%.+]]: tensor<32xf32>, [[S:%.+]]: tensor<2xi64>, [[C:%.+]]: i64, [[L:%.+]]: i64)
// CHECK: [[Y:%.+]] = uoe.cached_attention [[X]], qkv([[WQKV]], [[BQKV]]), out([[WO]], [[BO]]) start [[S]] cache [[C]] layer [[L]] heads 4 : tensor<2x3x32xf32>, tensor<3x32x32xf32>, tensor<3x32xf32>, tensor<32x32xf32>, tensor<32xf32>, tensor<2xi64>
// CHECK: uoe.kv_attend [[Y]], [[Y]], [[Y]] start [[S]] cache [[C]] layer [[L]] heads 2 {scale = 1.250000e-01 : f64} : tensor<2x3x32xf32>, tensor<2xi64>
func.func @cached(%x: tensor<2x3x32xf32>, %wqkv: tensor<3x32x32xf32>, %bqkv: tensor<3x32xf32>,
                  %wo: tensor<32x32xf32>, %bo: tensor<32xf32>, %start: tensor<2xi64>, %cache: i64, %layer: i64) -> tensor<2x3x32xf32> {
  %y = uoe.cached_attention %x, qkv(%wqkv, %bqkv), out(%wo, %bo) start %start cache %cache layer %layer heads 4
      : tensor<2x3x32xf32>, tensor<3x32x32xf32>, tensor<3x32xf32>, tensor<32x32xf32>, tensor<32xf32>, tensor<2xi64>
  %o = uoe.kv_attend %y, %y, %y start %start cache %cache layer %layer heads 2 {scale = 0.125 : f64}
      : tensor<2x3x32xf32>, tensor<2xi64>
  return %o : tensor<2x3x32xf32>
}

// -----

// Tests that the ops read and write the cache: an unused result is not
// removed (canonicalize keeps both).
// CANON-LABEL: func.func @kept
// CANON: uoe.cached_attention
// CANON: uoe.kv_attend
func.func @kept(%x: tensor<1x1x8xf32>, %wqkv: tensor<3x8x8xf32>, %bqkv: tensor<3x8xf32>,
                %wo: tensor<8x8xf32>, %bo: tensor<8xf32>, %start: tensor<1xi64>, %cache: i64, %layer: i64) {
  %y = uoe.cached_attention %x, qkv(%wqkv, %bqkv), out(%wo, %bo) start %start cache %cache layer %layer heads 2
      : tensor<1x1x8xf32>, tensor<3x8x8xf32>, tensor<3x8xf32>, tensor<8x8xf32>, tensor<8xf32>, tensor<1xi64>
  %o = uoe.kv_attend %x, %x, %x start %start cache %cache layer %layer heads 2 : tensor<1x1x8xf32>, tensor<1xi64>
  return
}

// -----

// Tests that cached SMHA and a selected kv_attend round-trip.
// CHECK-LABEL: func.func @cached_smha
// CHECK: uoe.cached_smha %arg0, router(%arg1, %arg2), qkv(%arg3, %arg4), out(%arg5, %arg6) key_padding %arg7 start %arg8 cache %arg9 layer %arg9 heads 4 top 1 rope original gated : tensor<2x1x32xf32>, tensor<2x32xf32>, tensor<2xf32>, tensor<3x2x32x16xf32>, tensor<3x2x16xf32>, tensor<2x16x32xf32>, tensor<2x32xf32>, tensor<2x1xi1>, tensor<2xi64>
// CHECK: uoe.kv_attend %arg10, %arg10, %arg10 start %arg8 selected(%arg11, %arg12) cache %arg9 layer %arg9 heads 2 rope original : tensor<4x?x16xf32>, tensor<2xi64>, tensor<4x?xi64>, tensor<4x1xi1>
func.func @cached_smha(%x: tensor<2x1x32xf32>, %wg: tensor<2x32xf32>, %bg: tensor<2xf32>, %wqkv: tensor<3x2x32x16xf32>,
                       %bqkv: tensor<3x2x16xf32>, %wo: tensor<2x16x32xf32>, %bo: tensor<2x32xf32>, %kp: tensor<2x1xi1>,
                       %start: tensor<2xi64>, %cache: i64, %q: tensor<4x?x16xf32>, %pos: tensor<4x?xi64>, %mask: tensor<4x1xi1>) {
  %y = uoe.cached_smha %x, router(%wg, %bg), qkv(%wqkv, %bqkv), out(%wo, %bo) key_padding %kp start %start cache %cache layer %cache
      heads 4 top 1 rope original gated
      : tensor<2x1x32xf32>, tensor<2x32xf32>, tensor<2xf32>, tensor<3x2x32x16xf32>, tensor<3x2x16xf32>, tensor<2x16x32xf32>, tensor<2x32xf32>, tensor<2x1xi1>, tensor<2xi64>
  %o = uoe.kv_attend %q, %q, %q start %start selected(%pos, %mask) cache %cache layer %cache heads 2 rope original
      : tensor<4x?x16xf32>, tensor<2xi64>, tensor<4x?xi64>, tensor<4x1xi1>
  return
}
