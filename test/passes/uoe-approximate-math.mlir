// RUN: uoe-opt %s -split-input-file --uoe-approximate-math | FileCheck %s

// Tests that f32 exp, erf and tanh become polynomial arithmetic.
// CHECK-LABEL: func.func @f32
// CHECK-NOT: math.exp
// CHECK-NOT: math.erf
// CHECK-NOT: math.tanh
// CHECK: math.fma
func.func @f32(%x: f32) -> (f32, f32, f32) {
  %e = math.exp %x : f32
  %r = math.erf %x : f32
  %t = math.tanh %x : f32
  return %e, %r, %t : f32, f32, f32
}

// -----

// Tests that f64 functions (the rotary tables) are left to libm.
// CHECK-LABEL: func.func @f64
// CHECK: math.exp %{{.+}} : f64
// CHECK: math.cos %{{.+}} : f64
func.func @f64(%x: f64) -> (f64, f64) {
  %e = math.exp %x : f64
  %c = math.cos %x : f64
  return %e, %c : f64, f64
}
