//===- CpuNorm.h - LayerNorm and RMSNorm fused with the residual -*- C++
//-*-===//
//
// The CPU kernel behind `uoe.layer_norm` and `uoe.rms_norm` (docs/SPEC.md,
// "Fused norms"), optionally fused with the residual add that feeds them:
// per row of `width` values, in one visit of the row while it is in cache,
//
//   s = x (+ residual)                 written out too when asked for
//   LayerNorm  mean = sum(s) / d, var = sum((s - mean)^2) / d,
//              y = (s - mean) * (1 / sqrt(var + eps)) * gamma + beta
//   RMSNorm    ms = sum(s^2) / d, y = s * (1 / sqrt(ms + eps)) * gamma
//
// Numerics: each sum runs in 16 lanes (lane l adds elements l, l + 16, ...
// in order) folded by a fixed tree, so a row's result depends on that row
// alone (batch-invariant, any thread count) and every ISA gives the same
// bits (no contraction into fused multiply-adds). The residual sum is the
// plain f32 addition, bit for bit `arith.addf`.
//
// uoe_norm_grad computes the gradients of either norm (without the
// residual, whose gradient is the identity): per row, with the row's
// statistics recomputed as above, g = dy * gamma and xhat the normalised x,
//
//   LayerNorm  dx = rstd * (g - mean(g) - xhat * mean(g * xhat))
//   RMSNorm    dx = r * (g - xhat * mean(g * xhat))
//
// and dgamma = sum_rows(dy * xhat), dbeta = sum_rows(dy) (LayerNorm). The
// column sums run over fixed blocks of rows, each block's rows in order,
// then the blocks in order: the same bits for any thread count.
//
// The symbols are part of the ABI between the compiler (passes/
// NormsToCalls.cpp) and the runtime: change both together.
//
//===----------------------------------------------------------------------===//

#ifndef UOE_RUNTIME_CPUNORM_H
#define UOE_RUNTIME_CPUNORM_H

#include <cstdint>

namespace uoe::rt {

/// `flags` bits of uoe_norm.
enum NormFlags : int64_t {
  kNormRms = 1,      ///< RMSNorm (else LayerNorm).
  kNormResidual = 2, ///< s = x + residual.
  kNormWriteSum = 4, ///< Also write s to `sum` (with kNormResidual).
  kNormBeta = 8,     ///< LayerNorm adds `beta`.
};

} // namespace uoe::rt

extern "C" {

/// For every row (i, j), i < outer, j < inner, of `width` values at
/// x + i * xStrideO + j * xStrideI (unit stride along the row), and
/// likewise `residual`: out[i, j, :] = norm(s) as in the file comment, with
/// gamma (and beta) `[width]` contiguous. `out` and `sum` are dense
/// [outer, inner, width]. Addresses are passed as integers.
void uoe_norm(int64_t flags, int64_t outer, int64_t inner, int64_t width,
              double eps, int64_t x, int64_t xStrideO, int64_t xStrideI,
              int64_t residual, int64_t rStrideO, int64_t rStrideI,
              int64_t gamma, int64_t beta, int64_t out, int64_t sum);

/// The gradients of norm(x) (flags: kNormRms or 0) for the rows of x and
/// dy laid out as uoe_norm's x: dx (dense [outer, inner, width]), dgamma
/// and, for LayerNorm, dbeta ([width] each; 0 for RMSNorm).
void uoe_norm_grad(int64_t flags, int64_t outer, int64_t inner, int64_t width,
                   double eps, int64_t x, int64_t xStrideO, int64_t xStrideI,
                   int64_t dy, int64_t dyStrideO, int64_t dyStrideI,
                   int64_t gamma, int64_t dx, int64_t dgamma, int64_t dbeta);

} // extern "C"

#endif // UOE_RUNTIME_CPUNORM_H
