// RUN: uoe-opt %s -split-input-file -verify-diagnostics

// Tests that lhs must have rank at least 3 ([E, ..., M, K]).
func.func @expert_matmul_c1(%a: tensor<3x32xf32>, %b: tensor<3x32x16xf32>, %bias: tensor<3x16xf32>) -> tensor<3x16xf32> {
  // expected-error @+1 {{'uoe.expert_matmul' op lhs must have rank at least 3 ([E, ..., M, K]), but it is 'tensor<3x32xf32>'}}
  %y = uoe.expert_matmul %a, %b bias %bias activation gelu : tensor<3x32xf32>, tensor<3x32x16xf32>, tensor<3x16xf32> -> tensor<3x16xf32>
  return %y : tensor<3x16xf32>
}

// -----

// Tests that rhs must have rank 3 ([E, K, N]).
func.func @expert_matmul_c1_b(%a: tensor<3x4x8x32xf32>, %b: tensor<32x16xf32>, %bias: tensor<3x16xf32>) -> tensor<3x4x8x16xf32> {
  // expected-error @+1 {{'uoe.expert_matmul' op rhs must have rank 3 ([E, K, N]), but it is 'tensor<32x16xf32>'}}
  %y = uoe.expert_matmul %a, %b bias %bias activation gelu : tensor<3x4x8x32xf32>, tensor<32x16xf32>, tensor<3x16xf32> -> tensor<3x4x8x16xf32>
  return %y : tensor<3x4x8x16xf32>
}

// -----

// Tests that lhs and rhs must have the same expert count.
func.func @expert_matmul_c2(%a: tensor<3x4x8x32xf32>, %b: tensor<2x32x16xf32>, %bias: tensor<3x16xf32>) -> tensor<3x4x8x16xf32> {
  // expected-error @+1 {{'uoe.expert_matmul' op expert counts differ: lhs has 3 experts ('tensor<3x4x8x32xf32>') but rhs has 2 ('tensor<2x32x16xf32>')}}
  %y = uoe.expert_matmul %a, %b bias %bias activation gelu : tensor<3x4x8x32xf32>, tensor<2x32x16xf32>, tensor<3x16xf32> -> tensor<3x4x8x16xf32>
  return %y : tensor<3x4x8x16xf32>
}

// -----

// Tests that the contraction sizes K must agree.
func.func @expert_matmul_c3(%a: tensor<3x4x8x32xf32>, %b: tensor<3x16x16xf32>, %bias: tensor<3x16xf32>) -> tensor<3x4x8x16xf32> {
  // expected-error @+1 {{'uoe.expert_matmul' op contraction sizes differ: lhs has K = 32 ('tensor<3x4x8x32xf32>') but rhs has K = 16 ('tensor<3x16x16xf32>')}}
  %y = uoe.expert_matmul %a, %b bias %bias activation gelu : tensor<3x4x8x32xf32>, tensor<3x16x16xf32>, tensor<3x16xf32> -> tensor<3x4x8x16xf32>
  return %y : tensor<3x4x8x16xf32>
}

// -----

// Tests that the bias must be [E, N].
func.func @expert_matmul_c4(%a: tensor<3x4x8x32xf32>, %b: tensor<3x32x16xf32>, %bias: tensor<3x8xf32>) -> tensor<3x4x8x16xf32> {
  // expected-error @+1 {{'uoe.expert_matmul' op bias must be [E, N] = [3, 16], but it is 'tensor<3x8xf32>'}}
  %y = uoe.expert_matmul %a, %b bias %bias activation gelu : tensor<3x4x8x32xf32>, tensor<3x32x16xf32>, tensor<3x8xf32> -> tensor<3x4x8x16xf32>
  return %y : tensor<3x4x8x16xf32>
}

// -----

// Tests that a rank-1 bias is rejected.
func.func @expert_matmul_c4_b(%a: tensor<3x4x8x32xf32>, %b: tensor<3x32x16xf32>, %bias: tensor<16xf32>) -> tensor<3x4x8x16xf32> {
  // expected-error @+1 {{'uoe.expert_matmul' op bias must be [E, N] = [3, 16], but it is 'tensor<16xf32>'}}
  %y = uoe.expert_matmul %a, %b bias %bias activation gelu : tensor<3x4x8x32xf32>, tensor<3x32x16xf32>, tensor<16xf32> -> tensor<3x4x8x16xf32>
  return %y : tensor<3x4x8x16xf32>
}

// -----

// Tests that swiglu needs an even N.
func.func @expert_matmul_c5(%a: tensor<3x4x8x32xf32>, %b: tensor<3x32x15xf32>, %bias: tensor<3x15xf32>) -> tensor<3x4x8x7xf32> {
  // expected-error @+1 {{'uoe.expert_matmul' op swiglu needs an even width of rhs ([gate | up] halves), but it is 15}}
  %y = uoe.expert_matmul %a, %b bias %bias activation swiglu : tensor<3x4x8x32xf32>, tensor<3x32x15xf32>, tensor<3x15xf32> -> tensor<3x4x8x7xf32>
  return %y : tensor<3x4x8x7xf32>
}

// -----

// Tests that swiglu halves N in the result (8 columns, not 16).
func.func @expert_matmul_c6(%a: tensor<3x4x8x32xf32>, %b: tensor<3x32x16xf32>, %bias: tensor<3x16xf32>) -> tensor<3x4x8x16xf32> {
  // expected-error @+1 {{'uoe.expert_matmul' op result must be [E, ..., M, N] = [3, 4, 8, 8], but it is 'tensor<3x4x8x16xf32>'}}
  %y = uoe.expert_matmul %a, %b bias %bias activation swiglu : tensor<3x4x8x32xf32>, tensor<3x32x16xf32>, tensor<3x16xf32> -> tensor<3x4x8x16xf32>
  return %y : tensor<3x4x8x16xf32>
}

// -----

// Tests that the result must keep lhs's batch and row dimensions.
func.func @expert_matmul_c6_b(%a: tensor<3x4x8x32xf32>, %b: tensor<3x32x16xf32>, %bias: tensor<3x16xf32>) -> tensor<3x4x4x16xf32> {
  // expected-error @+1 {{'uoe.expert_matmul' op result must be [E, ..., M, N] = [3, 4, 8, 16], but it is 'tensor<3x4x4x16xf32>'}}
  %y = uoe.expert_matmul %a, %b bias %bias activation gelu : tensor<3x4x8x32xf32>, tensor<3x32x16xf32>, tensor<3x16xf32> -> tensor<3x4x4x16xf32>
  return %y : tensor<3x4x4x16xf32>
}

// -----

// Tests that the result must keep lhs's rank.
func.func @expert_matmul_c6_c(%a: tensor<3x4x8x32xf32>, %b: tensor<3x32x16xf32>, %bias: tensor<3x16xf32>) -> tensor<3x32x16xf32> {
  // expected-error @+1 {{'uoe.expert_matmul' op result must be [E, ..., M, N] = [3, 4, 8, 16], but it is 'tensor<3x32x16xf32>'}}
  %y = uoe.expert_matmul %a, %b bias %bias activation gelu : tensor<3x4x8x32xf32>, tensor<3x32x16xf32>, tensor<3x16xf32> -> tensor<3x32x16xf32>
  return %y : tensor<3x32x16xf32>
}

// -----

// Tests that a dynamic row count M must stay dynamic in the result.
func.func @expert_matmul_c6_d(%a: tensor<3x4x?x32xf32>, %b: tensor<3x32x16xf32>) -> tensor<3x4x8x16xf32> {
  // expected-error @+1 {{'uoe.expert_matmul' op result must be [E, ..., M, N] = [3, 4, ?, 16], but it is 'tensor<3x4x8x16xf32>'}}
  %y = uoe.expert_matmul %a, %b : tensor<3x4x?x32xf32>, tensor<3x32x16xf32> -> tensor<3x4x8x16xf32>
  return %y : tensor<3x4x8x16xf32>
}

// -----

// Tests that the bias must have the element type of lhs.
func.func @expert_matmul_c6_e(%a: tensor<3x4x8x32xf32>, %b: tensor<3x32x16xf32>, %bias: tensor<3x16xbf16>) -> tensor<3x4x8x16xf32> {
  // expected-error @+1 {{'uoe.expert_matmul' op element types differ: lhs has 'f32' but bias has 'bf16'}}
  %y = uoe.expert_matmul %a, %b bias %bias activation gelu : tensor<3x4x8x32xf32>, tensor<3x32x16xf32>, tensor<3x16xbf16> -> tensor<3x4x8x16xf32>
  return %y : tensor<3x4x8x16xf32>
}

// -----

// Tests that the result must have the element type of lhs.
func.func @expert_matmul_c6_f(%a: tensor<3x4x8x32xf32>, %b: tensor<3x32x16xf32>, %bias: tensor<3x16xf32>) -> tensor<3x4x8x16xf16> {
  // expected-error @+1 {{'uoe.expert_matmul' op element types differ: lhs has 'f32' but result has 'f16'}}
  %y = uoe.expert_matmul %a, %b bias %bias activation gelu : tensor<3x4x8x32xf32>, tensor<3x32x16xf32>, tensor<3x16xf32> -> tensor<3x4x8x16xf16>
  return %y : tensor<3x4x8x16xf16>
}

// -----

// Tests that rhs must have the element type of lhs.
func.func @expert_matmul_c6_g(%a: tensor<3x4x8x32xf32>, %b: tensor<3x32x16xf16>) -> tensor<3x4x8x16xf32> {
  // expected-error @+1 {{'uoe.expert_matmul' op element types differ: lhs has 'f32' but rhs has 'f16'}}
  %y = uoe.expert_matmul %a, %b activation gelu : tensor<3x4x8x32xf32>, tensor<3x32x16xf16> -> tensor<3x4x8x16xf32>
  return %y : tensor<3x4x8x16xf32>
}

// -----

// Tests that an integer bias is rejected by the operand type constraint.
func.func @expert_matmul_int_bias(%a: tensor<3x4x8x32xf32>, %b: tensor<3x32x16xf32>, %bias: tensor<3x16xi32>) -> tensor<3x4x8x16xf32> {
  // expected-error @+1 {{'uoe.expert_matmul' op operand #2 must be ranked tensor of 16-bit float or bfloat16 type or 32-bit float or 64-bit float values, but got 'tensor<3x16xi32>'}}
  %y = uoe.expert_matmul %a, %b bias %bias activation gelu : tensor<3x4x8x32xf32>, tensor<3x32x16xf32>, tensor<3x16xi32> -> tensor<3x4x8x16xf32>
  return %y : tensor<3x4x8x16xf32>
}

// -----

// Tests that an unknown activation keyword is a parse error.
func.func @expert_matmul_unknown_activation(%a: tensor<3x4x8x32xf32>, %b: tensor<3x32x16xf32>, %bias: tensor<3x16xf32>) -> tensor<3x4x8x16xf32> {
  // expected-error @+1 {{custom op 'uoe.expert_matmul' unknown activation 'foo'}}
  %y = uoe.expert_matmul %a, %b bias %bias activation foo : tensor<3x4x8x32xf32>, tensor<3x32x16xf32>, tensor<3x16xf32> -> tensor<3x4x8x16xf32>
  return %y : tensor<3x4x8x16xf32>
}

// -----

// Tests that dynamic expert weights are rejected.
func.func @expert_matmul_c1_dynamic(%x: tensor<3x4x8x32xf32>, %w: tensor<3x32x?xf32>) {
  // expected-error @+1 {{'uoe.expert_matmul' op rhs must have a static shape, but it is 'tensor<3x32x?xf32>'}}
  %h = uoe.expert_matmul %x, %w activation swiglu : tensor<3x4x8x32xf32>, tensor<3x32x?xf32> -> tensor<3x4x8x?xf32>
  return
}
