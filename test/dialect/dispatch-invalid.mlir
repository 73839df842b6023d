// RUN: uoe-opt %s -split-input-file -verify-diagnostics

// Tests that the input must have rank 3 ([R, N, d]).
func.func @dispatch_c1(%x: tensor<64x32xf32>, %pos: tensor<3x4x8xi64>) -> tensor<3x4x8x32xf32> {
  // expected-error @+1 {{'uoe.dispatch' op input must have rank 3 ([R, N, d]), but it is 'tensor<64x32xf32>'}}
  %y = uoe.dispatch %x, %pos patch 1 : tensor<64x32xf32>, tensor<3x4x8xi64> -> tensor<3x4x8x32xf32>
  return %y : tensor<3x4x8x32xf32>
}

// -----

// Tests that positions must have rank 3 ([E, R, L]).
func.func @dispatch_c1_b(%x: tensor<4x16x32xf32>, %pos: tensor<3x32xi64>) -> tensor<3x4x8x32xf32> {
  // expected-error @+1 {{'uoe.dispatch' op positions must have rank 3 ([E, R, L]), but it is 'tensor<3x32xi64>'}}
  %y = uoe.dispatch %x, %pos patch 1 : tensor<4x16x32xf32>, tensor<3x32xi64> -> tensor<3x4x8x32xf32>
  return %y : tensor<3x4x8x32xf32>
}

// -----

// Tests that positions must have the input's row count R.
func.func @dispatch_c2(%x: tensor<4x16x32xf32>, %pos: tensor<3x2x8xi64>) -> tensor<3x2x8x32xf32> {
  // expected-error @+1 {{'uoe.dispatch' op positions has 2 rows but input has 4 (input: 'tensor<4x16x32xf32>', positions: 'tensor<3x2x8xi64>')}}
  %y = uoe.dispatch %x, %pos patch 1 : tensor<4x16x32xf32>, tensor<3x2x8xi64> -> tensor<3x2x8x32xf32>
  return %y : tensor<3x2x8x32xf32>
}

// -----

// Tests that the patch size must be at least 1.
func.func @dispatch_c3(%x: tensor<4x16x32xf32>, %pos: tensor<3x4x8xi64>) -> tensor<3x4x8x32xf32> {
  // expected-error @+1 {{'uoe.dispatch' op patch size (0) must be at least 1}}
  %y = uoe.dispatch %x, %pos patch 0 : tensor<4x16x32xf32>, tensor<3x4x8xi64> -> tensor<3x4x8x32xf32>
  return %y : tensor<3x4x8x32xf32>
}

// -----

// Tests that the patch size must divide the token count N.
func.func @dispatch_c3_b(%x: tensor<4x16x32xf32>, %pos: tensor<3x4x8xi64>) -> tensor<3x4x24x32xf32> {
  // expected-error @+1 {{'uoe.dispatch' op patch size (3) must divide the token count N (16)}}
  %y = uoe.dispatch %x, %pos patch 3 : tensor<4x16x32xf32>, tensor<3x4x8xi64> -> tensor<3x4x24x32xf32>
  return %y : tensor<3x4x24x32xf32>
}

// -----

// Tests that the result must be [E, R, L*P, d] (here d differs).
func.func @dispatch_c4(%x: tensor<4x16x32xf32>, %pos: tensor<3x4x8xi64>) -> tensor<3x4x8x16xf32> {
  // expected-error @+1 {{'uoe.dispatch' op result must be [E, R, L*P, d] = [3, 4, 8, 32], but it is 'tensor<3x4x8x16xf32>'}}
  %y = uoe.dispatch %x, %pos patch 1 : tensor<4x16x32xf32>, tensor<3x4x8xi64> -> tensor<3x4x8x16xf32>
  return %y : tensor<3x4x8x16xf32>
}

// -----

// Tests that patches multiply the rows: L * P = 8 * 2 = 16, not 8.
func.func @dispatch_c4_b(%x: tensor<4x16x32xf32>, %pos: tensor<3x4x8xi64>) -> tensor<3x4x8x32xf32> {
  // expected-error @+1 {{'uoe.dispatch' op result must be [E, R, L*P, d] = [3, 4, 16, 32], but it is 'tensor<3x4x8x32xf32>'}}
  %y = uoe.dispatch %x, %pos patch 2 : tensor<4x16x32xf32>, tensor<3x4x8xi64> -> tensor<3x4x8x32xf32>
  return %y : tensor<3x4x8x32xf32>
}

// -----

// Tests that a dynamic L needs a dynamic row count.
func.func @dispatch_c4_c(%x: tensor<4x16x32xf32>, %pos: tensor<3x4x?xi64>) -> tensor<3x4x8x32xf32> {
  // expected-error @+1 {{'uoe.dispatch' op result must be [E, R, L*P, d] = [3, 4, ?, 32], but it is 'tensor<3x4x8x32xf32>'}}
  %y = uoe.dispatch %x, %pos patch 1 : tensor<4x16x32xf32>, tensor<3x4x?xi64> -> tensor<3x4x8x32xf32>
  return %y : tensor<3x4x8x32xf32>
}

// -----

// Tests that a static L needs a static row count.
func.func @dispatch_c4_d(%x: tensor<4x16x32xf32>, %pos: tensor<3x4x8xi64>) -> tensor<3x4x?x32xf32> {
  // expected-error @+1 {{'uoe.dispatch' op result must be [E, R, L*P, d] = [3, 4, 8, 32], but it is 'tensor<3x4x?x32xf32>'}}
  %y = uoe.dispatch %x, %pos patch 1 : tensor<4x16x32xf32>, tensor<3x4x8xi64> -> tensor<3x4x?x32xf32>
  return %y : tensor<3x4x?x32xf32>
}

// -----

// Tests that the result must have the element type of the input.
func.func @dispatch_c4_e(%x: tensor<4x16x32xf32>, %pos: tensor<3x4x8xi64>) -> tensor<3x4x8x32xf16> {
  // expected-error @+1 {{'uoe.dispatch' op element types differ: input has 'f32' but result has 'f16'}}
  %y = uoe.dispatch %x, %pos patch 1 : tensor<4x16x32xf32>, tensor<3x4x8xi64> -> tensor<3x4x8x32xf16>
  return %y : tensor<3x4x8x32xf16>
}

// -----

// Tests that i32 positions are rejected by the operand type constraint (i64 only).
func.func @dispatch_i32_positions(%x: tensor<4x16x32xf32>, %pos: tensor<3x4x8xi32>) -> tensor<3x4x8x32xf32> {
  // expected-error @+1 {{'uoe.dispatch' op operand #1 must be ranked tensor of 64-bit signless integer values, but got 'tensor<3x4x8xi32>'}}
  %y = uoe.dispatch %x, %pos patch 1 : tensor<4x16x32xf32>, tensor<3x4x8xi32> -> tensor<3x4x8x32xf32>
  return %y : tensor<3x4x8x32xf32>
}

// -----

// Tests that an integer input is rejected by the operand type constraint.
func.func @dispatch_int_input(%x: tensor<4x16x32xi8>, %pos: tensor<3x4x8xi64>) -> tensor<3x4x8x32xf32> {
  // expected-error @+1 {{'uoe.dispatch' op operand #0 must be ranked tensor of 16-bit float or bfloat16 type or 32-bit float or 64-bit float values, but got 'tensor<4x16x32xi8>'}}
  %y = uoe.dispatch %x, %pos patch 1 : tensor<4x16x32xi8>, tensor<3x4x8xi64> -> tensor<3x4x8x32xf32>
  return %y : tensor<3x4x8x32xf32>
}
