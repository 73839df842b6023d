// RUN: uoe-opt %s -split-input-file -verify-diagnostics

// Tests that rank-0 ids are rejected: they have no sequence axis T.
func.func @embedding_c1(%ids: tensor<i64>, %table: tensor<37x48xf32>) -> tensor<48xf32> {
  // expected-error @+1 {{'uoe.embedding' op ids must have rank at least 1 ([..., T]), but it is 'tensor<i64>'}}
  %h = uoe.embedding %ids, %table : tensor<i64>, tensor<37x48xf32> -> tensor<48xf32>
  return %h : tensor<48xf32>
}

// -----

// Tests that ids must have a static shape.
func.func @embedding_c1_b(%ids: tensor<2x?xi64>, %table: tensor<37x48xf32>) -> tensor<2x5x48xf32> {
  // expected-error @+1 {{'uoe.embedding' op ids must have a static shape, but it is 'tensor<2x?xi64>'}}
  %h = uoe.embedding %ids, %table : tensor<2x?xi64>, tensor<37x48xf32> -> tensor<2x5x48xf32>
  return %h : tensor<2x5x48xf32>
}

// -----

// Tests that the table must be a matrix [V, d].
func.func @embedding_c2(%ids: tensor<2x5xi64>, %table: tensor<37x6x8xf32>) -> tensor<2x5x48xf32> {
  // expected-error @+1 {{'uoe.embedding' op table must have rank 2 ([V, d]), but it is 'tensor<37x6x8xf32>'}}
  %h = uoe.embedding %ids, %table : tensor<2x5xi64>, tensor<37x6x8xf32> -> tensor<2x5x48xf32>
  return %h : tensor<2x5x48xf32>
}

// -----

// Tests that an empty table (V = 0) is rejected: no id could be looked up.
func.func @embedding_c2_b(%ids: tensor<2x5xi64>, %table: tensor<0x48xf32>) -> tensor<2x5x48xf32> {
  // expected-error @+1 {{'uoe.embedding' op table must have at least one row (V >= 1), but it is 'tensor<0x48xf32>'}}
  %h = uoe.embedding %ids, %table : tensor<2x5xi64>, tensor<0x48xf32> -> tensor<2x5x48xf32>
  return %h : tensor<2x5x48xf32>
}

// -----

// Tests that the table must have a static shape.
func.func @embedding_c2_c(%ids: tensor<2x5xi64>, %table: tensor<?x48xf32>) -> tensor<2x5x48xf32> {
  // expected-error @+1 {{'uoe.embedding' op table must have a static shape, but it is 'tensor<?x48xf32>'}}
  %h = uoe.embedding %ids, %table : tensor<2x5xi64>, tensor<?x48xf32> -> tensor<2x5x48xf32>
  return %h : tensor<2x5x48xf32>
}

// -----

// Tests that the position table must have the table's width d.
func.func @embedding_c3(%ids: tensor<2x5xi64>, %table: tensor<37x48xf32>, %pos: tensor<8x32xf32>) -> tensor<2x5x48xf32> {
  // expected-error @+1 {{'uoe.embedding' op positions must be [P, d] = [8, 48], but it is 'tensor<8x32xf32>'}}
  %h = uoe.embedding %ids, %table positions %pos : tensor<2x5xi64>, tensor<37x48xf32>, tensor<8x32xf32> -> tensor<2x5x48xf32>
  return %h : tensor<2x5x48xf32>
}

// -----

// Tests that the position table must cover the sequence length T.
func.func @embedding_c3_b(%ids: tensor<2x5xi64>, %table: tensor<37x48xf32>, %pos: tensor<4x48xf32>) -> tensor<2x5x48xf32> {
  // expected-error @+1 {{'uoe.embedding' op positions has 4 rows, fewer than the sequence length T = 5 (the last dimension of ids)}}
  %h = uoe.embedding %ids, %table positions %pos : tensor<2x5xi64>, tensor<37x48xf32>, tensor<4x48xf32> -> tensor<2x5x48xf32>
  return %h : tensor<2x5x48xf32>
}

// -----

// Tests that the position table must be a matrix.
func.func @embedding_c3_c(%ids: tensor<2x5xi64>, %table: tensor<37x48xf32>, %pos: tensor<48xf32>) -> tensor<2x5x48xf32> {
  // expected-error @+1 {{'uoe.embedding' op positions must have rank 2 ([P, d]), but it is 'tensor<48xf32>'}}
  %h = uoe.embedding %ids, %table positions %pos : tensor<2x5xi64>, tensor<37x48xf32>, tensor<48xf32> -> tensor<2x5x48xf32>
  return %h : tensor<2x5x48xf32>
}

// -----

// Tests that the result must be the shape of ids followed by d.
func.func @embedding_c4(%ids: tensor<2x5xi64>, %table: tensor<37x48xf32>) -> tensor<2x5x37xf32> {
  // expected-error @+1 {{'uoe.embedding' op result must be [..., T, d] = [2, 5, 48], but it is 'tensor<2x5x37xf32>'}}
  %h = uoe.embedding %ids, %table : tensor<2x5xi64>, tensor<37x48xf32> -> tensor<2x5x37xf32>
  return %h : tensor<2x5x37xf32>
}

// -----

// Tests that the position table must have the table's element type.
func.func @embedding_c5(%ids: tensor<2x5xi64>, %table: tensor<37x48xf32>, %pos: tensor<8x48xf16>) -> tensor<2x5x48xf32> {
  // expected-error @+1 {{'uoe.embedding' op element types differ: table has 'f32' but positions has 'f16'}}
  %h = uoe.embedding %ids, %table positions %pos : tensor<2x5xi64>, tensor<37x48xf32>, tensor<8x48xf16> -> tensor<2x5x48xf32>
  return %h : tensor<2x5x48xf32>
}

// -----

// Tests that the result must have the table's element type.
func.func @embedding_c5_b(%ids: tensor<2x5xi64>, %table: tensor<37x48xf32>) -> tensor<2x5x48xbf16> {
  // expected-error @+1 {{'uoe.embedding' op element types differ: table has 'f32' but result has 'bf16'}}
  %h = uoe.embedding %ids, %table : tensor<2x5xi64>, tensor<37x48xf32> -> tensor<2x5x48xbf16>
  return %h : tensor<2x5x48xbf16>
}

// -----

// Tests that float ids are rejected by the operand type constraint.
func.func @embedding_float_ids(%ids: tensor<2x5xf32>, %table: tensor<37x48xf32>) -> tensor<2x5x48xf32> {
  // expected-error @+1 {{'uoe.embedding' op operand #0 must be ranked tensor of 32-bit signless integer or 64-bit signless integer values, but got 'tensor<2x5xf32>'}}
  %h = uoe.embedding %ids, %table : tensor<2x5xf32>, tensor<37x48xf32> -> tensor<2x5x48xf32>
  return %h : tensor<2x5x48xf32>
}
