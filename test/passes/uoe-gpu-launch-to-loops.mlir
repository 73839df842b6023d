// RUN: uoe-opt %s --uoe-gpu-launch-to-loops --split-input-file --verify-diagnostics | FileCheck %s

// Tests that a launch becomes a parallel loop over its grid and block, with
// the block and thread ids as induction variables and the sizes as the
// launch's operands.
// CHECK-LABEL: func.func @kernel
// CHECK-SAME: (%[[OUT:.*]]: memref<?xindex>, %[[G:.*]]: index)
// CHECK: %[[C256:.*]] = arith.constant 256 : index
// CHECK: scf.parallel (%[[BX:.*]], %{{.*}}, %{{.*}}, %[[TX:.*]], %{{.*}}, %{{.*}}) = (%{{.*}}) to (%[[G]], %{{.*}}, %{{.*}}, %[[C256]], %{{.*}}, %{{.*}})
// CHECK: %[[BASE:.*]] = arith.muli %[[BX]], %[[C256]]
// CHECK: %[[I:.*]] = arith.addi %[[BASE]], %[[TX]]
// CHECK: memref.store %[[G]], %[[OUT]][%[[I]]]
// CHECK-NOT: gpu.
func.func @kernel(%out: memref<?xindex>, %g: index) {
  %c1 = arith.constant 1 : index
  %c256 = arith.constant 256 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %g, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %base = arith.muli %bx, %sx : index
    %i = arith.addi %base, %tx : index
    memref.store %gx, %out[%i] : memref<?xindex>
    gpu.terminator
  }
  return
}

// -----

// A launch with dynamic shared memory cannot run as plain loops.
func.func @shared(%out: memref<?xindex>, %g: index, %bytes: i32) {
  %c1 = arith.constant 1 : index
  // expected-error @+1 {{only a synchronous launch with a one-block body and no shared memory can be emulated}}
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %g, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1)
             dynamic_shared_memory_size %bytes {
    memref.store %gx, %out[%bx] : memref<?xindex>
    gpu.terminator
  }
  return
}
