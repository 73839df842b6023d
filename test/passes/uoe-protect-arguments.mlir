// RUN: uoe-opt %s -split-input-file --uoe-protect-arguments | FileCheck %s

// Tests that tensor arguments become read-only for bufferization and that
// other arguments are left alone.
// CHECK-LABEL: func.func @forward
// CHECK-SAME: (%{{.*}}: tensor<2x8xf32> {bufferization.writable = false}, %{{.*}}: i64, %{{.*}}: tensor<8xf32> {bufferization.writable = false})
func.func @forward(%x: tensor<2x8xf32>, %n: i64, %b: tensor<8xf32>) -> tensor<2x8xf32> {
  return %x : tensor<2x8xf32>
}

// -----

// Tests that an argument marked writable keeps its marking, and that
// declarations (no body) are not changed.
// CHECK-LABEL: func.func @marked
// CHECK-SAME: {bufferization.writable = true}
// CHECK-LABEL: func.func private @external
// CHECK-NOT: writable
func.func @marked(%x: tensor<4xf32> {bufferization.writable = true}) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}
func.func private @external(tensor<4xf32>) -> tensor<4xf32>

// -----

// Tests that with the marking, an in-place update of an argument bufferizes
// into a copy: the argument's buffer is never written.
// RUN: uoe-opt %s -split-input-file --uoe-protect-arguments --one-shot-bufferize="bufferize-function-boundaries" | FileCheck %s --check-prefix=BUF
// CHECK-LABEL: func.func @in_place
// BUF-LABEL: func.func @in_place
// BUF-SAME: (%[[ARG:.*]]: memref<4xf32
// BUF: %[[NEW:.*]] = memref.alloc
// BUF: memref.copy %[[ARG]], %[[NEW]]
// BUF: memref.store %{{.*}}, %[[NEW]]
func.func @in_place(%x: tensor<4xf32>, %v: f32) -> tensor<4xf32> {
  %c0 = arith.constant 0 : index
  %y = tensor.insert %v into %x[%c0] : tensor<4xf32>
  return %y : tensor<4xf32>
}
