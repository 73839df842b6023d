// RUN: uoe-opt %s -split-input-file --uoe-expand-layers | FileCheck %s
// RUN: uoe-opt %s -split-input-file --uoe-expand-layers=dense-layers | FileCheck %s --check-prefix=DENSE

// Tests that uome routes with normalisation over axis 0, selects a static
// capacity along axis 1 and runs the expert MLP on the dispatched tokens.
// CHECK-LABEL: func.func @uome_union
// CHECK-SAME: (%[[X:.+]]: tensor<16x4x32xf32>, %[[WG:.+]]: tensor<4x32xf32>, %[[BG:.+]]: tensor<4xf32>, %[[W1:.+]]: tensor<4x32x16xf32>, %[[B1:.+]]: tensor<4x16xf32>, %[[W2:.+]]: tensor<4x16x32xf32>, %[[B2:.+]]: tensor<4x32xf32>)
// CHECK: %[[P:.+]] = uoe.router %[[X]], %[[WG]], %[[BG]] score softmax : {{.*}} -> tensor<16x4x4xf32>
// CHECK: %[[G:.+]] = uoe.token_choice %[[P]] top 2 normalize axis 0 eps {{.*}} capacity 1.000000e+00
// CHECK: %[[POS:.+]], %{{.+}} = uoe.data_select %[[G]] patch 1 capacity 5.000000e-01 : tensor<16x4x4xf32> -> tensor<4x16x2xi64>, tensor<4x16x2xf32>
// CHECK: %[[XS:.+]] = uoe.dispatch %[[X]], %[[POS]] patch 1 : {{.*}} -> tensor<4x16x2x32xf32>
// CHECK: %[[H:.+]] = uoe.expert_matmul %[[XS]], %[[W1]] bias %[[B1]] activation gelu : {{.*}} -> tensor<4x16x2x16xf32>
// CHECK: %[[YS:.+]] = uoe.expert_matmul %[[H]], %[[W2]] bias %[[B2]] : {{.*}} -> tensor<4x16x2x32xf32>
// CHECK: %[[Y:.+]] = uoe.combine %[[YS]], %[[POS]] union patch 1 : {{.*}} -> tensor<16x4x32xf32>
// CHECK: return %[[Y]]
func.func @uome_union(%x: tensor<16x4x32xf32>, %wg: tensor<4x32xf32>, %bg: tensor<4xf32>, %w1: tensor<4x32x16xf32>, %b1: tensor<4x16xf32>, %w2: tensor<4x16x32xf32>, %b2: tensor<4x32xf32>) -> tensor<16x4x32xf32> {
  %y = uoe.uome %x, router(%wg, %bg), up(%w1, %b1), down(%w2, %b2) top 2 capacity 0.5 activation gelu union : tensor<16x4x32xf32>, tensor<4x32xf32>, tensor<4xf32>, tensor<4x32x16xf32>, tensor<4x16xf32>, tensor<4x16x32xf32>, tensor<4x32xf32>
  return %y : tensor<16x4x32xf32>
}

// -----

// Tests that gated uome combines with the selected scores, and that patches,
// SwiGLU, sigmoid scores and the normalisation options carry over.
// CHECK-LABEL: func.func @uome_gated_patches
// CHECK: uoe.router {{.*}} score sigmoid
// CHECK: uoe.token_choice %{{.+}} top 1 normalize axis 0 eps 1.000000e-03 capacity 2.000000e+00
// CHECK: %[[POS:.+]], %[[W:.+]] = uoe.data_select %{{.+}} patch 2 capacity 2.500000e-01 : tensor<2x16x4xf32> -> tensor<4x2x2xi64>, tensor<4x2x2xf32>
// CHECK: uoe.dispatch %{{.+}}, %[[POS]] patch 2 : {{.*}} -> tensor<4x2x4x8xf32>
// CHECK: uoe.expert_matmul {{.*}} activation swiglu : {{.*}}, tensor<4x8x12xf32>, tensor<4x12xf32> -> tensor<4x2x4x6xf32>
// CHECK: uoe.combine %{{.+}}, %[[POS]] weights %[[W]] gated patch 2
func.func @uome_gated_patches(%x: tensor<2x16x8xf32>, %wg: tensor<4x8xf32>, %bg: tensor<4xf32>, %w1: tensor<4x8x12xf32>, %b1: tensor<4x12xf32>, %w2: tensor<4x6x8xf32>, %b2: tensor<4x8xf32>) -> tensor<2x16x8xf32> {
  %y = uoe.uome %x, router(%wg, %bg), up(%w1, %b1), down(%w2, %b2) top 1 capacity 0.25 patch 2 activation swiglu gated {score = #uoe.score<sigmoid>, eps = 1.0e-3 : f64, norm_capacity = 2.0 : f64} : tensor<2x16x8xf32>, tensor<4x8xf32>, tensor<4xf32>, tensor<4x8x12xf32>, tensor<4x12xf32>, tensor<4x6x8xf32>, tensor<4x8xf32>
  return %y : tensor<2x16x8xf32>
}

// -----

// Tests that smha selects with dynamic capacity, projects q, k and v from the
// stacked weights and attends per head group with the layer's masks.
// CHECK-LABEL: func.func @smha
// CHECK-SAME: %[[X:[^:]+]]: tensor<2x16x32xf32>
// CHECK-SAME: %[[WQKV:[^:]+]]: tensor<3x2x32x16xf32>
// CHECK-SAME: %[[MASK:[^:]+]]: tensor<2x16xi1>
// CHECK: %[[POS:.+]], %[[W:.+]] = uoe.data_select %{{.+}} patch 1 dynamic : tensor<2x16x2xf32> -> tensor<2x2x?xi64>, tensor<2x2x?xf32>
// CHECK: %[[XS:.+]] = uoe.dispatch %[[X]], %[[POS]] patch 1 : {{.*}} -> tensor<2x2x?x32xf32>
// CHECK: %[[WQ:.+]] = tensor.extract_slice %[[WQKV]][0, 0, 0, 0] [1, 2, 32, 16]
// CHECK: %[[Q:.+]] = uoe.expert_matmul %[[XS]], %[[WQ]] bias
// CHECK: %[[WK:.+]] = tensor.extract_slice %[[WQKV]][1, 0, 0, 0]
// CHECK: %[[K:.+]] = uoe.expert_matmul %[[XS]], %[[WK]] bias
// CHECK: %[[WV:.+]] = tensor.extract_slice %[[WQKV]][2, 0, 0, 0]
// CHECK: %[[V:.+]] = uoe.expert_matmul %[[XS]], %[[WV]] bias
// CHECK: %[[O:.+]] = uoe.selective_attention %[[Q]], %[[K]], %[[V]], %[[POS]] key_padding %[[MASK]] heads 2 causal rope original : {{.*}} -> tensor<2x2x?x16xf32>
// CHECK: %[[YS:.+]] = uoe.expert_matmul %[[O]], {{.*}} -> tensor<2x2x?x32xf32>
// CHECK: uoe.combine %[[YS]], %[[POS]] weights %[[W]] gated patch 1 : {{.*}} -> tensor<2x16x32xf32>
func.func @smha(%x: tensor<2x16x32xf32>, %wg: tensor<2x32xf32>, %bg: tensor<2xf32>, %wqkv: tensor<3x2x32x16xf32>, %bqkv: tensor<3x2x16xf32>, %wo: tensor<2x16x32xf32>, %bo: tensor<2x32xf32>, %mask: tensor<2x16xi1>) -> tensor<2x16x32xf32> {
  %y = uoe.smha %x, router(%wg, %bg), qkv(%wqkv, %bqkv), out(%wo, %bo) key_padding %mask heads 4 top 1 causal rope original gated : tensor<2x16x32xf32>, tensor<2x32xf32>, tensor<2xf32>, tensor<3x2x32x16xf32>, tensor<3x2x16xf32>, tensor<2x16x32xf32>, tensor<2x32xf32>, tensor<2x16xi1>
  return %y : tensor<2x16x32xf32>
}

// -----

// Tests that token-choice moe flattens the tokens into one row, keeps each
// token's top experts (renormalised), lets every expert take the tokens that
// chose it (dynamic capacity) and combines with the gate weights.
// CHECK-LABEL: func.func @moe
// CHECK: %[[FLAT:.+]] = tensor.expand_shape {{.*}} into tensor<1x64x32xf32>
// CHECK: %[[P:.+]] = uoe.router %[[FLAT]]
// CHECK: %[[S:.+]] = uoe.token_choice %[[P]] top 2 renormalize : tensor<1x64x8xf32>
// CHECK: %[[POS:.+]], %[[W:.+]] = uoe.data_select %[[S]] patch 1 dynamic : tensor<1x64x8xf32> -> tensor<8x1x?xi64>, tensor<8x1x?xf32>
// CHECK: uoe.expert_matmul {{.*}} activation silu
// CHECK: %[[C:.+]] = uoe.combine %{{.+}}, %[[POS]] weights %[[W]] gated patch 1 : {{.*}} -> tensor<1x64x32xf32>
// CHECK: tensor.collapse_shape %[[C]]
// CHECK: tensor.expand_shape {{.*}} into tensor<4x16x32xf32>
func.func @moe(%x: tensor<4x16x32xf32>, %wg: tensor<8x32xf32>, %bg: tensor<8xf32>, %w1: tensor<8x32x16xf32>, %b1: tensor<8x16xf32>, %w2: tensor<8x16x32xf32>, %b2: tensor<8x32xf32>) -> tensor<4x16x32xf32> {
  %y = uoe.moe %x, router(%wg, %bg), up(%w1, %b1), down(%w2, %b2) top 2 renormalize activation silu : tensor<4x16x32xf32>, tensor<8x32xf32>, tensor<8xf32>, tensor<8x32x16xf32>, tensor<8x16xf32>, tensor<8x16x32xf32>, tensor<8x32xf32>
  return %y : tensor<4x16x32xf32>
}

// -----

// Tests that dense layers and norms are left alone; with dense-layers, the
// MLP is two one-expert GEMMs (bias and GELU in the first) and attention
// its three projections, the selective attention over every token and the
// output projection; norms are still left alone.
// CHECK-LABEL: func.func @dense_untouched
// DENSE-LABEL: func.func @dense_untouched
// DENSE-NOT: uoe.dense_mlp
// DENSE: uoe.expert_matmul %{{.+}}, %{{.+}} bias %{{.+}} activation gelu : tensor<1x32x32xf32>, tensor<1x32x64xf32>, tensor<1x64xf32> -> tensor<1x32x64xf32>
// DENSE: uoe.expert_matmul %{{.+}}, %{{.+}} bias %{{.+}} : tensor<1x32x64xf32>
// DENSE-COUNT-3: uoe.expert_matmul {{.+}} : tensor<1x2x16x32xf32>, tensor<1x32x32xf32>, tensor<1x32xf32>
// DENSE: uoe.selective_attention
// DENSE: uoe.expert_matmul
// DENSE-NOT: uoe.attention
// DENSE: uoe.rms_norm
// CHECK: uoe.dense_mlp
// CHECK: uoe.attention
// CHECK: uoe.rms_norm
// CHECK-NOT: uoe.router
func.func @dense_untouched(%x: tensor<2x16x32xf32>, %w1: tensor<32x64xf32>, %b1: tensor<64xf32>, %w2: tensor<64x32xf32>, %b2: tensor<32xf32>, %wqkv: tensor<3x32x32xf32>, %bqkv: tensor<3x32xf32>, %wo: tensor<32x32xf32>, %bo: tensor<32xf32>, %g: tensor<32xf32>) -> tensor<2x16x32xf32> {
  %m = uoe.dense_mlp %x, up(%w1, %b1), down(%w2, %b2) activation gelu : tensor<2x16x32xf32>, tensor<32x64xf32>, tensor<64xf32>, tensor<64x32xf32>, tensor<32xf32>
  %a = uoe.attention %m, qkv(%wqkv, %bqkv), out(%wo, %bo) heads 4 causal : tensor<2x16x32xf32>, tensor<3x32x32xf32>, tensor<3x32xf32>, tensor<32x32xf32>, tensor<32xf32>
  %n = uoe.rms_norm %a, %g eps 1.0e-6 : tensor<2x16x32xf32>, tensor<32xf32>
  return %n : tensor<2x16x32xf32>
}

// -----

// Tests that causal-safe smha (spec §7) routes every token on its own (no
// normalisation), attends over [1, E*B, L, De] with a key mask per (expert,
// row) that hides the tokens that did not choose the expert (or are
// padding), and combines with the 0/1 indicator of a chosen slot in union
// mode.
// CHECK-LABEL: func.func @smha_causal_safe
// CHECK-SAME: %[[MASK:[^:]+]]: tensor<2x16xi1>
// CHECK: %[[S:.+]] = uoe.token_choice %{{.+}} top 1 : tensor<2x16x2xf32>
// CHECK: %[[POS:.+]], %[[W:.+]] = uoe.data_select %[[S]] patch 1 dynamic : tensor<2x16x2xf32> -> tensor<2x2x?xi64>, tensor<2x2x?xf32>
// CHECK: %[[Q:.+]] = tensor.expand_shape %{{.+}} {{\[\[}}0, 1], [2], [3]] output_shape [1, 4, %{{.+}}, 16] : tensor<4x?x16xf32> into tensor<1x4x?x16xf32>
// CHECK: %[[PPOS:.+]] = tensor.expand_shape %{{.+}} {{\[\[}}0, 1], [2]] output_shape [1, 4, %{{.+}}] : tensor<4x?xi64> into tensor<1x4x?xi64>
// CHECK: %[[HIDE:.+]] = linalg.generic {{.*}} ins(%[[S]], %[[MASK]] : tensor<2x16x2xf32>, tensor<2x16xi1>) outs(%{{.+}} : tensor<2x2x16xi1>)
// CHECK: arith.cmpf ole
// CHECK: arith.ori
// CHECK: %[[KP:.+]] = tensor.collapse_shape %[[HIDE]] {{\[\[}}0, 1], [2]] : tensor<2x2x16xi1> into tensor<4x16xi1>
// CHECK: uoe.selective_attention %[[Q]], %{{.+}}, %{{.+}}, %[[PPOS]] key_padding %[[KP]] heads 2 causal rope original : {{.*}} -> tensor<1x4x?x16xf32>
// CHECK: %[[CHOSEN:.+]] = linalg.generic {{.*}} ins(%[[W]] : tensor<2x2x?xf32>)
// CHECK: arith.cmpf ogt
// CHECK: %[[ONE:.+]] = arith.uitofp %[[CHOSEN]] : tensor<2x2x?xi1> to tensor<2x2x?xf32>
// CHECK: uoe.combine %{{.+}}, %[[POS]] weights %[[ONE]] gated patch 1 : {{.*}} -> tensor<2x16x32xf32>
func.func @smha_causal_safe(%x: tensor<2x16x32xf32>, %wg: tensor<2x32xf32>, %bg: tensor<2xf32>, %wqkv: tensor<3x2x32x16xf32>, %bqkv: tensor<3x2x16xf32>, %wo: tensor<2x16x32xf32>, %bo: tensor<2x32xf32>, %mask: tensor<2x16xi1>) -> tensor<2x16x32xf32> {
  %y = uoe.smha %x, router(%wg, %bg), qkv(%wqkv, %bqkv), out(%wo, %bo) key_padding %mask heads 4 top 1 causal rope original union routing causal_safe : tensor<2x16x32xf32>, tensor<2x32xf32>, tensor<2xf32>, tensor<3x2x32x16xf32>, tensor<3x2x16xf32>, tensor<2x16x32xf32>, tensor<2x32xf32>, tensor<2x16xi1>
  return %y : tensor<2x16x32xf32>
}

// -----

// Tests that causal-safe gated uome keeps each token's top experts without
// normalisation, lets every expert take the tokens that chose it (dynamic
// capacity, whatever `capacity` says) and combines with the scores, which
// are zero for the padding slots.
// CHECK-LABEL: func.func @uome_causal_safe
// CHECK: %[[S:.+]] = uoe.token_choice %{{.+}} top 2 : tensor<4x16x4xf32>
// CHECK: %[[POS:.+]], %[[W:.+]] = uoe.data_select %[[S]] patch 1 dynamic : tensor<4x16x4xf32> -> tensor<4x4x?xi64>, tensor<4x4x?xf32>
// CHECK: uoe.combine %{{.+}}, %[[POS]] weights %[[W]] gated patch 1 : {{.*}} -> tensor<4x16x32xf32>
func.func @uome_causal_safe(%x: tensor<4x16x32xf32>, %wg: tensor<4x32xf32>, %bg: tensor<4xf32>, %w1: tensor<4x32x16xf32>, %b1: tensor<4x16xf32>, %w2: tensor<4x16x32xf32>, %b2: tensor<4x32xf32>) -> tensor<4x16x32xf32> {
  %y = uoe.uome %x, router(%wg, %bg), up(%w1, %b1), down(%w2, %b2) top 2 capacity 0.5 activation gelu gated routing causal_safe
      : tensor<4x16x32xf32>, tensor<4x32xf32>, tensor<4xf32>, tensor<4x32x16xf32>, tensor<4x16xf32>, tensor<4x16x32xf32>, tensor<4x32xf32>
  return %y : tensor<4x16x32xf32>
}

// -----

// Tests that cached attention (decoding) stays without dense-layers and
// otherwise becomes the projections of dense attention around uoe.kv_attend
// on [B, T, d], whose cache, layer and start are the op's.
// CHECK-LABEL: func.func @cached_attention
// CHECK: uoe.cached_attention
// DENSE-LABEL: func.func @cached_attention
// DENSE-SAME: %[[S:[a-z0-9]+]]: tensor<2xi64>, %[[C:[a-z0-9]+]]: i64, %[[L:[a-z0-9]+]]: i64
// DENSE-NOT: uoe.cached_attention
// DENSE-COUNT-3: uoe.expert_matmul {{.+}} : tensor<1x2x1x32xf32>, tensor<1x32x32xf32>, tensor<1x32xf32>
// DENSE: uoe.kv_attend %{{.+}}, %{{.+}}, %{{.+}} start %[[S]] cache %[[C]] layer %[[L]] heads 4 : tensor<2x1x32xf32>, tensor<2xi64>
// DENSE: uoe.expert_matmul {{.+}} : tensor<1x2x1x32xf32>, tensor<1x32x32xf32>, tensor<1x32xf32>
func.func @cached_attention(%x: tensor<2x1x32xf32>, %wqkv: tensor<3x32x32xf32>, %bqkv: tensor<3x32xf32>,
                            %wo: tensor<32x32xf32>, %bo: tensor<32xf32>, %start: tensor<2xi64>, %cache: i64, %layer: i64) -> tensor<2x1x32xf32> {
  %y = uoe.cached_attention %x, qkv(%wqkv, %bqkv), out(%wo, %bo) start %start cache %cache layer %layer heads 4
      : tensor<2x1x32xf32>, tensor<3x32x32xf32>, tensor<3x32xf32>, tensor<32x32xf32>, tensor<32xf32>, tensor<2xi64>
  return %y : tensor<2x1x32xf32>
}
