// RUN: uoe-opt %s -split-input-file -verify-diagnostics

// Tests that query must have rank 4 (the forward's selective_attention_c1).
func.func @selective_attention_c1(%q: tensor<8x8x16xf32>, %pos: tensor<2x4x8xi64>) -> tensor<8x8x16xf32> {
  // expected-error @+1 {{'uoe.selective_attention_grad' op query must have rank 4 ([E, B, L, D]), but it is 'tensor<8x8x16xf32>'}}
  %dq, %dk, %dv = uoe.selective_attention_grad %q, %q, %q, %pos, %q heads 2 : tensor<8x8x16xf32>, tensor<2x4x8xi64>
  return %dq : tensor<8x8x16xf32>
}

// -----

// Tests that key must have the type of query (selective_attention_c1; the
// trait reports it, in the generic form).
func.func @selective_attention_c1_b(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x8x16xf16>, %pos: tensor<2x4x8xi64>) -> tensor<2x4x8x16xf32> {
  // expected-error @+1 {{'uoe.selective_attention_grad' op failed to verify that all of {query, key, value, query_grad, key_grad, value_grad} have same type}}
  %dq, %dk, %dv = "uoe.selective_attention_grad"(%q, %k, %q, %pos, %q) <{heads = 2 : i64, operandSegmentSizes = array<i32: 1, 1, 1, 1, 0, 1>}>
      : (tensor<2x4x8x16xf32>, tensor<2x4x8x16xf16>, tensor<2x4x8x16xf32>, tensor<2x4x8xi64>, tensor<2x4x8x16xf32>)
      -> (tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>)
  return %dq : tensor<2x4x8x16xf32>
}

// -----

// Tests that heads must divide D (selective_attention_c2).
func.func @selective_attention_c2(%q: tensor<2x4x8x16xf32>, %pos: tensor<2x4x8xi64>) -> tensor<2x4x8x16xf32> {
  // expected-error @+1 {{'uoe.selective_attention_grad' op heads (3) must be positive and divide the expert width D (16)}}
  %dq, %dk, %dv = uoe.selective_attention_grad %q, %q, %q, %pos, %q heads 3 : tensor<2x4x8x16xf32>, tensor<2x4x8xi64>
  return %dq : tensor<2x4x8x16xf32>
}

// -----

// Tests that rotary embedding needs an even head width (selective_attention_c2).
func.func @selective_attention_c2_b(%q: tensor<2x4x8x6xf32>, %pos: tensor<2x4x8xi64>) -> tensor<2x4x8x6xf32> {
  // expected-error @+1 {{'uoe.selective_attention_grad' op rotary embedding needs an even head width, but D / heads = 3}}
  %dq, %dk, %dv = uoe.selective_attention_grad %q, %q, %q, %pos, %q heads 2 rope compacted : tensor<2x4x8x6xf32>, tensor<2x4x8xi64>
  return %dq : tensor<2x4x8x6xf32>
}

// -----

// Tests that positions must be [E, B, L] (selective_attention_c3).
func.func @selective_attention_c3(%q: tensor<2x4x8x16xf32>, %pos: tensor<2x4x7xi64>) -> tensor<2x4x8x16xf32> {
  // expected-error @+1 {{'uoe.selective_attention_grad' op positions must be [E, B, L] = [2, 4, 8], but it is 'tensor<2x4x7xi64>'}}
  %dq, %dk, %dv = uoe.selective_attention_grad %q, %q, %q, %pos, %q heads 2 : tensor<2x4x8x16xf32>, tensor<2x4x7xi64>
  return %dq : tensor<2x4x8x16xf32>
}

// -----

// Tests that key_padding must be [B, T] (selective_attention_c4).
func.func @selective_attention_c4(%q: tensor<2x4x8x16xf32>, %pos: tensor<2x4x8xi64>, %kp: tensor<3x16xi1>) -> tensor<2x4x8x16xf32> {
  // expected-error @+1 {{'uoe.selective_attention_grad' op key_padding must be [B, T] = [4, 16], but it is 'tensor<3x16xi1>'}}
  %dq, %dk, %dv = uoe.selective_attention_grad %q, %q, %q, %pos key_padding %kp, %q heads 2 : tensor<2x4x8x16xf32>, tensor<2x4x8xi64>, tensor<3x16xi1>
  return %dq : tensor<2x4x8x16xf32>
}

// -----

// Tests that the result gradient must have the type of query (generic form).
func.func @selective_attention_grad_c6(%q: tensor<2x4x8x16xf32>, %pos: tensor<2x4x8xi64>, %do: tensor<2x4x8x8xf32>) -> tensor<2x4x8x16xf32> {
  // expected-error @+1 {{'uoe.selective_attention_grad' op failed to verify that result_grad has the type of query}}
  %dq, %dk, %dv = "uoe.selective_attention_grad"(%q, %q, %q, %pos, %do) <{heads = 2 : i64, operandSegmentSizes = array<i32: 1, 1, 1, 1, 0, 1>}>
      : (tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8xi64>, tensor<2x4x8x8xf32>)
      -> (tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>)
  return %dq : tensor<2x4x8x16xf32>
}

// -----

// Tests that the query gradient must have the type of query (generic form).
func.func @selective_attention_grad_c6_b(%q: tensor<2x4x8x16xf32>, %pos: tensor<2x4x8xi64>) -> tensor<2x4x8x16xf64> {
  // expected-error @+1 {{'uoe.selective_attention_grad' op failed to verify that all of {query, key, value, query_grad, key_grad, value_grad} have same type}}
  %dq, %dk, %dv = "uoe.selective_attention_grad"(%q, %q, %q, %pos, %q) <{heads = 2 : i64, operandSegmentSizes = array<i32: 1, 1, 1, 1, 0, 1>}>
      : (tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8xi64>, tensor<2x4x8x16xf32>)
      -> (tensor<2x4x8x16xf64>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>)
  return %dq : tensor<2x4x8x16xf64>
}
