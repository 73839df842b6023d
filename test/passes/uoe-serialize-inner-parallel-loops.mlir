// RUN: uoe-opt %s -split-input-file --uoe-serialize-inner-parallel-loops=min-parallel-work=1 | FileCheck %s
// RUN: uoe-opt %s -split-input-file --uoe-serialize-inner-parallel-loops | FileCheck %s --check-prefix=SMALL

// Tests that a two-dimensional parallel loop keeps its outer dimension
// parallel and runs the inner one as a sequential loop.
// CHECK-LABEL: func.func @two_dims
// CHECK: scf.parallel (%[[I:.*]]) = (%{{.*}}) to (%{{.*}}) step (%{{.*}}) {
// CHECK-NEXT: scf.for %[[J:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK-NEXT: memref.load %{{.*}}[%[[I]], %[[J]]]
// CHECK-NOT: scf.parallel
// With the default threshold, 32 iterations are too few to fork for.
// SMALL-LABEL: func.func @two_dims
// SMALL-NOT: scf.parallel
// SMALL: scf.for
// SMALL: scf.for
func.func @two_dims(%a: memref<4x8xf32>, %b: memref<4x8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  scf.parallel (%i, %j) = (%c0, %c0) to (%c4, %c8) step (%c1, %c1) {
    %v = memref.load %a[%i, %j] : memref<4x8xf32>
    memref.store %v, %b[%i, %j] : memref<4x8xf32>
  }
  return
}

// -----

// Tests that a parallel loop nested in another one becomes sequential, and
// that a one-dimensional outermost loop is left alone.
// CHECK-LABEL: func.func @nested
// SMALL-LABEL: func.func @nested
// CHECK: scf.parallel (%{{.*}}) = (%{{.*}}) to (%{{.*}}) step (%{{.*}}) {
// CHECK-NEXT: scf.for
// CHECK-NOT: scf.parallel
func.func @nested(%a: memref<4x8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %f = arith.constant 1.0 : f32
  scf.parallel (%i) = (%c0) to (%c4) step (%c1) {
    scf.parallel (%j) = (%c0) to (%c8) step (%c1) {
      memref.store %f, %a[%i, %j] : memref<4x8xf32>
    }
  }
  return
}

// -----

// Tests that a parallel loop with a reduction is not changed.
// CHECK-LABEL: func.func @reduction
// SMALL-LABEL: func.func @reduction
// SMALL: scf.parallel
// CHECK: scf.parallel (%{{.*}}, %{{.*}}) = {{.*}} init
func.func @reduction(%a: memref<4x8xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %zero = arith.constant 0.0 : f32
  %sum = scf.parallel (%i, %j) = (%c0, %c0) to (%c4, %c8) step (%c1, %c1) init (%zero) -> f32 {
    %v = memref.load %a[%i, %j] : memref<4x8xf32>
    scf.reduce(%v : f32) {
    ^bb0(%x: f32, %y: f32):
      %s = arith.addf %x, %y : f32
      scf.reduce.return %s : f32
    }
  }
  return %sum : f32
}

// -----

// Tests that a nest with dynamic bounds stays parallel whatever the
// threshold, and that a large static nest does too.
// CHECK-LABEL: func.func @dynamic
// SMALL-LABEL: func.func @dynamic
// SMALL: scf.parallel
// SMALL: scf.parallel
func.func @dynamic(%a: memref<?x8xf32>, %b: memref<512x512xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %c512 = arith.constant 512 : index
  %f = arith.constant 1.0 : f32
  scf.parallel (%i, %j) = (%c0, %c0) to (%n, %c8) step (%c1, %c1) {
    memref.store %f, %a[%i, %j] : memref<?x8xf32>
  }
  scf.parallel (%i, %j) = (%c0, %c0) to (%c512, %c512) step (%c1, %c1) {
    memref.store %f, %b[%i, %j] : memref<512x512xf32>
  }
  return
}
