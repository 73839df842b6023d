func.func @f32(%x: f32) -> (f32, f32, f32) {
  %e = math.exp %x : f32
  %r = math.erf %x : f32
  %t = math.tanh %x : f32
  return %e, %r, %t : f32, f32, f32
}
func.func @f64(%x: f64) -> (f64, f64) {
  %e = math.exp %x : f64
  %c = math.cos %x : f64
  return %e, %c : f64, f64
}
