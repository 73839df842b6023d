// RUN: uoe-opt %s -split-input-file -verify-diagnostics

// Tests that scores must have rank 3 ([R, N, E]).
func.func @data_select_c1(%s: tensor<16x3xf32>) -> (tensor<3x4x8xi64>, tensor<3x4x8xf32>) {
  // expected-error @+1 {{'uoe.data_select' op scores must have rank 3 ([R, N, E]), but it is 'tensor<16x3xf32>'}}
  %a, %b = uoe.data_select %s patch 1 capacity 0.5 : tensor<16x3xf32> -> tensor<3x4x8xi64>, tensor<3x4x8xf32>
  return %a, %b : tensor<3x4x8xi64>, tensor<3x4x8xf32>
}

// -----

// Tests that the patch size must be at least 1.
func.func @data_select_c2(%s: tensor<4x16x3xf32>) -> (tensor<3x4x8xi64>, tensor<3x4x8xf32>) {
  // expected-error @+1 {{'uoe.data_select' op patch size (0) must be at least 1}}
  %a, %b = uoe.data_select %s patch 0 capacity 0.5 : tensor<4x16x3xf32> -> tensor<3x4x8xi64>, tensor<3x4x8xf32>
  return %a, %b : tensor<3x4x8xi64>, tensor<3x4x8xf32>
}

// -----

// Tests that the patch size must divide the token count N.
func.func @data_select_c2_b(%s: tensor<4x16x3xf32>) -> (tensor<3x4x8xi64>, tensor<3x4x8xf32>) {
  // expected-error @+1 {{'uoe.data_select' op patch size (3) must divide the token count N (16)}}
  %a, %b = uoe.data_select %s patch 3 capacity 0.5 : tensor<4x16x3xf32> -> tensor<3x4x8xi64>, tensor<3x4x8xf32>
  return %a, %b : tensor<3x4x8xi64>, tensor<3x4x8xf32>
}

// -----

// Tests that the capacity must be positive.
func.func @data_select_c3(%s: tensor<4x16x3xf32>) -> (tensor<3x4x8xi64>, tensor<3x4x8xf32>) {
  // expected-error @+1 {{'uoe.data_select' op capacity (0.000000e+00) must be positive}}
  %a, %b = uoe.data_select %s patch 1 capacity 0.0 : tensor<4x16x3xf32> -> tensor<3x4x8xi64>, tensor<3x4x8xf32>
  return %a, %b : tensor<3x4x8xi64>, tensor<3x4x8xf32>
}

// -----

// Tests that the capacity must select at least one patch (0.05 * 16 < 1).
func.func @data_select_c3_b(%s: tensor<4x16x3xf32>) -> (tensor<3x4x8xi64>, tensor<3x4x8xf32>) {
  // expected-error @+1 {{'uoe.data_select' op capacity (5.000000e-02) selects no patch of 16}}
  %a, %b = uoe.data_select %s patch 1 capacity 0.05 : tensor<4x16x3xf32> -> tensor<3x4x8xi64>, tensor<3x4x8xf32>
  return %a, %b : tensor<3x4x8xi64>, tensor<3x4x8xf32>
}

// -----

// Tests that the capacity must not select more patches than there are (1.5 * 16 / 4 > 4).
func.func @data_select_c3_c(%s: tensor<4x16x3xf32>) -> (tensor<3x4x8xi64>, tensor<3x4x8xf32>) {
  // expected-error @+1 {{'uoe.data_select' op capacity (1.500000e+00) selects 6 patches, more than the 4 patches there are}}
  %a, %b = uoe.data_select %s patch 4 capacity 1.5 : tensor<4x16x3xf32> -> tensor<3x4x8xi64>, tensor<3x4x8xf32>
  return %a, %b : tensor<3x4x8xi64>, tensor<3x4x8xf32>
}

// -----

// Tests that with a capacity, L must be floor(capacity * N / P) (here 8, not 4).
func.func @data_select_c4(%s: tensor<4x16x3xf32>) -> (tensor<3x4x4xi64>, tensor<3x4x4xf32>) {
  // expected-error @+1 {{'uoe.data_select' op capacity selects L = floor(capacity * N / P) = 8 patches, but positions is 'tensor<3x4x4xi64>'}}
  %a, %b = uoe.data_select %s patch 1 capacity 0.5 : tensor<4x16x3xf32> -> tensor<3x4x4xi64>, tensor<3x4x4xf32>
  return %a, %b : tensor<3x4x4xi64>, tensor<3x4x4xf32>
}

// -----

// Tests that with a capacity, L must be static, not `?`.
func.func @data_select_c4_b(%s: tensor<4x16x3xf32>) -> (tensor<3x4x?xi64>, tensor<3x4x?xf32>) {
  // expected-error @+1 {{'uoe.data_select' op capacity selects L = floor(capacity * N / P) = 8 patches, but positions is 'tensor<3x4x?xi64>'}}
  %a, %b = uoe.data_select %s patch 1 capacity 0.5 : tensor<4x16x3xf32> -> tensor<3x4x?xi64>, tensor<3x4x?xf32>
  return %a, %b : tensor<3x4x?xi64>, tensor<3x4x?xf32>
}

// -----

// Tests that with `dynamic`, L must be `?`.
func.func @data_select_c4_c(%s: tensor<4x16x3xf32>) -> (tensor<3x4x8xi64>, tensor<3x4x8xf32>) {
  // expected-error @+1 {{'uoe.data_select' op dynamic capacity needs a dynamic L ('?'), but positions is 'tensor<3x4x8xi64>'}}
  %a, %b = uoe.data_select %s patch 1 dynamic : tensor<4x16x3xf32> -> tensor<3x4x8xi64>, tensor<3x4x8xf32>
  return %a, %b : tensor<3x4x8xi64>, tensor<3x4x8xf32>
}

// -----

// Tests that positions must have rank 3 ([E, R, L]).
func.func @data_select_c4_d(%s: tensor<4x16x3xf32>) -> (tensor<12x8xi64>, tensor<12x8xf32>) {
  // expected-error @+1 {{'uoe.data_select' op positions must have rank 3 ([E, R, L]), but it is 'tensor<12x8xi64>'}}
  %a, %b = uoe.data_select %s patch 1 capacity 0.5 : tensor<4x16x3xf32> -> tensor<12x8xi64>, tensor<12x8xf32>
  return %a, %b : tensor<12x8xi64>, tensor<12x8xf32>
}

// -----

// Tests that positions must be [E, R, L] with E and R of scores.
func.func @data_select_c5(%s: tensor<4x16x3xf32>) -> (tensor<4x3x8xi64>, tensor<3x4x8xf32>) {
  // expected-error @+1 {{'uoe.data_select' op positions must be [E, R, L] = [3, 4, 8], but it is 'tensor<4x3x8xi64>'}}
  %a, %b = uoe.data_select %s patch 1 capacity 0.5 : tensor<4x16x3xf32> -> tensor<4x3x8xi64>, tensor<3x4x8xf32>
  return %a, %b : tensor<4x3x8xi64>, tensor<3x4x8xf32>
}

// -----

// Tests that weights must be [E, R, L] like positions.
func.func @data_select_c5_b(%s: tensor<4x16x3xf32>) -> (tensor<3x4x8xi64>, tensor<3x4x4xf32>) {
  // expected-error @+1 {{'uoe.data_select' op weights must be [E, R, L] = [3, 4, 8], but it is 'tensor<3x4x4xf32>'}}
  %a, %b = uoe.data_select %s patch 1 capacity 0.5 : tensor<4x16x3xf32> -> tensor<3x4x8xi64>, tensor<3x4x4xf32>
  return %a, %b : tensor<3x4x8xi64>, tensor<3x4x4xf32>
}

// -----

// Tests that with `dynamic`, weights must have a `?` L too.
func.func @data_select_c5_c(%s: tensor<4x16x3xf32>) -> (tensor<3x4x?xi64>, tensor<3x4x8xf32>) {
  // expected-error @+1 {{'uoe.data_select' op weights must be [E, R, L] = [3, 4, ?], but it is 'tensor<3x4x8xf32>'}}
  %a, %b = uoe.data_select %s patch 1 dynamic : tensor<4x16x3xf32> -> tensor<3x4x?xi64>, tensor<3x4x8xf32>
  return %a, %b : tensor<3x4x?xi64>, tensor<3x4x8xf32>
}

// -----

// Tests that weights must have the element type of scores.
func.func @data_select_c5_d(%s: tensor<4x16x3xf32>) -> (tensor<3x4x8xi64>, tensor<3x4x8xf16>) {
  // expected-error @+1 {{'uoe.data_select' op element types differ: scores has 'f32' but weights has 'f16'}}
  %a, %b = uoe.data_select %s patch 1 capacity 0.5 : tensor<4x16x3xf32> -> tensor<3x4x8xi64>, tensor<3x4x8xf16>
  return %a, %b : tensor<3x4x8xi64>, tensor<3x4x8xf16>
}

// -----

// Tests that i32 positions are rejected by the result type constraint (i64 only).
func.func @data_select_i32_positions(%s: tensor<4x16x3xf32>) -> (tensor<3x4x8xi32>, tensor<3x4x8xf32>) {
  // expected-error @+1 {{'uoe.data_select' op result #0 must be ranked tensor of 64-bit signless integer values, but got 'tensor<3x4x8xi32>'}}
  %a, %b = uoe.data_select %s patch 1 capacity 0.5 : tensor<4x16x3xf32> -> tensor<3x4x8xi32>, tensor<3x4x8xf32>
  return %a, %b : tensor<3x4x8xi32>, tensor<3x4x8xf32>
}

// -----

// Tests that integer scores are rejected by the operand type constraint.
func.func @data_select_int_scores(%s: tensor<4x16x3xi32>) -> (tensor<3x4x8xi64>, tensor<3x4x8xi32>) {
  // expected-error @+1 {{'uoe.data_select' op operand #0 must be ranked tensor of 16-bit float or bfloat16 type or 32-bit float or 64-bit float values, but got 'tensor<4x16x3xi32>'}}
  %a, %b = uoe.data_select %s patch 1 capacity 0.5 : tensor<4x16x3xi32> -> tensor<3x4x8xi64>, tensor<3x4x8xi32>
  return %a, %b : tensor<3x4x8xi64>, tensor<3x4x8xi32>
}

// -----

// Tests that the custom form needs either a capacity or `dynamic`.
func.func @data_select_no_capacity(%s: tensor<4x16x3xf32>) -> (tensor<3x4x8xi64>, tensor<3x4x8xf32>) {
  // expected-error @+1 {{custom op 'uoe.data_select' expected 'dynamic'}}
  %a, %b = uoe.data_select %s patch 1 : tensor<4x16x3xf32> -> tensor<3x4x8xi64>, tensor<3x4x8xf32>
  return %a, %b : tensor<3x4x8xi64>, tensor<3x4x8xf32>
}

// -----

// Tests that dynamic scores are rejected (only L may be dynamic).
func.func @data_select_c1_dynamic(%g: tensor<4x?x3xf32>) {
  // expected-error @+1 {{'uoe.data_select' op scores must have a static shape, but it is 'tensor<4x?x3xf32>'}}
  %pos, %w = uoe.data_select %g patch 1 dynamic : tensor<4x?x3xf32> -> tensor<3x4x?xi64>, tensor<3x4x?xf32>
  return
}
