// RUN: uoe-opt %s -split-input-file -verify-diagnostics

// Tests that the input must have rank 3 ([N0, N1, d]).
func.func @uome_c1(%x: tensor<16x32xf32>, %wg: tensor<4x32xf32>, %bg: tensor<4xf32>, %w1: tensor<4x32x16xf32>, %b1: tensor<4x16xf32>, %w2: tensor<4x16x32xf32>, %b2: tensor<4x32xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{'uoe.uome' op input must have rank 3 ([N0, N1, d]), but it is 'tensor<16x32xf32>'}}
  %y = uoe.uome %x, router(%wg, %bg), up(%w1, %b1), down(%w2, %b2) top 2 capacity 0.5 activation gelu union
      : tensor<16x32xf32>, tensor<4x32xf32>, tensor<4xf32>, tensor<4x32x16xf32>, tensor<4x16xf32>, tensor<4x16x32xf32>, tensor<4x32xf32>
  return %y : tensor<16x32xf32>
}

// -----

// Tests that the router weight must have rank 2.
func.func @uome_c2(%x: tensor<4x16x32xf32>, %wg: tensor<128xf32>, %bg: tensor<4xf32>, %w1: tensor<4x32x16xf32>, %b1: tensor<4x16xf32>, %w2: tensor<4x16x32xf32>, %b2: tensor<4x32xf32>) -> tensor<4x16x32xf32> {
  // expected-error @+1 {{'uoe.uome' op wg must have rank 2 ([E, d]), but it is 'tensor<128xf32>'}}
  %y = uoe.uome %x, router(%wg, %bg), up(%w1, %b1), down(%w2, %b2) top 2 capacity 0.5 activation gelu union
      : tensor<4x16x32xf32>, tensor<128xf32>, tensor<4xf32>, tensor<4x32x16xf32>, tensor<4x16xf32>, tensor<4x16x32xf32>, tensor<4x32xf32>
  return %y : tensor<4x16x32xf32>
}

// -----

// Tests that the router weight must be [E, d] with d the input width.
func.func @uome_c2_b(%x: tensor<4x16x32xf32>, %wg: tensor<4x16xf32>, %bg: tensor<4xf32>, %w1: tensor<4x32x16xf32>, %b1: tensor<4x16xf32>, %w2: tensor<4x16x32xf32>, %b2: tensor<4x32xf32>) -> tensor<4x16x32xf32> {
  // expected-error @+1 {{'uoe.uome' op wg must be [E, d] = [4, 32], but it is 'tensor<4x16xf32>'}}
  %y = uoe.uome %x, router(%wg, %bg), up(%w1, %b1), down(%w2, %b2) top 2 capacity 0.5 activation gelu union
      : tensor<4x16x32xf32>, tensor<4x16xf32>, tensor<4xf32>, tensor<4x32x16xf32>, tensor<4x16xf32>, tensor<4x16x32xf32>, tensor<4x32xf32>
  return %y : tensor<4x16x32xf32>
}

// -----

// Tests that the router bias must be [E].
func.func @uome_c2_c(%x: tensor<4x16x32xf32>, %wg: tensor<4x32xf32>, %bg: tensor<3xf32>, %w1: tensor<4x32x16xf32>, %b1: tensor<4x16xf32>, %w2: tensor<4x16x32xf32>, %b2: tensor<4x32xf32>) -> tensor<4x16x32xf32> {
  // expected-error @+1 {{'uoe.uome' op bg must be [E] = [4], but it is 'tensor<3xf32>'}}
  %y = uoe.uome %x, router(%wg, %bg), up(%w1, %b1), down(%w2, %b2) top 2 capacity 0.5 activation gelu union
      : tensor<4x16x32xf32>, tensor<4x32xf32>, tensor<3xf32>, tensor<4x32x16xf32>, tensor<4x16xf32>, tensor<4x16x32xf32>, tensor<4x32xf32>
  return %y : tensor<4x16x32xf32>
}

// -----

// Tests that w1 must have rank 3.
func.func @uome_c3(%x: tensor<4x16x32xf32>, %wg: tensor<4x32xf32>, %bg: tensor<4xf32>, %w1: tensor<32x16xf32>, %b1: tensor<4x16xf32>, %w2: tensor<4x16x32xf32>, %b2: tensor<4x32xf32>) -> tensor<4x16x32xf32> {
  // expected-error @+1 {{'uoe.uome' op w1 must have rank 3 ([E, d, F1]), but it is 'tensor<32x16xf32>'}}
  %y = uoe.uome %x, router(%wg, %bg), up(%w1, %b1), down(%w2, %b2) top 2 capacity 0.5 activation gelu union
      : tensor<4x16x32xf32>, tensor<4x32xf32>, tensor<4xf32>, tensor<32x16xf32>, tensor<4x16xf32>, tensor<4x16x32xf32>, tensor<4x32xf32>
  return %y : tensor<4x16x32xf32>
}

// -----

// Tests that w1 must be [E, d, Fe] with the router's E.
func.func @uome_c3_b(%x: tensor<4x16x32xf32>, %wg: tensor<4x32xf32>, %bg: tensor<4xf32>, %w1: tensor<2x32x16xf32>, %b1: tensor<4x16xf32>, %w2: tensor<4x16x32xf32>, %b2: tensor<4x32xf32>) -> tensor<4x16x32xf32> {
  // expected-error @+1 {{'uoe.uome' op w1 must be [E, d, F1] = [4, 32, 16], but it is 'tensor<2x32x16xf32>'}}
  %y = uoe.uome %x, router(%wg, %bg), up(%w1, %b1), down(%w2, %b2) top 2 capacity 0.5 activation gelu union
      : tensor<4x16x32xf32>, tensor<4x32xf32>, tensor<4xf32>, tensor<2x32x16xf32>, tensor<4x16xf32>, tensor<4x16x32xf32>, tensor<4x32xf32>
  return %y : tensor<4x16x32xf32>
}

// -----

// Tests that b1 must be [E, Fe].
func.func @uome_c3_c(%x: tensor<4x16x32xf32>, %wg: tensor<4x32xf32>, %bg: tensor<4xf32>, %w1: tensor<4x32x16xf32>, %b1: tensor<4x8xf32>, %w2: tensor<4x16x32xf32>, %b2: tensor<4x32xf32>) -> tensor<4x16x32xf32> {
  // expected-error @+1 {{'uoe.uome' op b1 must be [E, F1] = [4, 16], but it is 'tensor<4x8xf32>'}}
  %y = uoe.uome %x, router(%wg, %bg), up(%w1, %b1), down(%w2, %b2) top 2 capacity 0.5 activation gelu union
      : tensor<4x16x32xf32>, tensor<4x32xf32>, tensor<4xf32>, tensor<4x32x16xf32>, tensor<4x8xf32>, tensor<4x16x32xf32>, tensor<4x32xf32>
  return %y : tensor<4x16x32xf32>
}

// -----

// Tests that w2 must be [E, Fe, d].
func.func @uome_c3_d(%x: tensor<4x16x32xf32>, %wg: tensor<4x32xf32>, %bg: tensor<4xf32>, %w1: tensor<4x32x16xf32>, %b1: tensor<4x16xf32>, %w2: tensor<4x8x32xf32>, %b2: tensor<4x32xf32>) -> tensor<4x16x32xf32> {
  // expected-error @+1 {{'uoe.uome' op w2 must be [E, Fe, d] = [4, 16, 32], but it is 'tensor<4x8x32xf32>'}}
  %y = uoe.uome %x, router(%wg, %bg), up(%w1, %b1), down(%w2, %b2) top 2 capacity 0.5 activation gelu union
      : tensor<4x16x32xf32>, tensor<4x32xf32>, tensor<4xf32>, tensor<4x32x16xf32>, tensor<4x16xf32>, tensor<4x8x32xf32>, tensor<4x32xf32>
  return %y : tensor<4x16x32xf32>
}

// -----

// Tests that b2 must be [E, d].
func.func @uome_c3_e(%x: tensor<4x16x32xf32>, %wg: tensor<4x32xf32>, %bg: tensor<4xf32>, %w1: tensor<4x32x16xf32>, %b1: tensor<4x16xf32>, %w2: tensor<4x16x32xf32>, %b2: tensor<4x16xf32>) -> tensor<4x16x32xf32> {
  // expected-error @+1 {{'uoe.uome' op b2 must be [E, d] = [4, 32], but it is 'tensor<4x16xf32>'}}
  %y = uoe.uome %x, router(%wg, %bg), up(%w1, %b1), down(%w2, %b2) top 2 capacity 0.5 activation gelu union
      : tensor<4x16x32xf32>, tensor<4x32xf32>, tensor<4xf32>, tensor<4x32x16xf32>, tensor<4x16xf32>, tensor<4x16x32xf32>, tensor<4x16xf32>
  return %y : tensor<4x16x32xf32>
}

// -----

// Tests that swiglu needs an even w1 width.
func.func @uome_c3_f(%x: tensor<4x16x32xf32>, %wg: tensor<4x32xf32>, %bg: tensor<4xf32>, %w1: tensor<4x32x15xf32>, %b1: tensor<4x15xf32>, %w2: tensor<4x7x32xf32>, %b2: tensor<4x32xf32>) -> tensor<4x16x32xf32> {
  // expected-error @+1 {{'uoe.uome' op swiglu needs an even width of w1 ([gate | up] halves), but it is 15}}
  %y = uoe.uome %x, router(%wg, %bg), up(%w1, %b1), down(%w2, %b2) top 2 capacity 0.5 activation swiglu union
      : tensor<4x16x32xf32>, tensor<4x32xf32>, tensor<4xf32>, tensor<4x32x15xf32>, tensor<4x15xf32>, tensor<4x7x32xf32>, tensor<4x32xf32>
  return %y : tensor<4x16x32xf32>
}

// -----

// Tests that with swiglu w2 must have half of w1's width.
func.func @uome_c3_g(%x: tensor<4x16x32xf32>, %wg: tensor<4x32xf32>, %bg: tensor<4xf32>, %w1: tensor<4x32x16xf32>, %b1: tensor<4x16xf32>, %w2: tensor<4x16x32xf32>, %b2: tensor<4x32xf32>) -> tensor<4x16x32xf32> {
  // expected-error @+1 {{'uoe.uome' op w2 must be [E, Fe, d] = [4, 8, 32], but it is 'tensor<4x16x32xf32>'}}
  %y = uoe.uome %x, router(%wg, %bg), up(%w1, %b1), down(%w2, %b2) top 2 capacity 0.5 activation swiglu union
      : tensor<4x16x32xf32>, tensor<4x32xf32>, tensor<4xf32>, tensor<4x32x16xf32>, tensor<4x16xf32>, tensor<4x16x32xf32>, tensor<4x32xf32>
  return %y : tensor<4x16x32xf32>
}

// -----

// Tests that top must be at least 1.
func.func @uome_c4(%x: tensor<4x16x32xf32>, %wg: tensor<4x32xf32>, %bg: tensor<4xf32>, %w1: tensor<4x32x16xf32>, %b1: tensor<4x16xf32>, %w2: tensor<4x16x32xf32>, %b2: tensor<4x32xf32>) -> tensor<4x16x32xf32> {
  // expected-error @+1 {{'uoe.uome' op top (0) must be between 1 and the number of experts (4)}}
  %y = uoe.uome %x, router(%wg, %bg), up(%w1, %b1), down(%w2, %b2) top 0 capacity 0.5 activation gelu union
      : tensor<4x16x32xf32>, tensor<4x32xf32>, tensor<4xf32>, tensor<4x32x16xf32>, tensor<4x16xf32>, tensor<4x16x32xf32>, tensor<4x32xf32>
  return %y : tensor<4x16x32xf32>
}

// -----

// Tests that top must be at most the number of experts.
func.func @uome_c4_b(%x: tensor<4x16x32xf32>, %wg: tensor<4x32xf32>, %bg: tensor<4xf32>, %w1: tensor<4x32x16xf32>, %b1: tensor<4x16xf32>, %w2: tensor<4x16x32xf32>, %b2: tensor<4x32xf32>) -> tensor<4x16x32xf32> {
  // expected-error @+1 {{'uoe.uome' op top (5) must be between 1 and the number of experts (4)}}
  %y = uoe.uome %x, router(%wg, %bg), up(%w1, %b1), down(%w2, %b2) top 5 capacity 0.5 activation gelu union
      : tensor<4x16x32xf32>, tensor<4x32xf32>, tensor<4xf32>, tensor<4x32x16xf32>, tensor<4x16xf32>, tensor<4x16x32xf32>, tensor<4x32xf32>
  return %y : tensor<4x16x32xf32>
}

// -----

// Tests that the patch size must be at least 1.
func.func @uome_c5(%x: tensor<4x16x32xf32>, %wg: tensor<4x32xf32>, %bg: tensor<4xf32>, %w1: tensor<4x32x16xf32>, %b1: tensor<4x16xf32>, %w2: tensor<4x16x32xf32>, %b2: tensor<4x32xf32>) -> tensor<4x16x32xf32> {
  // expected-error @+1 {{'uoe.uome' op patch size (0) must be at least 1}}
  %y = uoe.uome %x, router(%wg, %bg), up(%w1, %b1), down(%w2, %b2) top 2 capacity 0.5 patch 0 activation gelu union
      : tensor<4x16x32xf32>, tensor<4x32xf32>, tensor<4xf32>, tensor<4x32x16xf32>, tensor<4x16xf32>, tensor<4x16x32xf32>, tensor<4x32xf32>
  return %y : tensor<4x16x32xf32>
}

// -----

// Tests that the patch size must divide N1.
func.func @uome_c5_b(%x: tensor<4x16x32xf32>, %wg: tensor<4x32xf32>, %bg: tensor<4xf32>, %w1: tensor<4x32x16xf32>, %b1: tensor<4x16xf32>, %w2: tensor<4x16x32xf32>, %b2: tensor<4x32xf32>) -> tensor<4x16x32xf32> {
  // expected-error @+1 {{'uoe.uome' op patch size (3) must divide the selection axis N1 (16)}}
  %y = uoe.uome %x, router(%wg, %bg), up(%w1, %b1), down(%w2, %b2) top 2 capacity 0.5 patch 3 activation gelu union
      : tensor<4x16x32xf32>, tensor<4x32xf32>, tensor<4xf32>, tensor<4x32x16xf32>, tensor<4x16xf32>, tensor<4x16x32xf32>, tensor<4x32xf32>
  return %y : tensor<4x16x32xf32>
}

// -----

// Tests that the capacity must be positive.
func.func @uome_c5_c(%x: tensor<4x16x32xf32>, %wg: tensor<4x32xf32>, %bg: tensor<4xf32>, %w1: tensor<4x32x16xf32>, %b1: tensor<4x16xf32>, %w2: tensor<4x16x32xf32>, %b2: tensor<4x32xf32>) -> tensor<4x16x32xf32> {
  // expected-error @+1 {{'uoe.uome' op capacity (0.000000e+00) must be positive}}
  %y = uoe.uome %x, router(%wg, %bg), up(%w1, %b1), down(%w2, %b2) top 2 capacity 0.0 activation gelu union
      : tensor<4x16x32xf32>, tensor<4x32xf32>, tensor<4xf32>, tensor<4x32x16xf32>, tensor<4x16xf32>, tensor<4x16x32xf32>, tensor<4x32xf32>
  return %y : tensor<4x16x32xf32>
}

// -----

// Tests that the capacity must select at least one patch (0.05 * 16 < 1).
func.func @uome_c5_d(%x: tensor<4x16x32xf32>, %wg: tensor<4x32xf32>, %bg: tensor<4xf32>, %w1: tensor<4x32x16xf32>, %b1: tensor<4x16xf32>, %w2: tensor<4x16x32xf32>, %b2: tensor<4x32xf32>) -> tensor<4x16x32xf32> {
  // expected-error @+1 {{'uoe.uome' op capacity (5.000000e-02) selects no patch of 16}}
  %y = uoe.uome %x, router(%wg, %bg), up(%w1, %b1), down(%w2, %b2) top 2 capacity 0.05 activation gelu union
      : tensor<4x16x32xf32>, tensor<4x32xf32>, tensor<4xf32>, tensor<4x32x16xf32>, tensor<4x16xf32>, tensor<4x16x32xf32>, tensor<4x32xf32>
  return %y : tensor<4x16x32xf32>
}

// -----

// Tests that the capacity must not select more patches than there are (2 * 16 / 2 > 8).
func.func @uome_c5_e(%x: tensor<4x16x32xf32>, %wg: tensor<4x32xf32>, %bg: tensor<4xf32>, %w1: tensor<4x32x16xf32>, %b1: tensor<4x16xf32>, %w2: tensor<4x16x32xf32>, %b2: tensor<4x32xf32>) -> tensor<4x16x32xf32> {
  // expected-error @+1 {{'uoe.uome' op capacity (2.000000e+00) selects 16 patches, more than the 8 patches there are}}
  %y = uoe.uome %x, router(%wg, %bg), up(%w1, %b1), down(%w2, %b2) top 2 capacity 2.0 patch 2 activation gelu union
      : tensor<4x16x32xf32>, tensor<4x32xf32>, tensor<4xf32>, tensor<4x32x16xf32>, tensor<4x16xf32>, tensor<4x16x32xf32>, tensor<4x32xf32>
  return %y : tensor<4x16x32xf32>
}

// -----

// Tests that the weights must have the element type of the input.
func.func @uome_c6(%x: tensor<4x16x32xf32>, %wg: tensor<4x32xf32>, %bg: tensor<4xf32>, %w1: tensor<4x32x16xf32>, %b1: tensor<4x16xf32>, %w2: tensor<4x16x32xf32>, %b2: tensor<4x32xf16>) -> tensor<4x16x32xf32> {
  // expected-error @+1 {{'uoe.uome' op element types differ: input has 'f32' but b2 has 'f16'}}
  %y = uoe.uome %x, router(%wg, %bg), up(%w1, %b1), down(%w2, %b2) top 2 capacity 0.5 activation gelu union
      : tensor<4x16x32xf32>, tensor<4x32xf32>, tensor<4xf32>, tensor<4x32x16xf32>, tensor<4x16xf32>, tensor<4x16x32xf32>, tensor<4x32xf16>
  return %y : tensor<4x16x32xf32>
}

// -----

// Tests that an integer weight is rejected by the operand type constraint.
func.func @uome_int_weight(%x: tensor<4x16x32xf32>, %wg: tensor<4x32xf32>, %bg: tensor<4xf32>, %w1: tensor<4x32x16xi32>, %b1: tensor<4x16xf32>, %w2: tensor<4x16x32xf32>, %b2: tensor<4x32xf32>) -> tensor<4x16x32xf32> {
  // expected-error @+1 {{'uoe.uome' op operand #3 must be ranked tensor of 16-bit float or bfloat16 type or 32-bit float or 64-bit float values, but got 'tensor<4x32x16xi32>'}}
  %y = uoe.uome %x, router(%wg, %bg), up(%w1, %b1), down(%w2, %b2) top 2 capacity 0.5 activation gelu union
      : tensor<4x16x32xf32>, tensor<4x32xf32>, tensor<4xf32>, tensor<4x32x16xi32>, tensor<4x16xf32>, tensor<4x16x32xf32>, tensor<4x32xf32>
  return %y : tensor<4x16x32xf32>
}

// -----

// Tests that the result must have the input's type (generic form: the custom form
// infers it).
func.func @uome_result_type(%x: tensor<4x16x32xf32>, %wg: tensor<4x32xf32>, %bg: tensor<4xf32>, %w1: tensor<4x32x16xf32>, %b1: tensor<4x16xf32>, %w2: tensor<4x16x32xf32>, %b2: tensor<4x32xf32>) -> tensor<4x16x32xbf16> {
  // expected-error @+1 {{'uoe.uome' op failed to verify that all of {input, result} have same type}}
  %y = "uoe.uome"(%x, %wg, %bg, %w1, %b1, %w2, %b2) <{top = 2 : i64, capacity = 5.000000e-01 : f64, combine = #uoe.combine<union>}>
      : (tensor<4x16x32xf32>, tensor<4x32xf32>, tensor<4xf32>, tensor<4x32x16xf32>, tensor<4x16xf32>, tensor<4x16x32xf32>, tensor<4x32xf32>) -> tensor<4x16x32xbf16>
  return %y : tensor<4x16x32xbf16>
}

// -----

// Tests that the combine mode is a required attribute (generic form).
func.func @uome_missing_combine(%x: tensor<4x16x32xf32>, %wg: tensor<4x32xf32>, %bg: tensor<4xf32>, %w1: tensor<4x32x16xf32>, %b1: tensor<4x16xf32>, %w2: tensor<4x16x32xf32>, %b2: tensor<4x32xf32>) -> tensor<4x16x32xf32> {
  // expected-error @+1 {{'uoe.uome' op requires attribute 'combine'}}
  %y = "uoe.uome"(%x, %wg, %bg, %w1, %b1, %w2, %b2) <{top = 2 : i64}>
      : (tensor<4x16x32xf32>, tensor<4x32xf32>, tensor<4xf32>, tensor<4x32x16xf32>, tensor<4x16xf32>, tensor<4x16x32xf32>, tensor<4x32xf32>) -> tensor<4x16x32xf32>
  return %y : tensor<4x16x32xf32>
}

// -----

// Tests that an unknown combine keyword is a parse error.
func.func @uome_unknown_combine(%x: tensor<4x16x32xf32>, %wg: tensor<4x32xf32>, %bg: tensor<4xf32>, %w1: tensor<4x32x16xf32>, %b1: tensor<4x16xf32>, %w2: tensor<4x16x32xf32>, %b2: tensor<4x32xf32>) -> tensor<4x16x32xf32> {
  // expected-error @+1 {{custom op 'uoe.uome' unknown combine 'sum'}}
  %y = uoe.uome %x, router(%wg, %bg), up(%w1, %b1), down(%w2, %b2) top 2 capacity 0.5 activation gelu sum
      : tensor<4x16x32xf32>, tensor<4x32xf32>, tensor<4xf32>, tensor<4x32x16xf32>, tensor<4x16xf32>, tensor<4x16x32xf32>, tensor<4x32xf32>
  return %y : tensor<4x16x32xf32>
}

// -----

// Tests that causal-safe routing needs patch 1.
func.func @uome_c7(%x: tensor<4x16x32xf32>, %wg: tensor<4x32xf32>, %bg: tensor<4xf32>, %w1: tensor<4x32x16xf32>, %b1: tensor<4x16xf32>, %w2: tensor<4x16x32xf32>, %b2: tensor<4x32xf32>) -> tensor<4x16x32xf32> {
  // expected-error @+1 {{'uoe.uome' op causal-safe routing needs patch 1, but patch = 2 (a patch's score mixes in later tokens)}}
  %y = uoe.uome %x, router(%wg, %bg), up(%w1, %b1), down(%w2, %b2) top 2 capacity 0.5 patch 2 activation gelu union routing causal_safe
      : tensor<4x16x32xf32>, tensor<4x32xf32>, tensor<4xf32>, tensor<4x32x16xf32>, tensor<4x16xf32>, tensor<4x16x32xf32>, tensor<4x32xf32>
  return %y : tensor<4x16x32xf32>
}
