// RUN: uoe-opt %s --mlir-print-op-generic | uoe-opt | FileCheck %s

// Every op, with its optional clauses, printed in the generic form (properties,
// optional operands, unit attributes) and parsed back must print the same
// custom form again.

// Tests that the layer ops dense_mlp, attention and the two norms survive the
// generic form, with key_padding, causal, rope and rope_base.
// CHECK-LABEL: func.func @dense_layers
// CHECK-SAME: ([[X:%.+]]: tensor<2x16x32xf32>, [[W1:%.+]]: tensor<32x128xf32>, [[B1:%.+]]: tensor<128xf32>, [[W2:%.+]]: tensor<64x32xf32>, [[B2:%.+]]: tensor<32xf32>, [[WQKV:%.+]]: tensor<3x32x32xf32>, [[BQKV:%.+]]: tensor<3x32xf32>, [[WO:%.+]]: tensor<32x32xf32>, [[KP:%.+]]: tensor<2x16xi1>)
// CHECK: [[M:%.+]] = uoe.dense_mlp [[X]], up([[W1]], [[B1]]), down([[W2]], [[B2]]) activation swiglu : tensor<2x16x32xf32>, tensor<32x128xf32>, tensor<128xf32>, tensor<64x32xf32>, tensor<32xf32>{{$}}
// CHECK: [[A:%.+]] = uoe.attention [[M]], qkv([[WQKV]], [[BQKV]]), out([[WO]], [[B2]]) key_padding [[KP]] heads 4 causal rope original {rope_base = 5.000000e+05 : f64} : tensor<2x16x32xf32>, tensor<3x32x32xf32>, tensor<3x32xf32>, tensor<32x32xf32>, tensor<32xf32>, tensor<2x16xi1>{{$}}
// CHECK: [[L:%.+]] = uoe.layer_norm [[A]], [[B2]], [[B2]] eps 1.000000e-05 : tensor<2x16x32xf32>, tensor<32xf32>, tensor<32xf32>{{$}}
// CHECK: [[R:%.+]] = uoe.rms_norm [[L]], [[B2]] eps 9.9999999999999995E-7 : tensor<2x16x32xf32>, tensor<32xf32>{{$}}
// CHECK: return [[R]]
func.func @dense_layers(%x: tensor<2x16x32xf32>, %w1: tensor<32x128xf32>, %b1: tensor<128xf32>, %w2: tensor<64x32xf32>,
                        %b2: tensor<32xf32>, %wqkv: tensor<3x32x32xf32>, %bqkv: tensor<3x32xf32>, %wo: tensor<32x32xf32>,
                        %kp: tensor<2x16xi1>) -> tensor<2x16x32xf32> {
  %m = uoe.dense_mlp %x, up(%w1, %b1), down(%w2, %b2) activation swiglu
      : tensor<2x16x32xf32>, tensor<32x128xf32>, tensor<128xf32>, tensor<64x32xf32>, tensor<32xf32>
  %a = uoe.attention %m, qkv(%wqkv, %bqkv), out(%wo, %b2) key_padding %kp heads 4 causal rope original {rope_base = 500000.0 : f64}
      : tensor<2x16x32xf32>, tensor<3x32x32xf32>, tensor<3x32xf32>, tensor<32x32xf32>, tensor<32xf32>, tensor<2x16xi1>
  %l = uoe.layer_norm %a, %b2, %b2 eps 1.0e-5 : tensor<2x16x32xf32>, tensor<32xf32>, tensor<32xf32>
  %r = uoe.rms_norm %l, %b2 eps 1.0e-6 : tensor<2x16x32xf32>, tensor<32xf32>
  return %r : tensor<2x16x32xf32>
}

// Tests that the expert layer ops uome, moe and smha survive the generic form,
// with their keyword-less options (score, eps, norm_capacity, rope_base).
// CHECK-LABEL: func.func @expert_layers
// CHECK: [[U:%.+]] = uoe.uome %{{.+}}, router(%{{.+}}, %{{.+}}), up(%{{.+}}, %{{.+}}), down(%{{.+}}, %{{.+}}) top 2 capacity 5.000000e-01 patch 2 activation silu gated {eps = 1.000000e-05 : f64, norm_capacity = 2.000000e+00 : f64, score = #uoe.score<sigmoid>} : tensor<2x16x32xf32>, tensor<4x32xf32>, tensor<4xf32>, tensor<4x32x16xf32>, tensor<4x16xf32>, tensor<4x16x32xf32>, tensor<4x32xf32>{{$}}
// CHECK: [[M:%.+]] = uoe.moe [[U]], router({{.+}}) top 2 renormalize activation gelu_tanh {score = #uoe.score<sigmoid>} : tensor<2x16x32xf32>
// CHECK: [[S:%.+]] = uoe.smha [[M]], router({{.+}}) key_padding %{{.+}} heads 4 top 1 causal rope compacted union {rope_base = 1.000000e+05 : f64} : tensor<2x16x32xf32>, tensor<2x32xf32>, tensor<2xf32>, tensor<3x2x32x16xf32>, tensor<3x2x16xf32>, tensor<2x16x32xf32>, tensor<2x32xf32>, tensor<2x16xi1>{{$}}
// CHECK: return [[S]]
func.func @expert_layers(%x: tensor<2x16x32xf32>, %wg: tensor<4x32xf32>, %bg: tensor<4xf32>, %w1: tensor<4x32x16xf32>,
                         %b1: tensor<4x16xf32>, %w2: tensor<4x16x32xf32>, %b2: tensor<4x32xf32>,
                         %swg: tensor<2x32xf32>, %sbg: tensor<2xf32>, %wqkv: tensor<3x2x32x16xf32>, %bqkv: tensor<3x2x16xf32>,
                         %wo: tensor<2x16x32xf32>, %bo: tensor<2x32xf32>, %kp: tensor<2x16xi1>) -> tensor<2x16x32xf32> {
  %u = uoe.uome %x, router(%wg, %bg), up(%w1, %b1), down(%w2, %b2) top 2 capacity 0.5 patch 2 activation silu gated
      {score = #uoe.score<sigmoid>, eps = 1.0e-5 : f64, norm_capacity = 2.0 : f64}
      : tensor<2x16x32xf32>, tensor<4x32xf32>, tensor<4xf32>, tensor<4x32x16xf32>, tensor<4x16xf32>, tensor<4x16x32xf32>, tensor<4x32xf32>
  %m = uoe.moe %u, router(%wg, %bg), up(%w1, %b1), down(%w2, %b2) top 2 renormalize activation gelu_tanh {score = #uoe.score<sigmoid>}
      : tensor<2x16x32xf32>, tensor<4x32xf32>, tensor<4xf32>, tensor<4x32x16xf32>, tensor<4x16xf32>, tensor<4x16x32xf32>, tensor<4x32xf32>
  %s = uoe.smha %m, router(%swg, %sbg), qkv(%wqkv, %bqkv), out(%wo, %bo) key_padding %kp heads 4 top 1 causal rope compacted union
      {rope_base = 100000.0 : f64}
      : tensor<2x16x32xf32>, tensor<2x32xf32>, tensor<2xf32>, tensor<3x2x32x16xf32>, tensor<3x2x16xf32>, tensor<2x16x32xf32>,
        tensor<2x32xf32>, tensor<2x16xi1>
  return %s : tensor<2x16x32xf32>
}

// Tests that the routing ops router, token_choice (both normalisations),
// data_select (static and dynamic) and expert_select survive the generic form.
// CHECK-LABEL: func.func @routing
// CHECK: [[P:%.+]] = uoe.router %{{.+}}, %{{.+}}, %{{.+}} score sigmoid : tensor<4x16x32xf32>, tensor<3x32xf32>, tensor<3xf32> -> tensor<4x16x3xf32>{{$}}
// CHECK: [[G:%.+]] = uoe.token_choice [[P]] top 2 renormalize normalize axis 0 eps 0.000000e+00 capacity 5.000000e-01 : tensor<4x16x3xf32>{{$}}
// CHECK: [[T:%.+]] = uoe.token_choice [[G]] top 1 : tensor<4x16x3xf32>{{$}}
// CHECK: [[POS:%.+]], [[W:%.+]] = uoe.data_select [[T]] patch 2 capacity 5.000000e-01 : tensor<4x16x3xf32> -> tensor<3x4x4xi64>, tensor<3x4x4xf32>{{$}}
// CHECK: [[DPOS:%.+]], [[DW:%.+]] = uoe.data_select [[T]] patch 1 dynamic : tensor<4x16x3xf32> -> tensor<3x4x?xi64>, tensor<3x4x?xf32>{{$}}
// CHECK: [[IDX:%.+]], [[EW:%.+]] = uoe.expert_select [[P]] top 2 renormalize : tensor<4x16x3xf32> -> tensor<4x16x2xi64>, tensor<4x16x2xf32>{{$}}
// CHECK: return [[POS]], [[W]], [[DPOS]], [[DW]], [[IDX]], [[EW]]
func.func @routing(%x: tensor<4x16x32xf32>, %wg: tensor<3x32xf32>, %bg: tensor<3xf32>)
    -> (tensor<3x4x4xi64>, tensor<3x4x4xf32>, tensor<3x4x?xi64>, tensor<3x4x?xf32>, tensor<4x16x2xi64>, tensor<4x16x2xf32>) {
  %p = uoe.router %x, %wg, %bg score sigmoid : tensor<4x16x32xf32>, tensor<3x32xf32>, tensor<3xf32> -> tensor<4x16x3xf32>
  %g = uoe.token_choice %p top 2 renormalize normalize axis 0 eps 0.0 capacity 0.5 : tensor<4x16x3xf32>
  %t = uoe.token_choice %g top 1 : tensor<4x16x3xf32>
  %pos, %w = uoe.data_select %t patch 2 capacity 0.5 : tensor<4x16x3xf32> -> tensor<3x4x4xi64>, tensor<3x4x4xf32>
  %dpos, %dw = uoe.data_select %t patch 1 dynamic : tensor<4x16x3xf32> -> tensor<3x4x?xi64>, tensor<3x4x?xf32>
  %idx, %ew = uoe.expert_select %p top 2 renormalize : tensor<4x16x3xf32> -> tensor<4x16x2xi64>, tensor<4x16x2xf32>
  return %pos, %w, %dpos, %dw, %idx, %ew
      : tensor<3x4x4xi64>, tensor<3x4x4xf32>, tensor<3x4x?xi64>, tensor<3x4x?xf32>, tensor<4x16x2xi64>, tensor<4x16x2xf32>
}

// Tests that the expert ops dispatch, expert_matmul (with and without bias),
// selective_attention (key_padding, scale) and combine (gated and union)
// survive the generic form, over a dynamic capacity L.
// CHECK-LABEL: func.func @expert_compute
// CHECK-SAME: ([[X:%.+]]: tensor<4x16x32xf32>, [[POS:%.+]]: tensor<3x4x?xi64>, [[CW:%.+]]: tensor<3x4x?xf32>, [[W1:%.+]]: tensor<3x32x32xf32>, [[B1:%.+]]: tensor<3x32xf32>, [[W2:%.+]]: tensor<3x16x32xf32>, [[KP:%.+]]: tensor<4x16xi1>)
// CHECK: [[XS:%.+]] = uoe.dispatch [[X]], [[POS]] patch 1 : tensor<4x16x32xf32>, tensor<3x4x?xi64> -> tensor<3x4x?x32xf32>{{$}}
// CHECK: [[H:%.+]] = uoe.expert_matmul [[XS]], [[W1]] bias [[B1]] activation swiglu : tensor<3x4x?x32xf32>, tensor<3x32x32xf32>, tensor<3x32xf32> -> tensor<3x4x?x16xf32>{{$}}
// CHECK: [[O:%.+]] = uoe.expert_matmul [[H]], [[W2]] : tensor<3x4x?x16xf32>, tensor<3x16x32xf32> -> tensor<3x4x?x32xf32>{{$}}
// CHECK: [[A:%.+]] = uoe.selective_attention [[O]], [[O]], [[O]], [[POS]] key_padding [[KP]] heads 4 causal rope original {scale = 2.500000e-01 : f64} : tensor<3x4x?x32xf32>, tensor<3x4x?x32xf32>, tensor<3x4x?x32xf32>, tensor<3x4x?xi64>, tensor<4x16xi1> -> tensor<3x4x?x32xf32>{{$}}
// CHECK: [[G:%.+]] = uoe.combine [[A]], [[POS]] weights [[CW]] gated patch 1 : tensor<3x4x?x32xf32>, tensor<3x4x?xi64>, tensor<3x4x?xf32> -> tensor<4x16x32xf32>{{$}}
// CHECK: [[U:%.+]] = uoe.combine [[A]], [[POS]] union patch 1 : tensor<3x4x?x32xf32>, tensor<3x4x?xi64> -> tensor<4x16x32xf32>{{$}}
// CHECK: return [[G]], [[U]]
func.func @expert_compute(%x: tensor<4x16x32xf32>, %pos: tensor<3x4x?xi64>, %cw: tensor<3x4x?xf32>, %w1: tensor<3x32x32xf32>,
                          %b1: tensor<3x32xf32>, %w2: tensor<3x16x32xf32>, %kp: tensor<4x16xi1>)
    -> (tensor<4x16x32xf32>, tensor<4x16x32xf32>) {
  %xs = uoe.dispatch %x, %pos patch 1 : tensor<4x16x32xf32>, tensor<3x4x?xi64> -> tensor<3x4x?x32xf32>
  %h = uoe.expert_matmul %xs, %w1 bias %b1 activation swiglu
      : tensor<3x4x?x32xf32>, tensor<3x32x32xf32>, tensor<3x32xf32> -> tensor<3x4x?x16xf32>
  %o = uoe.expert_matmul %h, %w2 : tensor<3x4x?x16xf32>, tensor<3x16x32xf32> -> tensor<3x4x?x32xf32>
  %a = uoe.selective_attention %o, %o, %o, %pos key_padding %kp heads 4 causal rope original {scale = 0.25 : f64}
      : tensor<3x4x?x32xf32>, tensor<3x4x?x32xf32>, tensor<3x4x?x32xf32>, tensor<3x4x?xi64>, tensor<4x16xi1> -> tensor<3x4x?x32xf32>
  %g = uoe.combine %a, %pos weights %cw gated patch 1
      : tensor<3x4x?x32xf32>, tensor<3x4x?xi64>, tensor<3x4x?xf32> -> tensor<4x16x32xf32>
  %u = uoe.combine %a, %pos union patch 1 : tensor<3x4x?x32xf32>, tensor<3x4x?xi64> -> tensor<4x16x32xf32>
  return %g, %u : tensor<4x16x32xf32>, tensor<4x16x32xf32>
}
