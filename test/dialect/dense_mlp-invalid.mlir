// RUN: uoe-opt %s -split-input-file -verify-diagnostics

// Tests that a rank-0 input is rejected: it has no width d (this check has no
// constraint label).
func.func @dense_mlp_input_rank(%x: tensor<f32>, %w1: tensor<32x64xf32>, %b1: tensor<64xf32>, %w2: tensor<64x32xf32>, %b2: tensor<32xf32>) -> tensor<f32> {
  // expected-error @+1 {{'uoe.dense_mlp' op input must have rank at least 1 ([..., d])}}
  %y = uoe.dense_mlp %x, up(%w1, %b1), down(%w2, %b2) activation gelu
      : tensor<f32>, tensor<32x64xf32>, tensor<64xf32>, tensor<64x32xf32>, tensor<32xf32>
  return %y : tensor<f32>
}

// -----

// Tests that w1 must have rank 2.
func.func @dense_mlp_c1(%x: tensor<4x16x32xf32>, %w1: tensor<1x32x64xf32>, %b1: tensor<64xf32>, %w2: tensor<64x32xf32>, %b2: tensor<32xf32>) -> tensor<4x16x32xf32> {
  // expected-error @+1 {{'uoe.dense_mlp' op w1 must have rank 2 ([d, F]), but it is 'tensor<1x32x64xf32>'}}
  %y = uoe.dense_mlp %x, up(%w1, %b1), down(%w2, %b2) activation gelu
      : tensor<4x16x32xf32>, tensor<1x32x64xf32>, tensor<64xf32>, tensor<64x32xf32>, tensor<32xf32>
  return %y : tensor<4x16x32xf32>
}

// -----

// Tests that w1's rows must be the input width d.
func.func @dense_mlp_c1_b(%x: tensor<4x16x32xf32>, %w1: tensor<16x64xf32>, %b1: tensor<64xf32>, %w2: tensor<64x32xf32>, %b2: tensor<32xf32>) -> tensor<4x16x32xf32> {
  // expected-error @+1 {{'uoe.dense_mlp' op w1 must be [d, F] = [32, 64], but it is 'tensor<16x64xf32>'}}
  %y = uoe.dense_mlp %x, up(%w1, %b1), down(%w2, %b2) activation gelu
      : tensor<4x16x32xf32>, tensor<16x64xf32>, tensor<64xf32>, tensor<64x32xf32>, tensor<32xf32>
  return %y : tensor<4x16x32xf32>
}

// -----

// Tests that b1 must have w1's width.
func.func @dense_mlp_c1_c(%x: tensor<4x16x32xf32>, %w1: tensor<32x64xf32>, %b1: tensor<32xf32>, %w2: tensor<64x32xf32>, %b2: tensor<32xf32>) -> tensor<4x16x32xf32> {
  // expected-error @+1 {{'uoe.dense_mlp' op b1 must be [F] = [64], but it is 'tensor<32xf32>'}}
  %y = uoe.dense_mlp %x, up(%w1, %b1), down(%w2, %b2) activation gelu
      : tensor<4x16x32xf32>, tensor<32x64xf32>, tensor<32xf32>, tensor<64x32xf32>, tensor<32xf32>
  return %y : tensor<4x16x32xf32>
}

// -----

// Tests that w2's rows must be w1's width F.
func.func @dense_mlp_c2(%x: tensor<4x16x32xf32>, %w1: tensor<32x64xf32>, %b1: tensor<64xf32>, %w2: tensor<32x32xf32>, %b2: tensor<32xf32>) -> tensor<4x16x32xf32> {
  // expected-error @+1 {{'uoe.dense_mlp' op w2 must be [F, d] = [64, 32], but it is 'tensor<32x32xf32>'}}
  %y = uoe.dense_mlp %x, up(%w1, %b1), down(%w2, %b2) activation gelu
      : tensor<4x16x32xf32>, tensor<32x64xf32>, tensor<64xf32>, tensor<32x32xf32>, tensor<32xf32>
  return %y : tensor<4x16x32xf32>
}

// -----

// Tests that swiglu needs an even w1 width ([gate | up] halves).
func.func @dense_mlp_c2_b(%x: tensor<4x16x32xf32>, %w1: tensor<32x63xf32>, %b1: tensor<63xf32>, %w2: tensor<31x32xf32>, %b2: tensor<32xf32>) -> tensor<4x16x32xf32> {
  // expected-error @+1 {{'uoe.dense_mlp' op swiglu needs an even width of w1 ([gate | up] halves), but it is 63}}
  %y = uoe.dense_mlp %x, up(%w1, %b1), down(%w2, %b2) activation swiglu
      : tensor<4x16x32xf32>, tensor<32x63xf32>, tensor<63xf32>, tensor<31x32xf32>, tensor<32xf32>
  return %y : tensor<4x16x32xf32>
}

// -----

// Tests that with swiglu w2's rows must be half of w1's width.
func.func @dense_mlp_c2_c(%x: tensor<4x16x32xf32>, %w1: tensor<32x64xf32>, %b1: tensor<64xf32>, %w2: tensor<64x32xf32>, %b2: tensor<32xf32>) -> tensor<4x16x32xf32> {
  // expected-error @+1 {{'uoe.dense_mlp' op w2 must be [F, d] = [32, 32], but it is 'tensor<64x32xf32>'}}
  %y = uoe.dense_mlp %x, up(%w1, %b1), down(%w2, %b2) activation swiglu
      : tensor<4x16x32xf32>, tensor<32x64xf32>, tensor<64xf32>, tensor<64x32xf32>, tensor<32xf32>
  return %y : tensor<4x16x32xf32>
}

// -----

// Tests that w2's columns must be the input width d.
func.func @dense_mlp_c2_d(%x: tensor<4x16x32xf32>, %w1: tensor<32x64xf32>, %b1: tensor<64xf32>, %w2: tensor<64x16xf32>, %b2: tensor<32xf32>) -> tensor<4x16x32xf32> {
  // expected-error @+1 {{'uoe.dense_mlp' op w2 must be [F, d] = [64, 32], but it is 'tensor<64x16xf32>'}}
  %y = uoe.dense_mlp %x, up(%w1, %b1), down(%w2, %b2) activation gelu
      : tensor<4x16x32xf32>, tensor<32x64xf32>, tensor<64xf32>, tensor<64x16xf32>, tensor<32xf32>
  return %y : tensor<4x16x32xf32>
}

// -----

// Tests that b2 must be [d].
func.func @dense_mlp_c3(%x: tensor<4x16x32xf32>, %w1: tensor<32x64xf32>, %b1: tensor<64xf32>, %w2: tensor<64x32xf32>, %b2: tensor<64xf32>) -> tensor<4x16x32xf32> {
  // expected-error @+1 {{'uoe.dense_mlp' op b2 must be [d] = [32], but it is 'tensor<64xf32>'}}
  %y = uoe.dense_mlp %x, up(%w1, %b1), down(%w2, %b2) activation gelu
      : tensor<4x16x32xf32>, tensor<32x64xf32>, tensor<64xf32>, tensor<64x32xf32>, tensor<64xf32>
  return %y : tensor<4x16x32xf32>
}

// -----

// Tests that a weight's element type must match the input's.
func.func @dense_mlp_c4(%x: tensor<4x16x32xf32>, %w1: tensor<32x64xf16>, %b1: tensor<64xf32>, %w2: tensor<64x32xf32>, %b2: tensor<32xf32>) -> tensor<4x16x32xf32> {
  // expected-error @+1 {{'uoe.dense_mlp' op element types differ: input has 'f32' but w1 has 'f16'}}
  %y = uoe.dense_mlp %x, up(%w1, %b1), down(%w2, %b2) activation gelu
      : tensor<4x16x32xf32>, tensor<32x64xf16>, tensor<64xf32>, tensor<64x32xf32>, tensor<32xf32>
  return %y : tensor<4x16x32xf32>
}

// -----

// Tests that the last bias's element type must match too (bf16 vs f32).
func.func @dense_mlp_c4_b(%x: tensor<4x16x32xf32>, %w1: tensor<32x64xf32>, %b1: tensor<64xf32>, %w2: tensor<64x32xf32>, %b2: tensor<32xbf16>) -> tensor<4x16x32xf32> {
  // expected-error @+1 {{'uoe.dense_mlp' op element types differ: input has 'f32' but b2 has 'bf16'}}
  %y = uoe.dense_mlp %x, up(%w1, %b1), down(%w2, %b2) activation gelu
      : tensor<4x16x32xf32>, tensor<32x64xf32>, tensor<64xf32>, tensor<64x32xf32>, tensor<32xbf16>
  return %y : tensor<4x16x32xf32>
}

// -----

// Tests that an integer input is rejected by the operand type constraint.
func.func @dense_mlp_int_input(%x: tensor<4x16x32xi32>, %w1: tensor<32x64xf32>, %b1: tensor<64xf32>, %w2: tensor<64x32xf32>, %b2: tensor<32xf32>) -> tensor<4x16x32xi32> {
  // expected-error @+1 {{'uoe.dense_mlp' op operand #0 must be ranked tensor of 16-bit float or bfloat16 type or 32-bit float or 64-bit float values, but got 'tensor<4x16x32xi32>'}}
  %y = uoe.dense_mlp %x, up(%w1, %b1), down(%w2, %b2) activation gelu
      : tensor<4x16x32xi32>, tensor<32x64xf32>, tensor<64xf32>, tensor<64x32xf32>, tensor<32xf32>
  return %y : tensor<4x16x32xi32>
}

// -----

// Tests that the result must have the input's type (generic form: the custom
// form infers it).
func.func @dense_mlp_result_type(%x: tensor<4x16x32xf32>, %w1: tensor<32x64xf32>, %b1: tensor<64xf32>, %w2: tensor<64x32xf32>, %b2: tensor<32xf32>) -> tensor<4x16x32xf16> {
  // expected-error @+1 {{'uoe.dense_mlp' op failed to verify that all of {input, result} have same type}}
  %y = "uoe.dense_mlp"(%x, %w1, %b1, %w2, %b2) <{activation = #uoe.activation<gelu>}>
      : (tensor<4x16x32xf32>, tensor<32x64xf32>, tensor<64xf32>, tensor<64x32xf32>, tensor<32xf32>) -> tensor<4x16x32xf16>
  return %y : tensor<4x16x32xf16>
}

// -----

// Tests that an unknown activation keyword is a parse error.
func.func @dense_mlp_unknown_activation(%x: tensor<4x16x32xf32>, %w1: tensor<32x64xf32>, %b1: tensor<64xf32>, %w2: tensor<64x32xf32>, %b2: tensor<32xf32>) -> tensor<4x16x32xf32> {
  // expected-error @+1 {{custom op 'uoe.dense_mlp' unknown activation 'foo'}}
  %y = uoe.dense_mlp %x, up(%w1, %b1), down(%w2, %b2) activation foo
      : tensor<4x16x32xf32>, tensor<32x64xf32>, tensor<64xf32>, tensor<64x32xf32>, tensor<32xf32>
  return %y : tensor<4x16x32xf32>
}
