// RUN: uoe-opt %s --uoe-parallel-loops-to-gpu | FileCheck %s
// RUN: uoe-opt %s --uoe-parallel-loops-to-gpu --canonicalize --gpu-kernel-outlining --uoe-parallel-loops-to-gpu=merge-modules | FileCheck %s --check-prefix=MERGED
// RUN: uoe-opt %s --uoe-parallel-loops-to-gpu --canonicalize --gpu-kernel-outlining --uoe-parallel-loops-to-gpu=merge-modules | grep -a -c "gpu.module @" | FileCheck %s --check-prefix=ONE
// ONE: {{^1$}}
// RUN: not uoe-opt %s --uoe-parallel-loops-to-gpu=block-size=2048 2>&1 | FileCheck %s --check-prefix=BAD

// Tests that every outermost parallel nest becomes one guarded launch of
// 256-thread blocks over its linearised iterations (innermost dimension
// fastest), nested parallel loops become sequential loops of each thread,
// host globals read by a kernel are copied first, and the outlined kernels
// end up in one gpu.module.

// CHECK-LABEL: func.func @nest
// CHECK-SAME: (%[[A:.*]]: memref<?x48xf32>, %[[B:.*]]: memref<?x48xf32>)
// CHECK: memref.dim %[[A]]
// CHECK: %[[T:.*]] = arith.constant 256 : index
// CHECK: %[[N:.*]] = arith.muli %{{.*}}, %{{.*}} : index
// CHECK-NEXT: %[[ANY:.*]] = arith.cmpi sgt, %[[N]]
// CHECK: scf.if %[[ANY]] {
// CHECK: %[[G:.*]] = arith.ceildivsi %[[N]], %[[T]]
// CHECK: gpu.launch blocks(%[[BX:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %[[G]], %{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}) threads(%[[TX:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %[[T]],
// CHECK: %[[BASE:.*]] = arith.muli %[[BX]], %[[T]]
// CHECK: %[[LIN:.*]] = arith.addi %[[BASE]], %[[TX]]
// CHECK: %[[IN:.*]] = arith.cmpi slt, %[[LIN]], %[[N]]
// CHECK: scf.if %[[IN]] {
// CHECK: arith.remsi %[[LIN]]
// CHECK: arith.divsi %[[LIN]]
// CHECK: memref.load %[[A]]
// CHECK: memref.store
// CHECK-NOT: scf.parallel
// CHECK: gpu.terminator
func.func @nest(%a: memref<?x48xf32>, %b: memref<?x48xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c48 = arith.constant 48 : index
  %m = memref.dim %a, %c0 : memref<?x48xf32>
  scf.parallel (%i, %j) = (%c0, %c0) to (%m, %c48) step (%c1, %c1) {
    %x = memref.load %a[%i, %j] : memref<?x48xf32>
    %y = arith.mulf %x, %x : f32
    memref.store %y, %b[%i, %j] : memref<?x48xf32>
    scf.reduce
  }
  return
}

// CHECK-LABEL: func.func @inner_and_global
// CHECK: %[[GLOBAL:.*]] = memref.get_global @table
// CHECK: %[[COPY:.*]] = memref.alloc() : memref<4xf32>
// CHECK: memref.copy %[[GLOBAL]], %[[COPY]]
// CHECK: gpu.launch
// CHECK: scf.for
// CHECK: memref.load %[[COPY]]
// CHECK: gpu.terminator
// CHECK: memref.dealloc %[[COPY]]
memref.global "private" constant @table : memref<4xf32> = dense<[1.0, 2.0, 3.0, 4.0]>
func.func @inner_and_global(%out: memref<8x4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %t = memref.get_global @table : memref<4xf32>
  scf.parallel (%i) = (%c0) to (%c8) step (%c1) {
    scf.parallel (%j) = (%c0) to (%c4) step (%c1) {
      %v = memref.load %t[%j] : memref<4xf32>
      memref.store %v, %out[%i, %j] : memref<8x4xf32>
      scf.reduce
    }
    scf.reduce
  }
  return
}

// MERGED-DAG: gpu.module @uoe_kernels
// MERGED-DAG: gpu.func @nest_kernel(
// MERGED-DAG: gpu.func @inner_and_global_kernel(
// MERGED-DAG: gpu.launch_func @uoe_kernels::@nest_kernel
// MERGED-DAG: gpu.launch_func @uoe_kernels::@inner_and_global_kernel

// BAD: block-size must be in [1, 1024], not 2048
