// RUN: uoe-opt %s --uoe-gpu-pipeline | FileCheck %s
// RUN: uoe-opt %s --uoe-gpu-pipeline=chip=sm_80 | FileCheck %s --check-prefix=SM80
// Without a CUDA toolkit (no libdevice) the kernels still have every
// function they call: the approximations' fma and floor are PTX instructions.
// RUN: uoe-opt %s --uoe-gpu-pipeline=toolkit=/nonexistent | FileCheck %s --check-prefix=NOTOOLKIT
// NOTOOLKIT: gpu.binary @uoe_kernels
// NOTOOLKIT-NOT: .extern .func
// NOTOOLKIT-SAME: fma.rn.f32

// Tests that the GPU pipeline takes a UoME block to host code in the LLVM
// dialect: no uoe, linalg, scf or memref op left, every loop nest a launch
// of a kernel in the one gpu.binary (PTX for sm_90 by default), GEMMs as
// calls of the runtime's uoe_sgemm_batched (cuBLAS in the cuda
// runtime), buffers from _mlir_memref_to_llvm_alloc (managed memory there).
// CHECK-NOT: uoe.
// CHECK-NOT: linalg.
// CHECK-NOT: scf.
// CHECK-NOT: gpu.module
// CHECK-LABEL: llvm.func @forward
// CHECK: llvm.call @_mlir_memref_to_llvm_alloc
// CHECK: gpu.launch_func @uoe_kernels::@forward_kernel blocks in
// CHECK: llvm.call @uoe_sgemm_batched
// CHECK: gpu.binary @uoe_kernels [#gpu.object<#nvvm.target<O = 3, chip = "sm_90">
// CHECK-SAME: .target sm_90
// CHECK-SAME: .visible .entry forward_kernel(
// SM80: gpu.binary @uoe_kernels [#gpu.object<#nvvm.target<O = 3, chip = "sm_80">
// SM80-SAME: .target sm_80
func.func @forward(%x: tensor<16x4x32xf32>, %wg: tensor<4x32xf32>, %bg: tensor<4xf32>, %w1: tensor<4x32x16xf32>, %b1: tensor<4x16xf32>, %w2: tensor<4x16x32xf32>, %b2: tensor<4x32xf32>) -> tensor<16x4x32xf32> attributes {llvm.emit_c_interface} {
  %y = uoe.uome %x, router(%wg, %bg), up(%w1, %b1), down(%w2, %b2) top 2 capacity 0.5 activation gelu union : tensor<16x4x32xf32>, tensor<4x32xf32>, tensor<4xf32>, tensor<4x32x16xf32>, tensor<4x16xf32>, tensor<4x16x32xf32>, tensor<4x32xf32>
  return %y : tensor<16x4x32xf32>
}
