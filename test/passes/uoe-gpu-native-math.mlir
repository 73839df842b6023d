// RUN: uoe-opt %s --uoe-gpu-native-math | FileCheck %s

// Tests that the libdevice calls with one PTX instruction become LLVM
// intrinsics and their unused declarations go, while other calls (expf)
// and declarations still in use stay.
// CHECK-NOT: llvm.func @__nv_fmaf
// CHECK-NOT: llvm.func @__nv_floor(
// CHECK: llvm.func @__nv_expf
// CHECK-LABEL: llvm.func @kernel
// CHECK: llvm.intr.fma(%{{.*}}, %{{.*}}, %{{.*}}) : (f32, f32, f32) -> f32
// CHECK: llvm.intr.floor(%{{.*}}) : (f64) -> f64
// CHECK: llvm.intr.ceil(%{{.*}}) : (f32) -> f32
// CHECK: llvm.intr.fabs(%{{.*}}) : (f32) -> f32
// CHECK: llvm.intr.sqrt(%{{.*}}) : (f32) -> f32
// CHECK: llvm.call @__nv_expf
llvm.func @__nv_fmaf(f32, f32, f32) -> f32
llvm.func @__nv_floor(f64) -> f64
llvm.func @__nv_ceilf(f32) -> f32
llvm.func @__nv_fabsf(f32) -> f32
llvm.func @__nv_sqrtf(f32) -> f32
llvm.func @__nv_expf(f32) -> f32
llvm.func @kernel(%a: f32, %b: f64) -> f32 {
  %0 = llvm.call @__nv_fmaf(%a, %a, %a) : (f32, f32, f32) -> f32
  %1 = llvm.call @__nv_floor(%b) : (f64) -> f64
  %2 = llvm.call @__nv_ceilf(%0) : (f32) -> f32
  %3 = llvm.call @__nv_fabsf(%2) : (f32) -> f32
  %4 = llvm.call @__nv_sqrtf(%3) : (f32) -> f32
  %5 = llvm.call @__nv_expf(%4) : (f32) -> f32
  llvm.return %5 : f32
}
