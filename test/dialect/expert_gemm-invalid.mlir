// RUN: uoe-opt %s -split-input-file -verify-diagnostics

// Tests that an expert GEMM rhs must be [E, K, Nw].
func.func @expert_gemm_c1(%x: tensor<4x16x32xf32>, %w: tensor<32x16xf32>, %pos: tensor<3x4x8xi64>) -> tensor<3x4x8x16xf32> {
  // expected-error @+1 {{'uoe.expert_gemm' op rhs must have rank 3 ([E, K, Nw]), but it is 'tensor<32x16xf32>'}}
  %h = uoe.expert_gemm %x, %w gather %pos patch 1 : (tensor<4x16x32xf32>, tensor<32x16xf32>, tensor<3x4x8xi64>) -> tensor<3x4x8x16xf32>
  return %h : tensor<3x4x8x16xf32>
}

// -----

// Tests that the bias must be [E, Nw].
func.func @expert_gemm_c1_bias(%x: tensor<4x16x32xf32>, %w: tensor<3x32x16xf32>, %b: tensor<3x8xf32>, %pos: tensor<3x4x8xi64>) -> tensor<3x4x8x16xf32> {
  // expected-error @+1 {{'uoe.expert_gemm' op bias must be [E, Nw] = [3, 16], but it is 'tensor<3x8xf32>'}}
  %h = uoe.expert_gemm %x, %w bias %b gather %pos patch 1 : (tensor<4x16x32xf32>, tensor<3x32x16xf32>, tensor<3x8xf32>, tensor<3x4x8xi64>) -> tensor<3x4x8x16xf32>
  return %h : tensor<3x4x8x16xf32>
}

// -----

// Tests that a gathering GEMM's lhs must have the contraction size of rhs.
func.func @expert_gemm_c2(%x: tensor<4x16x30xf32>, %w: tensor<3x32x16xf32>, %pos: tensor<3x4x8xi64>) -> tensor<3x4x8x16xf32> {
  // expected-error @+1 {{'uoe.expert_gemm' op lhs must be [R, N, K] = [4, 16, 32], but it is 'tensor<4x16x30xf32>'}}
  %h = uoe.expert_gemm %x, %w gather %pos patch 1 : (tensor<4x16x30xf32>, tensor<3x32x16xf32>, tensor<3x4x8xi64>) -> tensor<3x4x8x16xf32>
  return %h : tensor<3x4x8x16xf32>
}

// -----

// Tests that the combine positions must match the lhs rows.
func.func @expert_gemm_c3(%h: tensor<3x4x8x16xf32>, %w: tensor<3x16x32xf32>, %pos: tensor<3x4x6xi64>) -> tensor<4x16x32xf32> {
  // expected-error @+1 {{'uoe.expert_gemm' op lhs must be [E, R, L*P, K] = [3, 4, 6, 16], but it is 'tensor<3x4x8x16xf32>'}}
  %y = uoe.expert_gemm %h, %w combine %pos patch 1 : (tensor<3x4x8x16xf32>, tensor<3x16x32xf32>, tensor<3x4x6xi64>) -> tensor<4x16x32xf32>
  return %y : tensor<4x16x32xf32>
}

// -----

// Tests that a combined result must be [R, N, width].
func.func @expert_gemm_c3_result(%h: tensor<3x4x8x16xf32>, %w: tensor<3x16x32xf32>, %pos: tensor<3x4x8xi64>) -> tensor<4x16x16xf32> {
  // expected-error @+1 {{'uoe.expert_gemm' op result must be [R, N, width] = [4, 16, 32], but it is 'tensor<4x16x16xf32>'}}
  %y = uoe.expert_gemm %h, %w combine %pos patch 1 : (tensor<3x4x8x16xf32>, tensor<3x16x32xf32>, tensor<3x4x8xi64>) -> tensor<4x16x16xf32>
  return %y : tensor<4x16x16xf32>
}

// -----

// Tests that an op with neither gather nor combine is rejected.
func.func @expert_gemm_c4(%h: tensor<3x4x8x16xf32>, %w: tensor<3x16x32xf32>) -> tensor<3x4x8x32xf32> {
  // expected-error @+1 {{'uoe.expert_gemm' op needs gather or combine positions (without either it is a uoe.expert_matmul)}}
  %y = uoe.expert_gemm %h, %w patch 1 : (tensor<3x4x8x16xf32>, tensor<3x16x32xf32>) -> tensor<3x4x8x32xf32>
  return %y : tensor<3x4x8x32xf32>
}

// -----

// Tests that the element types must agree.
func.func @expert_gemm_c5(%x: tensor<4x16x32xf32>, %w: tensor<3x32x16xf64>, %pos: tensor<3x4x8xi64>) -> tensor<3x4x8x16xf32> {
  // expected-error @+1 {{'uoe.expert_gemm' op element types differ: lhs has 'f32' but rhs has 'f64'}}
  %h = uoe.expert_gemm %x, %w gather %pos patch 1 : (tensor<4x16x32xf32>, tensor<3x32x16xf64>, tensor<3x4x8xi64>) -> tensor<3x4x8x16xf32>
  return %h : tensor<3x4x8x16xf32>
}
