// RUN: uoe-opt %s -split-input-file -verify-diagnostics

// Tests that query must have rank 4 ([E, B, L, D]).
func.func @selective_attention_c1(%q: tensor<8x8x16xf32>, %k: tensor<8x8x16xf32>, %v: tensor<8x8x16xf32>, %pos: tensor<2x4x8xi64>) -> tensor<8x8x16xf32> {
  // expected-error @+1 {{'uoe.selective_attention' op query must have rank 4 ([E, B, L, D]), but it is 'tensor<8x8x16xf32>'}}
  %y = uoe.selective_attention %q, %k, %v, %pos heads 2
      : tensor<8x8x16xf32>, tensor<8x8x16xf32>, tensor<8x8x16xf32>, tensor<2x4x8xi64> -> tensor<8x8x16xf32>
  return %y : tensor<8x8x16xf32>
}

// -----

// Tests that key must have the type of query.
func.func @selective_attention_c1_b(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x8x16xf16>, %v: tensor<2x4x8x16xf32>, %pos: tensor<2x4x8xi64>) -> tensor<2x4x8x16xf32> {
  // expected-error @+1 {{'uoe.selective_attention' op query, key and value must have one type, but they are 'tensor<2x4x8x16xf32>', 'tensor<2x4x8x16xf16>' and 'tensor<2x4x8x16xf32>'}}
  %y = uoe.selective_attention %q, %k, %v, %pos heads 2
      : tensor<2x4x8x16xf32>, tensor<2x4x8x16xf16>, tensor<2x4x8x16xf32>, tensor<2x4x8xi64> -> tensor<2x4x8x16xf32>
  return %y : tensor<2x4x8x16xf32>
}

// -----

// Tests that value must have the type (here the shape) of query.
func.func @selective_attention_c1_c(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x8x16xf32>, %v: tensor<2x4x8x8xf32>, %pos: tensor<2x4x8xi64>) -> tensor<2x4x8x16xf32> {
  // expected-error @+1 {{'uoe.selective_attention' op query, key and value must have one type, but they are 'tensor<2x4x8x16xf32>', 'tensor<2x4x8x16xf32>' and 'tensor<2x4x8x8xf32>'}}
  %y = uoe.selective_attention %q, %k, %v, %pos heads 2
      : tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x8xf32>, tensor<2x4x8xi64> -> tensor<2x4x8x16xf32>
  return %y : tensor<2x4x8x16xf32>
}

// -----

// Tests that heads must be positive.
func.func @selective_attention_c2(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x8x16xf32>, %v: tensor<2x4x8x16xf32>, %pos: tensor<2x4x8xi64>) -> tensor<2x4x8x16xf32> {
  // expected-error @+1 {{'uoe.selective_attention' op heads (0) must be positive and divide the expert width D (16)}}
  %y = uoe.selective_attention %q, %k, %v, %pos heads 0
      : tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8xi64> -> tensor<2x4x8x16xf32>
  return %y : tensor<2x4x8x16xf32>
}

// -----

// Tests that heads must divide the expert width D.
func.func @selective_attention_c2_b(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x8x16xf32>, %v: tensor<2x4x8x16xf32>, %pos: tensor<2x4x8xi64>) -> tensor<2x4x8x16xf32> {
  // expected-error @+1 {{'uoe.selective_attention' op heads (3) must be positive and divide the expert width D (16)}}
  %y = uoe.selective_attention %q, %k, %v, %pos heads 3
      : tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8xi64> -> tensor<2x4x8x16xf32>
  return %y : tensor<2x4x8x16xf32>
}

// -----

// Tests that rotary embedding needs an even head width (D / heads = 1).
func.func @selective_attention_c2_c(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x8x16xf32>, %v: tensor<2x4x8x16xf32>, %pos: tensor<2x4x8xi64>) -> tensor<2x4x8x16xf32> {
  // expected-error @+1 {{'uoe.selective_attention' op rotary embedding needs an even head width, but D / heads = 1}}
  %y = uoe.selective_attention %q, %k, %v, %pos heads 16 rope original
      : tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8xi64> -> tensor<2x4x8x16xf32>
  return %y : tensor<2x4x8x16xf32>
}

// -----

// Tests that positions must be [E, B, L].
func.func @selective_attention_c3(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x8x16xf32>, %v: tensor<2x4x8x16xf32>, %pos: tensor<2x4x4xi64>) -> tensor<2x4x8x16xf32> {
  // expected-error @+1 {{'uoe.selective_attention' op positions must be [E, B, L] = [2, 4, 8], but it is 'tensor<2x4x4xi64>'}}
  %y = uoe.selective_attention %q, %k, %v, %pos heads 2
      : tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x4xi64> -> tensor<2x4x8x16xf32>
  return %y : tensor<2x4x8x16xf32>
}

// -----

// Tests that positions must have a `?` L when the projections do.
func.func @selective_attention_c3_b(%q: tensor<2x4x?x16xf32>, %k: tensor<2x4x?x16xf32>, %v: tensor<2x4x?x16xf32>, %pos: tensor<2x4x8xi64>) -> tensor<2x4x?x16xf32> {
  // expected-error @+1 {{'uoe.selective_attention' op positions must be [E, B, L] = [2, 4, ?], but it is 'tensor<2x4x8xi64>'}}
  %y = uoe.selective_attention %q, %k, %v, %pos heads 2
      : tensor<2x4x?x16xf32>, tensor<2x4x?x16xf32>, tensor<2x4x?x16xf32>, tensor<2x4x8xi64> -> tensor<2x4x?x16xf32>
  return %y : tensor<2x4x?x16xf32>
}

// -----

// Tests that key_padding must have the row count B.
func.func @selective_attention_c4(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x8x16xf32>, %v: tensor<2x4x8x16xf32>, %pos: tensor<2x4x8xi64>, %kp: tensor<2x16xi1>) -> tensor<2x4x8x16xf32> {
  // expected-error @+1 {{'uoe.selective_attention' op key_padding must be [B, T] = [4, 16], but it is 'tensor<2x16xi1>'}}
  %y = uoe.selective_attention %q, %k, %v, %pos key_padding %kp heads 2
      : tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8xi64>, tensor<2x16xi1> -> tensor<2x4x8x16xf32>
  return %y : tensor<2x4x8x16xf32>
}

// -----

// Tests that key_padding must have rank 2 ([B, T]).
func.func @selective_attention_c4_b(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x8x16xf32>, %v: tensor<2x4x8x16xf32>, %pos: tensor<2x4x8xi64>, %kp: tensor<64xi1>) -> tensor<2x4x8x16xf32> {
  // expected-error @+1 {{'uoe.selective_attention' op key_padding must have rank 2 ([B, T]), but it is 'tensor<64xi1>'}}
  %y = uoe.selective_attention %q, %k, %v, %pos key_padding %kp heads 2
      : tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8xi64>, tensor<64xi1> -> tensor<2x4x8x16xf32>
  return %y : tensor<2x4x8x16xf32>
}

// -----

// Tests that the result must have the type of query.
func.func @selective_attention_c5(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x8x16xf32>, %v: tensor<2x4x8x16xf32>, %pos: tensor<2x4x8xi64>) -> tensor<2x4x8x16xbf16> {
  // expected-error @+1 {{'uoe.selective_attention' op result must have the type of query ('tensor<2x4x8x16xf32>'), but it is 'tensor<2x4x8x16xbf16>'}}
  %y = uoe.selective_attention %q, %k, %v, %pos heads 2
      : tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8xi64> -> tensor<2x4x8x16xbf16>
  return %y : tensor<2x4x8x16xbf16>
}

// -----

// Tests that the result must have the shape of query.
func.func @selective_attention_c5_b(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x8x16xf32>, %v: tensor<2x4x8x16xf32>, %pos: tensor<2x4x8xi64>) -> tensor<2x4x8x8xf32> {
  // expected-error @+1 {{'uoe.selective_attention' op result must have the type of query ('tensor<2x4x8x16xf32>'), but it is 'tensor<2x4x8x8xf32>'}}
  %y = uoe.selective_attention %q, %k, %v, %pos heads 2
      : tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8xi64> -> tensor<2x4x8x8xf32>
  return %y : tensor<2x4x8x8xf32>
}

// -----

// Tests that i32 positions are rejected by the operand type constraint (i64 only).
func.func @selective_attention_i32_positions(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x8x16xf32>, %v: tensor<2x4x8x16xf32>, %pos: tensor<2x4x8xi32>) -> tensor<2x4x8x16xf32> {
  // expected-error @+1 {{'uoe.selective_attention' op operand #3 must be ranked tensor of 64-bit signless integer values, but got 'tensor<2x4x8xi32>'}}
  %y = uoe.selective_attention %q, %k, %v, %pos heads 2
      : tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8xi32> -> tensor<2x4x8x16xf32>
  return %y : tensor<2x4x8x16xf32>
}

// -----

// Tests that a key_padding mask that is not i1 is rejected by the operand type constraint.
func.func @selective_attention_mask_type(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x8x16xf32>, %v: tensor<2x4x8x16xf32>, %pos: tensor<2x4x8xi64>, %kp: tensor<4x16xi8>) -> tensor<2x4x8x16xf32> {
  // expected-error @+1 {{'uoe.selective_attention' op operand #4 must be ranked tensor of 1-bit signless integer values, but got 'tensor<4x16xi8>'}}
  %y = uoe.selective_attention %q, %k, %v, %pos key_padding %kp heads 2
      : tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8xi64>, tensor<4x16xi8> -> tensor<2x4x8x16xf32>
  return %y : tensor<2x4x8x16xf32>
}

// -----

// Tests that an unknown rope keyword is a parse error.
func.func @selective_attention_unknown_rope(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x8x16xf32>, %v: tensor<2x4x8x16xf32>, %pos: tensor<2x4x8xi64>) -> tensor<2x4x8x16xf32> {
  // expected-error @+1 {{custom op 'uoe.selective_attention' unknown rope 'neox'}}
  %y = uoe.selective_attention %q, %k, %v, %pos heads 2 rope neox
      : tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8xi64> -> tensor<2x4x8x16xf32>
  return %y : tensor<2x4x8x16xf32>
}
