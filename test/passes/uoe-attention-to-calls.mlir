// RUN: uoe-opt %s -split-input-file --uoe-attention-to-calls | FileCheck %s

// Tests that causal attention with key padding and rotary embedding at the
// original positions becomes one call of the runtime's fused kernel: flags
// 11 (causal 1 | key padding 2 | original 8), E 2, R 4, the dynamic L, D 16,
// 2 heads, T 32 (the key padding's columns), scale 1/sqrt(8) and base 1e4
// as f64, the operands read in place (the mask as bytes) and a fresh result
// buffer of the dynamic L.
// CHECK-LABEL: func.func private @uoe_selective_attention(i64, i64, i64, i64, i64, i64, i64, f64, f64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64)
// CHECK-LABEL: func.func @causal
// CHECK-DAG: %[[T:.+]] = arith.constant 32 : i64
// CHECK-DAG: %[[BASE:.+]] = arith.constant 1.000000e+04 : f64
// CHECK-DAG: %[[SCALE:.+]] = arith.constant 0.35355339059327373 : f64
// CHECK-DAG: %[[D:.+]] = arith.constant 16 : i64
// CHECK-DAG: %[[R:.+]] = arith.constant 4 : i64
// CHECK-DAG: %[[E:.+]] = arith.constant 2 : i64
// CHECK-DAG: %[[FLAGS:.+]] = arith.constant 11 : i64
// CHECK: bufferization.to_buffer %arg0 read_only : tensor<2x4x?x16xf32> to memref<2x4x?x16xf32, strided<[?, ?, ?, 1], offset: ?>>
// CHECK: %[[L:.+]] = arith.index_cast %sizes#2 : index to i64
// CHECK: bufferization.to_buffer %arg4 read_only : tensor<4x32xi1> to memref<4x32xi1, strided<[?, 1], offset: ?>>
// CHECK: %[[LI:.+]] = arith.index_cast %[[L]] : i64 to index
// CHECK: %[[OUT:.+]] = memref.alloc(%[[LI]]) {alignment = 64 : i64} : memref<2x4x?x16xf32>
// CHECK: call @uoe_selective_attention(%[[FLAGS]], %[[E]], %[[R]], %[[L]], %[[D]], %[[E]], %[[T]], %[[SCALE]], %[[BASE]],
// CHECK: %[[RES:.+]] = bufferization.to_tensor %[[OUT]] restrict writable
// CHECK-NOT: uoe.selective_attention
// CHECK: return %[[RES]]
func.func @causal(%q: tensor<2x4x?x16xf32>, %k: tensor<2x4x?x16xf32>, %v: tensor<2x4x?x16xf32>, %pos: tensor<2x4x?xi64>, %pad: tensor<4x32xi1>) -> tensor<2x4x?x16xf32> {
  %o = uoe.selective_attention %q, %k, %v, %pos key_padding %pad heads 2 causal rope original : tensor<2x4x?x16xf32>, tensor<2x4x?x16xf32>, tensor<2x4x?x16xf32>, tensor<2x4x?xi64>, tensor<4x32xi1> -> tensor<2x4x?x16xf32>
  return %o : tensor<2x4x?x16xf32>
}

// -----

// Tests flags 4 (compacted rotary positions, no mask), T 0 without key
// padding, and an explicit scale.
// CHECK-LABEL: func.func @compacted
// CHECK-DAG: %[[ZERO:.+]] = arith.constant 0 : i64
// CHECK-DAG: %[[FLAGS:.+]] = arith.constant 4 : i64
// CHECK-DAG: %[[SCALE:.+]] = arith.constant 1.250000e-01 : f64
// CHECK: memref.alloc() {alignment = 64 : i64} : memref<1x2x8x8xf32>
// CHECK: call @uoe_selective_attention(%[[FLAGS]], {{.+}}, %[[ZERO]], %[[SCALE]],
func.func @compacted(%q: tensor<1x2x8x8xf32>, %pos: tensor<1x2x8xi64>) -> tensor<1x2x8x8xf32> {
  %o = uoe.selective_attention %q, %q, %q, %pos heads 1 rope compacted {scale = 0.125 : f64} : tensor<1x2x8x8xf32>, tensor<1x2x8x8xf32>, tensor<1x2x8x8xf32>, tensor<1x2x8xi64> -> tensor<1x2x8x8xf32>
  return %o : tensor<1x2x8x8xf32>
}

// -----

// Tests that attention on another element type is left to
// convert-uoe-to-linalg.
// CHECK-LABEL: func.func @f64
// CHECK: uoe.selective_attention
// CHECK-NOT: call @uoe_selective_attention
func.func @f64(%q: tensor<1x2x8x8xf64>, %pos: tensor<1x2x8xi64>) -> tensor<1x2x8x8xf64> {
  %o = uoe.selective_attention %q, %q, %q, %pos heads 1 : tensor<1x2x8x8xf64>, tensor<1x2x8x8xf64>, tensor<1x2x8x8xf64>, tensor<1x2x8xi64> -> tensor<1x2x8x8xf64>
  return %o : tensor<1x2x8x8xf64>
}

// -----

// Tests that dense attention runs on the kernel too: its selective form
// (one expert selecting every token, positions 0..T-1) with the q, k, v
// projections as single-expert GEMMs, then one call (flags 1: causal).
// CHECK-LABEL: func.func @dense
// CHECK-DAG: %[[FLAGS:.+]] = arith.constant 1 : i64
// CHECK-DAG: arith.constant dense<{{\[\[\[}}0, 1, 2, 3, 4, 5], [0, 1, 2, 3, 4, 5]]]> : tensor<1x2x6xi64>
// CHECK-COUNT-3: uoe.expert_matmul
// CHECK: call @uoe_selective_attention(%[[FLAGS]],
// CHECK-NOT: uoe.attention
func.func @dense(%x: tensor<2x6x16xf32>, %wqkv: tensor<3x16x16xf32>, %bqkv: tensor<3x16xf32>, %wo: tensor<16x16xf32>, %bo: tensor<16xf32>) -> tensor<2x6x16xf32> {
  %y = uoe.attention %x, qkv(%wqkv, %bqkv), out(%wo, %bo) heads 2 causal : tensor<2x6x16xf32>, tensor<3x16x16xf32>, tensor<3x16xf32>, tensor<16x16xf32>, tensor<16xf32>
  return %y : tensor<2x6x16xf32>
}

// -----

// Tests that the gradient becomes one call of the runtime's backward
// kernel: the forward's arguments (flags 1: causal), the result's gradient
// read in place, and three fresh buffers for dq, dk, dv.
// CHECK-LABEL: func.func private @uoe_selective_attention_grad(i64, i64, i64, i64, i64, i64, i64, f64, f64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64)
// CHECK-LABEL: func.func @gradient
// CHECK-DAG: %[[FLAGS:.+]] = arith.constant 1 : i64
// CHECK: bufferization.to_buffer %arg4 read_only
// CHECK: %[[DQ:.+]] = memref.alloc(%{{.+}}) {alignment = 64 : i64} : memref<2x4x?x16xf32>
// CHECK: %[[DK:.+]] = memref.alloc(%{{.+}}) {alignment = 64 : i64} : memref<2x4x?x16xf32>
// CHECK: %[[DV:.+]] = memref.alloc(%{{.+}}) {alignment = 64 : i64} : memref<2x4x?x16xf32>
// CHECK: call @uoe_selective_attention_grad(%[[FLAGS]],
// CHECK-DAG: %[[A:.+]] = bufferization.to_tensor %[[DQ]] restrict writable
// CHECK-DAG: %[[B:.+]] = bufferization.to_tensor %[[DK]] restrict writable
// CHECK-DAG: %[[C:.+]] = bufferization.to_tensor %[[DV]] restrict writable
// CHECK: return %[[A]], %[[B]], %[[C]]
func.func @gradient(%q: tensor<2x4x?x16xf32>, %k: tensor<2x4x?x16xf32>, %v: tensor<2x4x?x16xf32>, %pos: tensor<2x4x?xi64>, %do: tensor<2x4x?x16xf32>) -> (tensor<2x4x?x16xf32>, tensor<2x4x?x16xf32>, tensor<2x4x?x16xf32>) {
  %dq, %dk, %dv = uoe.selective_attention_grad %q, %k, %v, %pos, %do heads 2 causal : tensor<2x4x?x16xf32>, tensor<2x4x?xi64>
  return %dq, %dk, %dv : tensor<2x4x?x16xf32>, tensor<2x4x?x16xf32>, tensor<2x4x?x16xf32>
}

// -----

// Tests that kv_attend becomes one call of uoe_kv_attend: the cache and the
// layer as they come, flags 0, B 2, R 2, L 3, D 8, 2 heads, the scale
// 1/sqrt(4) and the rotary base as f64, q, k, v and start read in place,
// zeros for the selection, a fresh result buffer.
// CHECK-LABEL: func.func private @uoe_kv_attend(i64, i64, i64, i64, i64, i64, i64, i64, f64, f64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64)
// CHECK-LABEL: func.func @kv
// CHECK-SAME: %[[C:[a-z0-9]+]]: i64, %[[L:[a-z0-9]+]]: i64
// CHECK-DAG: %[[SCALE:.+]] = arith.constant 5.000000e-01 : f64
// CHECK-DAG: %[[BASE:.+]] = arith.constant 1.000000e+04 : f64
// CHECK-DAG: %[[D:.+]] = arith.constant 8 : i64
// CHECK-DAG: %[[T:.+]] = arith.constant 3 : i64
// CHECK-DAG: %[[B:.+]] = arith.constant 2 : i64
// CHECK-DAG: %[[ZERO:.+]] = arith.constant 0 : i64
// CHECK: bufferization.to_buffer %arg2 read_only : tensor<2xi64>
// CHECK: %[[OUT:.+]] = memref.alloc() {alignment = 64 : i64} : memref<2x3x8xf32>
// CHECK: call @uoe_kv_attend(%[[C]], %[[L]], %[[ZERO]], %[[B]], %[[B]], %[[T]], %[[D]], %[[B]], %[[SCALE]], %[[BASE]],
// CHECK-SAME: %[[ZERO]], %[[ZERO]], %[[ZERO]], %[[ZERO]], %[[ZERO]], %{{.+}}) : (
// CHECK: %[[RES:.+]] = bufferization.to_tensor %[[OUT]] restrict writable
// CHECK-NOT: uoe.kv_attend
// CHECK: return %[[RES]]
func.func @kv(%q: tensor<2x3x8xf32>, %k: tensor<2x3x8xf32>, %s: tensor<2xi64>, %c: i64, %l: i64) -> tensor<2x3x8xf32> {
  %o = uoe.kv_attend %q, %k, %k start %s cache %c layer %l heads 2 : tensor<2x3x8xf32>, tensor<2xi64>
  return %o : tensor<2x3x8xf32>
}

// -----

// Tests a selection (causal-safe SMHA): flags 3 (selected | rope original),
// R 4 of B 2, the dynamic L, the positions and the key padding (T 5) read in
// place, a result buffer of the dynamic L.
// CHECK-LABEL: func.func @kv_selected
// CHECK-DAG: %[[FLAGS:.+]] = arith.constant 3 : i64
// CHECK-DAG: %[[R:.+]] = arith.constant 4 : i64
// CHECK: bufferization.to_buffer %arg3 read_only : tensor<4x5xi1>
// CHECK: memref.alloc(%{{.+}}) {alignment = 64 : i64} : memref<4x?x16xf32>
// CHECK: call @uoe_kv_attend(%arg4, %arg4, %[[FLAGS]], %{{.+}}, %[[R]], %{{.+}},
func.func @kv_selected(%q: tensor<4x?x16xf32>, %s: tensor<2xi64>, %p: tensor<4x?xi64>, %kp: tensor<4x5xi1>, %c: i64) -> tensor<4x?x16xf32> {
  %o = uoe.kv_attend %q, %q, %q start %s selected(%p, %kp) cache %c layer %c heads 2 rope original
      : tensor<4x?x16xf32>, tensor<2xi64>, tensor<4x?xi64>, tensor<4x5xi1>
  return %o : tensor<4x?x16xf32>
}
