// RUN: uoe-opt %s -split-input-file -verify-diagnostics

// Tests that the input must have rank 4 ([E, R, L*P, d]).
func.func @combine_c1(%ys: tensor<3x32x32xf32>, %pos: tensor<3x4x8xi64>, %w: tensor<3x4x8xf32>) -> tensor<4x16x32xf32> {
  // expected-error @+1 {{'uoe.combine' op input must have rank 4 ([E, R, L*P, d]), but it is 'tensor<3x32x32xf32>'}}
  %y = uoe.combine %ys, %pos weights %w gated patch 1 : tensor<3x32x32xf32>, tensor<3x4x8xi64>, tensor<3x4x8xf32> -> tensor<4x16x32xf32>
  return %y : tensor<4x16x32xf32>
}

// -----

// Tests that positions must have rank 3 ([E, R, L]).
func.func @combine_c1_b(%ys: tensor<3x4x8x32xf32>, %pos: tensor<12x8xi64>) -> tensor<4x16x32xf32> {
  // expected-error @+1 {{'uoe.combine' op positions must have rank 3 ([E, R, L]), but it is 'tensor<12x8xi64>'}}
  %y = uoe.combine %ys, %pos union patch 1 : tensor<3x4x8x32xf32>, tensor<12x8xi64> -> tensor<4x16x32xf32>
  return %y : tensor<4x16x32xf32>
}

// -----

// Tests that the input and positions must agree on the expert count E.
func.func @combine_c2(%ys: tensor<2x4x8x32xf32>, %pos: tensor<3x4x8xi64>, %w: tensor<3x4x8xf32>) -> tensor<4x16x32xf32> {
  // expected-error @+1 {{'uoe.combine' op input must be [E, R, L*P, d] = [3, 4, 8, 32], but it is 'tensor<2x4x8x32xf32>'}}
  %y = uoe.combine %ys, %pos weights %w gated patch 1 : tensor<2x4x8x32xf32>, tensor<3x4x8xi64>, tensor<3x4x8xf32> -> tensor<4x16x32xf32>
  return %y : tensor<4x16x32xf32>
}

// -----

// Tests that the input and positions must agree on the row count R.
func.func @combine_c2_b(%ys: tensor<3x2x8x32xf32>, %pos: tensor<3x4x8xi64>) -> tensor<4x16x32xf32> {
  // expected-error @+1 {{'uoe.combine' op input must be [E, R, L*P, d] = [3, 4, 8, 32], but it is 'tensor<3x2x8x32xf32>'}}
  %y = uoe.combine %ys, %pos union patch 1 : tensor<3x2x8x32xf32>, tensor<3x4x8xi64> -> tensor<4x16x32xf32>
  return %y : tensor<4x16x32xf32>
}

// -----

// Tests that the input must have L * P = 8 * 2 = 16 rows per expert.
func.func @combine_c2_c(%ys: tensor<3x4x8x32xf32>, %pos: tensor<3x4x8xi64>, %w: tensor<3x4x8xf32>) -> tensor<4x16x32xf32> {
  // expected-error @+1 {{'uoe.combine' op input must be [E, R, L*P, d] = [3, 4, 16, 32], but it is 'tensor<3x4x8x32xf32>'}}
  %y = uoe.combine %ys, %pos weights %w gated patch 2 : tensor<3x4x8x32xf32>, tensor<3x4x8xi64>, tensor<3x4x8xf32> -> tensor<4x16x32xf32>
  return %y : tensor<4x16x32xf32>
}

// -----

// Tests that gated mode needs weights.
func.func @combine_c3(%ys: tensor<3x4x8x32xf32>, %pos: tensor<3x4x8xi64>) -> tensor<4x16x32xf32> {
  // expected-error @+1 {{'uoe.combine' op gated mode needs weights}}
  %y = uoe.combine %ys, %pos gated patch 1 : tensor<3x4x8x32xf32>, tensor<3x4x8xi64> -> tensor<4x16x32xf32>
  return %y : tensor<4x16x32xf32>
}

// -----

// Tests that union mode takes no weights.
func.func @combine_c3_b(%ys: tensor<3x4x8x32xf32>, %pos: tensor<3x4x8xi64>, %w: tensor<3x4x8xf32>) -> tensor<4x16x32xf32> {
  // expected-error @+1 {{'uoe.combine' op union mode takes no weights (every expert output is added with weight 1)}}
  %y = uoe.combine %ys, %pos weights %w union patch 1 : tensor<3x4x8x32xf32>, tensor<3x4x8xi64>, tensor<3x4x8xf32> -> tensor<4x16x32xf32>
  return %y : tensor<4x16x32xf32>
}

// -----

// Tests that weights must have the shape of positions.
func.func @combine_c4(%ys: tensor<3x4x8x32xf32>, %pos: tensor<3x4x8xi64>, %w: tensor<3x4x4xf32>) -> tensor<4x16x32xf32> {
  // expected-error @+1 {{'uoe.combine' op weights must be [E, R, L] = [3, 4, 8], but it is 'tensor<3x4x4xf32>'}}
  %y = uoe.combine %ys, %pos weights %w gated patch 1 : tensor<3x4x8x32xf32>, tensor<3x4x8xi64>, tensor<3x4x4xf32> -> tensor<4x16x32xf32>
  return %y : tensor<4x16x32xf32>
}

// -----

// Tests that the result must have rank 3 ([R, N, d]).
func.func @combine_c5(%ys: tensor<3x4x8x32xf32>, %pos: tensor<3x4x8xi64>, %w: tensor<3x4x8xf32>) -> tensor<64x32xf32> {
  // expected-error @+1 {{'uoe.combine' op result must have rank 3 ([R, N, d]), but it is 'tensor<64x32xf32>'}}
  %y = uoe.combine %ys, %pos weights %w gated patch 1 : tensor<3x4x8x32xf32>, tensor<3x4x8xi64>, tensor<3x4x8xf32> -> tensor<64x32xf32>
  return %y : tensor<64x32xf32>
}

// -----

// Tests that the result must have the row count R of positions.
func.func @combine_c5_b(%ys: tensor<3x4x8x32xf32>, %pos: tensor<3x4x8xi64>, %w: tensor<3x4x8xf32>) -> tensor<2x16x32xf32> {
  // expected-error @+1 {{'uoe.combine' op result must be [R, N, d] = [4, 16, 32], but it is 'tensor<2x16x32xf32>'}}
  %y = uoe.combine %ys, %pos weights %w gated patch 1 : tensor<3x4x8x32xf32>, tensor<3x4x8xi64>, tensor<3x4x8xf32> -> tensor<2x16x32xf32>
  return %y : tensor<2x16x32xf32>
}

// -----

// Tests that the result must have the width d of the input.
func.func @combine_c5_c(%ys: tensor<3x4x8x32xf32>, %pos: tensor<3x4x8xi64>, %w: tensor<3x4x8xf32>) -> tensor<4x16x16xf32> {
  // expected-error @+1 {{'uoe.combine' op result must be [R, N, d] = [4, 16, 32], but it is 'tensor<4x16x16xf32>'}}
  %y = uoe.combine %ys, %pos weights %w gated patch 1 : tensor<3x4x8x32xf32>, tensor<3x4x8xi64>, tensor<3x4x8xf32> -> tensor<4x16x16xf32>
  return %y : tensor<4x16x16xf32>
}

// -----

// Tests that the patch size must divide the token count N.
func.func @combine_c5_d(%ys: tensor<3x4x24x32xf32>, %pos: tensor<3x4x8xi64>, %w: tensor<3x4x8xf32>) -> tensor<4x16x32xf32> {
  // expected-error @+1 {{'uoe.combine' op patch size (3) must divide the token count N (16)}}
  %y = uoe.combine %ys, %pos weights %w gated patch 3 : tensor<3x4x24x32xf32>, tensor<3x4x8xi64>, tensor<3x4x8xf32> -> tensor<4x16x32xf32>
  return %y : tensor<4x16x32xf32>
}

// -----

// Tests that the patch size must be at least 1.
func.func @combine_c5_e(%ys: tensor<3x4x0x32xf32>, %pos: tensor<3x4x8xi64>) -> tensor<4x16x32xf32> {
  // expected-error @+1 {{'uoe.combine' op patch size (0) must be at least 1}}
  %y = uoe.combine %ys, %pos union patch 0 : tensor<3x4x0x32xf32>, tensor<3x4x8xi64> -> tensor<4x16x32xf32>
  return %y : tensor<4x16x32xf32>
}

// -----

// Tests that the weights must have the element type of the input.
func.func @combine_c5_f(%ys: tensor<3x4x8x32xf32>, %pos: tensor<3x4x8xi64>, %w: tensor<3x4x8xf16>) -> tensor<4x16x32xf32> {
  // expected-error @+1 {{'uoe.combine' op element types differ: input has 'f32' but weights has 'f16'}}
  %y = uoe.combine %ys, %pos weights %w gated patch 1 : tensor<3x4x8x32xf32>, tensor<3x4x8xi64>, tensor<3x4x8xf16> -> tensor<4x16x32xf32>
  return %y : tensor<4x16x32xf32>
}

// -----

// Tests that the result must have the element type of the input.
func.func @combine_c5_g(%ys: tensor<3x4x8x32xf32>, %pos: tensor<3x4x8xi64>, %w: tensor<3x4x8xf32>) -> tensor<4x16x32xbf16> {
  // expected-error @+1 {{'uoe.combine' op element types differ: input has 'f32' but result has 'bf16'}}
  %y = uoe.combine %ys, %pos weights %w gated patch 1 : tensor<3x4x8x32xf32>, tensor<3x4x8xi64>, tensor<3x4x8xf32> -> tensor<4x16x32xbf16>
  return %y : tensor<4x16x32xbf16>
}

// -----

// Tests that i32 positions are rejected by the operand type constraint (i64 only).
func.func @combine_i32_positions(%ys: tensor<3x4x8x32xf32>, %pos: tensor<3x4x8xi32>, %w: tensor<3x4x8xf32>) -> tensor<4x16x32xf32> {
  // expected-error @+1 {{'uoe.combine' op operand #1 must be ranked tensor of 64-bit signless integer values, but got 'tensor<3x4x8xi32>'}}
  %y = uoe.combine %ys, %pos weights %w gated patch 1 : tensor<3x4x8x32xf32>, tensor<3x4x8xi32>, tensor<3x4x8xf32> -> tensor<4x16x32xf32>
  return %y : tensor<4x16x32xf32>
}

// -----

// Tests that integer weights are rejected by the operand type constraint.
func.func @combine_int_weights(%ys: tensor<3x4x8x32xf32>, %pos: tensor<3x4x8xi64>, %w: tensor<3x4x8xi1>) -> tensor<4x16x32xf32> {
  // expected-error @+1 {{'uoe.combine' op operand #2 must be ranked tensor of 16-bit float or bfloat16 type or 32-bit float or 64-bit float values, but got 'tensor<3x4x8xi1>'}}
  %y = uoe.combine %ys, %pos weights %w gated patch 1 : tensor<3x4x8x32xf32>, tensor<3x4x8xi64>, tensor<3x4x8xi1> -> tensor<4x16x32xf32>
  return %y : tensor<4x16x32xf32>
}

// -----

// Tests that an unknown combine mode keyword is a parse error.
func.func @combine_unknown_mode(%ys: tensor<3x4x8x32xf32>, %pos: tensor<3x4x8xi64>, %w: tensor<3x4x8xf32>) -> tensor<4x16x32xf32> {
  // expected-error @+1 {{custom op 'uoe.combine' unknown combine 'sum'}}
  %y = uoe.combine %ys, %pos weights %w sum patch 1 : tensor<3x4x8x32xf32>, tensor<3x4x8xi64>, tensor<3x4x8xf32> -> tensor<4x16x32xf32>
  return %y : tensor<4x16x32xf32>
}

// -----

// Tests that a non-positive patch size is reported as such before the shapes
// that depend on it.
func.func @combine_c5_patch_first(%ys: tensor<3x4x8x32xf32>, %pos: tensor<3x4x8xi64>) {
  // expected-error @+1 {{'uoe.combine' op patch size (0) must be at least 1}}
  %y = uoe.combine %ys, %pos union patch 0 : tensor<3x4x8x32xf32>, tensor<3x4x8xi64> -> tensor<4x16x32xf32>
  return
}
