//===- CpuRouting.h - the routing kernels of the CPU runtime ----*- C++ -*-===//
//
// The CPU kernel behind the selection step of `uoe.data_select`
// (docs/SPEC.md §3): each expert keeps, per row, the L patches with the
// largest score (ties to the lower index) in ascending order. The compiled
// code computes the patch scores and L (passes/RoutingToCalls.cpp); this
// kernel ranks and compacts them in O(n log n) per (expert, row) instead of
// the O(n^2) rank counting of the portable lowering, with the same result:
//
//   item j beats item i when s[j] > s[i], or s[j] == s[i] and j < i;
//   i is kept when fewer than L items beat it; kept items fill the slots in
//   ascending index order; slots left over hold position 0 and weight 0.
//
// A row holding a NaN score (which beats nothing and is beaten by nothing)
// is ranked by the counting definition itself, so that it too gives the
// portable lowering's result. Rows are independent: the result of one
// (expert, row) depends on its scores alone, for any thread count.
//
// The symbol is part of the ABI between the compiler and the runtime:
// change both together.
//
//===----------------------------------------------------------------------===//

#ifndef UOE_RUNTIME_CPUROUTING_H
#define UOE_RUNTIME_CPUROUTING_H

#include <cstdint>

extern "C" {

/// For every expert e < experts and row r < rows, over the patch scores
/// scores[e, r, 0..patches) (f32, element strides scoreStrideE,
/// scoreStrideR, 1): writes the kept patches' indices to positions[e, r,
/// 0..slots) (int64) and their scores to weights[e, r, 0..slots) (f32),
/// both dense [experts, rows, slots]. Addresses are passed as integers.
/// `slots` above `patches` is a compiler bug, recorded for
/// takeCpuBlasError().
void uoe_select_patches(int64_t experts, int64_t rows, int64_t patches,
                        int64_t slots, int64_t scores, int64_t scoreStrideE,
                        int64_t scoreStrideR, int64_t positions,
                        int64_t weights);

/// The router's logits, bit for bit as the compiled router computes them:
/// for every row (i, j), i < outer, j < inner, of x (d values at
/// x + i * xStrideO + j * xStrideI, unit stride) and every expert e,
///
///   out[i, j, e] = (((bias[e] + x_0 w[e, 0]) + x_1 w[e, 1]) + ...)
///
/// sums in k order, each product rounded before its add (no fused
/// multiply-add). w is [experts, d] with row stride wStride; bias
/// [experts] contiguous; out dense [outer, inner, experts]. 16 rows at a
/// time share each weight, one row per vector lane.
void uoe_router_logits(int64_t outer, int64_t inner, int64_t d, int64_t experts,
                       int64_t x, int64_t xStrideO, int64_t xStrideI, int64_t w,
                       int64_t wStride, int64_t bias, int64_t out);

} // extern "C"

#endif // UOE_RUNTIME_CPUROUTING_H
