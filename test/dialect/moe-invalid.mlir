// RUN: uoe-opt %s -split-input-file -verify-diagnostics

// Tests that the input must have rank at least 2 ([..., N, d]).
func.func @moe_c1(%x: tensor<32xf32>, %wg: tensor<4x32xf32>, %bg: tensor<4xf32>, %w1: tensor<4x32x16xf32>, %b1: tensor<4x16xf32>, %w2: tensor<4x16x32xf32>, %b2: tensor<4x32xf32>) -> tensor<32xf32> {
  // expected-error @+1 {{'uoe.moe' op input must have rank at least 2 ([..., N, d]), but it is 'tensor<32xf32>'}}
  %y = uoe.moe %x, router(%wg, %bg), up(%w1, %b1), down(%w2, %b2) top 2 renormalize activation silu
      : tensor<32xf32>, tensor<4x32xf32>, tensor<4xf32>, tensor<4x32x16xf32>, tensor<4x16xf32>, tensor<4x16x32xf32>, tensor<4x32xf32>
  return %y : tensor<32xf32>
}

// -----

// Tests that the router weight must have rank 2.
func.func @moe_c2(%x: tensor<16x32xf32>, %wg: tensor<4x32x1xf32>, %bg: tensor<4xf32>, %w1: tensor<4x32x16xf32>, %b1: tensor<4x16xf32>, %w2: tensor<4x16x32xf32>, %b2: tensor<4x32xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{'uoe.moe' op wg must have rank 2 ([E, d]), but it is 'tensor<4x32x1xf32>'}}
  %y = uoe.moe %x, router(%wg, %bg), up(%w1, %b1), down(%w2, %b2) top 2 renormalize activation silu
      : tensor<16x32xf32>, tensor<4x32x1xf32>, tensor<4xf32>, tensor<4x32x16xf32>, tensor<4x16xf32>, tensor<4x16x32xf32>, tensor<4x32xf32>
  return %y : tensor<16x32xf32>
}

// -----

// Tests that the router weight must be [E, d] with d the input width.
func.func @moe_c2_b(%x: tensor<16x32xf32>, %wg: tensor<4x16xf32>, %bg: tensor<4xf32>, %w1: tensor<4x32x16xf32>, %b1: tensor<4x16xf32>, %w2: tensor<4x16x32xf32>, %b2: tensor<4x32xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{'uoe.moe' op wg must be [E, d] = [4, 32], but it is 'tensor<4x16xf32>'}}
  %y = uoe.moe %x, router(%wg, %bg), up(%w1, %b1), down(%w2, %b2) top 2 renormalize activation silu
      : tensor<16x32xf32>, tensor<4x16xf32>, tensor<4xf32>, tensor<4x32x16xf32>, tensor<4x16xf32>, tensor<4x16x32xf32>, tensor<4x32xf32>
  return %y : tensor<16x32xf32>
}

// -----

// Tests that the router bias must be [E].
func.func @moe_c2_c(%x: tensor<16x32xf32>, %wg: tensor<4x32xf32>, %bg: tensor<2xf32>, %w1: tensor<4x32x16xf32>, %b1: tensor<4x16xf32>, %w2: tensor<4x16x32xf32>, %b2: tensor<4x32xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{'uoe.moe' op bg must be [E] = [4], but it is 'tensor<2xf32>'}}
  %y = uoe.moe %x, router(%wg, %bg), up(%w1, %b1), down(%w2, %b2) top 2 renormalize activation silu
      : tensor<16x32xf32>, tensor<4x32xf32>, tensor<2xf32>, tensor<4x32x16xf32>, tensor<4x16xf32>, tensor<4x16x32xf32>, tensor<4x32xf32>
  return %y : tensor<16x32xf32>
}

// -----

// Tests that w1 must have rank 3.
func.func @moe_c3(%x: tensor<16x32xf32>, %wg: tensor<4x32xf32>, %bg: tensor<4xf32>, %w1: tensor<32x16xf32>, %b1: tensor<4x16xf32>, %w2: tensor<4x16x32xf32>, %b2: tensor<4x32xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{'uoe.moe' op w1 must have rank 3 ([E, d, F1]), but it is 'tensor<32x16xf32>'}}
  %y = uoe.moe %x, router(%wg, %bg), up(%w1, %b1), down(%w2, %b2) top 2 renormalize activation silu
      : tensor<16x32xf32>, tensor<4x32xf32>, tensor<4xf32>, tensor<32x16xf32>, tensor<4x16xf32>, tensor<4x16x32xf32>, tensor<4x32xf32>
  return %y : tensor<16x32xf32>
}

// -----

// Tests that w1 must be [E, d, Fe] with the router's E.
func.func @moe_c3_b(%x: tensor<16x32xf32>, %wg: tensor<4x32xf32>, %bg: tensor<4xf32>, %w1: tensor<8x32x16xf32>, %b1: tensor<4x16xf32>, %w2: tensor<4x16x32xf32>, %b2: tensor<4x32xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{'uoe.moe' op w1 must be [E, d, F1] = [4, 32, 16], but it is 'tensor<8x32x16xf32>'}}
  %y = uoe.moe %x, router(%wg, %bg), up(%w1, %b1), down(%w2, %b2) top 2 renormalize activation silu
      : tensor<16x32xf32>, tensor<4x32xf32>, tensor<4xf32>, tensor<8x32x16xf32>, tensor<4x16xf32>, tensor<4x16x32xf32>, tensor<4x32xf32>
  return %y : tensor<16x32xf32>
}

// -----

// Tests that b1 must be [E, Fe].
func.func @moe_c3_c(%x: tensor<16x32xf32>, %wg: tensor<4x32xf32>, %bg: tensor<4xf32>, %w1: tensor<4x32x16xf32>, %b1: tensor<4x32xf32>, %w2: tensor<4x16x32xf32>, %b2: tensor<4x32xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{'uoe.moe' op b1 must be [E, F1] = [4, 16], but it is 'tensor<4x32xf32>'}}
  %y = uoe.moe %x, router(%wg, %bg), up(%w1, %b1), down(%w2, %b2) top 2 renormalize activation silu
      : tensor<16x32xf32>, tensor<4x32xf32>, tensor<4xf32>, tensor<4x32x16xf32>, tensor<4x32xf32>, tensor<4x16x32xf32>, tensor<4x32xf32>
  return %y : tensor<16x32xf32>
}

// -----

// Tests that w2 must be [E, Fe, d].
func.func @moe_c3_d(%x: tensor<16x32xf32>, %wg: tensor<4x32xf32>, %bg: tensor<4xf32>, %w1: tensor<4x32x16xf32>, %b1: tensor<4x16xf32>, %w2: tensor<4x16x16xf32>, %b2: tensor<4x32xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{'uoe.moe' op w2 must be [E, Fe, d] = [4, 16, 32], but it is 'tensor<4x16x16xf32>'}}
  %y = uoe.moe %x, router(%wg, %bg), up(%w1, %b1), down(%w2, %b2) top 2 renormalize activation silu
      : tensor<16x32xf32>, tensor<4x32xf32>, tensor<4xf32>, tensor<4x32x16xf32>, tensor<4x16xf32>, tensor<4x16x16xf32>, tensor<4x32xf32>
  return %y : tensor<16x32xf32>
}

// -----

// Tests that b2 must be [E, d].
func.func @moe_c3_e(%x: tensor<16x32xf32>, %wg: tensor<4x32xf32>, %bg: tensor<4xf32>, %w1: tensor<4x32x16xf32>, %b1: tensor<4x16xf32>, %w2: tensor<4x16x32xf32>, %b2: tensor<32xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{'uoe.moe' op b2 must be [E, d] = [4, 32], but it is 'tensor<32xf32>'}}
  %y = uoe.moe %x, router(%wg, %bg), up(%w1, %b1), down(%w2, %b2) top 2 renormalize activation silu
      : tensor<16x32xf32>, tensor<4x32xf32>, tensor<4xf32>, tensor<4x32x16xf32>, tensor<4x16xf32>, tensor<4x16x32xf32>, tensor<32xf32>
  return %y : tensor<16x32xf32>
}

// -----

// Tests that swiglu needs an even w1 width.
func.func @moe_c3_f(%x: tensor<16x32xf32>, %wg: tensor<4x32xf32>, %bg: tensor<4xf32>, %w1: tensor<4x32x9xf32>, %b1: tensor<4x9xf32>, %w2: tensor<4x4x32xf32>, %b2: tensor<4x32xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{'uoe.moe' op swiglu needs an even width of w1 ([gate | up] halves), but it is 9}}
  %y = uoe.moe %x, router(%wg, %bg), up(%w1, %b1), down(%w2, %b2) top 2 activation swiglu
      : tensor<16x32xf32>, tensor<4x32xf32>, tensor<4xf32>, tensor<4x32x9xf32>, tensor<4x9xf32>, tensor<4x4x32xf32>, tensor<4x32xf32>
  return %y : tensor<16x32xf32>
}

// -----

// Tests that with swiglu w2 must have half of w1's width.
func.func @moe_c3_g(%x: tensor<16x32xf32>, %wg: tensor<4x32xf32>, %bg: tensor<4xf32>, %w1: tensor<4x32x16xf32>, %b1: tensor<4x16xf32>, %w2: tensor<4x16x32xf32>, %b2: tensor<4x32xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{'uoe.moe' op w2 must be [E, Fe, d] = [4, 8, 32], but it is 'tensor<4x16x32xf32>'}}
  %y = uoe.moe %x, router(%wg, %bg), up(%w1, %b1), down(%w2, %b2) top 2 activation swiglu
      : tensor<16x32xf32>, tensor<4x32xf32>, tensor<4xf32>, tensor<4x32x16xf32>, tensor<4x16xf32>, tensor<4x16x32xf32>, tensor<4x32xf32>
  return %y : tensor<16x32xf32>
}

// -----

// Tests that top must be at least 1.
func.func @moe_c4(%x: tensor<16x32xf32>, %wg: tensor<4x32xf32>, %bg: tensor<4xf32>, %w1: tensor<4x32x16xf32>, %b1: tensor<4x16xf32>, %w2: tensor<4x16x32xf32>, %b2: tensor<4x32xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{'uoe.moe' op top (0) must be between 1 and the number of experts (4)}}
  %y = uoe.moe %x, router(%wg, %bg), up(%w1, %b1), down(%w2, %b2) top 0 activation silu
      : tensor<16x32xf32>, tensor<4x32xf32>, tensor<4xf32>, tensor<4x32x16xf32>, tensor<4x16xf32>, tensor<4x16x32xf32>, tensor<4x32xf32>
  return %y : tensor<16x32xf32>
}

// -----

// Tests that top must be at most the number of experts.
func.func @moe_c4_b(%x: tensor<16x32xf32>, %wg: tensor<4x32xf32>, %bg: tensor<4xf32>, %w1: tensor<4x32x16xf32>, %b1: tensor<4x16xf32>, %w2: tensor<4x16x32xf32>, %b2: tensor<4x32xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{'uoe.moe' op top (5) must be between 1 and the number of experts (4)}}
  %y = uoe.moe %x, router(%wg, %bg), up(%w1, %b1), down(%w2, %b2) top 5 renormalize activation silu
      : tensor<16x32xf32>, tensor<4x32xf32>, tensor<4xf32>, tensor<4x32x16xf32>, tensor<4x16xf32>, tensor<4x16x32xf32>, tensor<4x32xf32>
  return %y : tensor<16x32xf32>
}

// -----

// Tests that the router weights must have the element type of the input.
func.func @moe_c5(%x: tensor<16x32xf32>, %wg: tensor<4x32xbf16>, %bg: tensor<4xbf16>, %w1: tensor<4x32x16xf32>, %b1: tensor<4x16xf32>, %w2: tensor<4x16x32xf32>, %b2: tensor<4x32xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{'uoe.moe' op element types differ: input has 'f32' but wg has 'bf16'}}
  %y = uoe.moe %x, router(%wg, %bg), up(%w1, %b1), down(%w2, %b2) top 2 renormalize activation silu
      : tensor<16x32xf32>, tensor<4x32xbf16>, tensor<4xbf16>, tensor<4x32x16xf32>, tensor<4x16xf32>, tensor<4x16x32xf32>, tensor<4x32xf32>
  return %y : tensor<16x32xf32>
}

// -----

// Tests that the result must have the input's type (generic form: the custom form
// infers it).
func.func @moe_result_type(%x: tensor<16x32xf32>, %wg: tensor<4x32xf32>, %bg: tensor<4xf32>, %w1: tensor<4x32x16xf32>, %b1: tensor<4x16xf32>, %w2: tensor<4x16x32xf32>, %b2: tensor<4x32xf32>) -> tensor<16x16xf32> {
  // expected-error @+1 {{'uoe.moe' op failed to verify that all of {input, result} have same type}}
  %y = "uoe.moe"(%x, %wg, %bg, %w1, %b1, %w2, %b2) <{top = 2 : i64}>
      : (tensor<16x32xf32>, tensor<4x32xf32>, tensor<4xf32>, tensor<4x32x16xf32>, tensor<4x16xf32>, tensor<4x16x32xf32>, tensor<4x32xf32>) -> tensor<16x16xf32>
  return %y : tensor<16x16xf32>
}

// -----

// Tests that top is a required attribute (generic form).
func.func @moe_missing_top(%x: tensor<16x32xf32>, %wg: tensor<4x32xf32>, %bg: tensor<4xf32>, %w1: tensor<4x32x16xf32>, %b1: tensor<4x16xf32>, %w2: tensor<4x16x32xf32>, %b2: tensor<4x32xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{'uoe.moe' op requires attribute 'top'}}
  %y = "uoe.moe"(%x, %wg, %bg, %w1, %b1, %w2, %b2) <{renormalize}>
      : (tensor<16x32xf32>, tensor<4x32xf32>, tensor<4xf32>, tensor<4x32x16xf32>, tensor<4x16xf32>, tensor<4x16x32xf32>, tensor<4x32xf32>) -> tensor<16x32xf32>
  return %y : tensor<16x32xf32>
}

// -----

// Tests that an unknown activation keyword is a parse error.
func.func @moe_unknown_activation(%x: tensor<16x32xf32>, %wg: tensor<4x32xf32>, %bg: tensor<4xf32>, %w1: tensor<4x32x16xf32>, %b1: tensor<4x16xf32>, %w2: tensor<4x16x32xf32>, %b2: tensor<4x32xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{custom op 'uoe.moe' unknown activation 'geglu'}}
  %y = uoe.moe %x, router(%wg, %bg), up(%w1, %b1), down(%w2, %b2) top 2 activation geglu
      : tensor<16x32xf32>, tensor<4x32xf32>, tensor<4xf32>, tensor<4x32x16xf32>, tensor<4x16xf32>, tensor<4x16x32xf32>, tensor<4x32xf32>
  return %y : tensor<16x32xf32>
}

// -----

// Tests that an unknown score in the attribute dict is a parse error.
func.func @moe_unknown_score(%x: tensor<16x32xf32>, %wg: tensor<4x32xf32>, %bg: tensor<4xf32>, %w1: tensor<4x32x16xf32>, %b1: tensor<4x16xf32>, %w2: tensor<4x16x32xf32>, %b2: tensor<4x32xf32>) -> tensor<16x32xf32> {
  // expected-error @+2 {{expected ::mlir::uoe::RouterScore to be one of: softmax, sigmoid}}
  // expected-error @+1 {{failed to parse UoE_RouterScoreAttr parameter 'value' which is to be a `::mlir::uoe::RouterScore`}}
  %y = uoe.moe %x, router(%wg, %bg), up(%w1, %b1), down(%w2, %b2) top 2 activation silu {score = #uoe.score<tanh>}
      : tensor<16x32xf32>, tensor<4x32xf32>, tensor<4xf32>, tensor<4x32x16xf32>, tensor<4x16xf32>, tensor<4x16x32xf32>, tensor<4x32xf32>
  return %y : tensor<16x32xf32>
}
