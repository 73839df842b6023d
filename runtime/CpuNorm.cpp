//===- CpuNorm.cpp - LayerNorm and RMSNorm fused with the residual -------===//
//
// uoe_norm (CpuNorm.h): rows shared out over OpenMP's thread pool; each row
// is summed, normalised and written by one thread.
//
//===----------------------------------------------------------------------===//

#include "runtime/CpuNorm.h"
#include "runtime/CpuBlas.h"
#include "support/Status.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

using namespace uoe::rt;

namespace {

constexpr int kLanes = 16;

struct Norm {
  bool rms, residual, writeSum, beta;
  int64_t outer, inner, width;
  float eps;
  const float *x;
  int64_t xStrideO, xStrideI;
  const float *r;
  int64_t rStrideO, rStrideI;
  const float *gamma, *betaValues;
  float *out, *sum;
};

/// Sum of f(c) over c < n: 16 lanes in order (lane l adds c = l, l + 16,
/// ...), then a fixed tree.
template <class F> inline float laneSum(int64_t n, F f) {
  float acc[kLanes] = {};
  int64_t c = 0;
  for (; c + kLanes <= n; c += kLanes)
#pragma omp simd
    for (int l = 0; l < kLanes; ++l)
      acc[l] = acc[l] + f(c + l);
  for (int l = 0; c + l < n; ++l)
    acc[l] = acc[l] + f(c + l);
  for (int w = kLanes / 2; w > 0; w /= 2)
    for (int l = 0; l < w; ++l)
      acc[l] = acc[l] + acc[l + w];
  return acc[0];
}

/// A row's statistics: y = (s - mean) * scale * gamma (+ beta); mean is 0
/// for RMSNorm.
struct RowStats {
  float mean, scale;
};
inline RowStats rowStats(const float *s, int64_t d, bool rms, float eps) {
  float inv = static_cast<float>(d);
  if (rms) {
    float ms = laneSum(d, [s](int64_t c) { return s[c] * s[c]; }) / inv;
    return {0.0f, 1.0f / std::sqrt(ms + eps)};
  }
  float mean = laneSum(d, [s](int64_t c) { return s[c]; }) / inv;
  float var =
      laneSum(d,
              [s, mean](int64_t c) { return (s[c] - mean) * (s[c] - mean); }) /
      inv;
  return {mean, 1.0f / std::sqrt(var + eps)};
}

__attribute__((target_clones("avx512f", "avx2", "default"))) void
normRow(const Norm &p, int64_t i, int64_t j) {
  int64_t d = p.width;
  const float *x = p.x + i * p.xStrideO + j * p.xStrideI;
  float *y = p.out + (i * p.inner + j) * d;
  const float *s = x;
  if (p.residual) {
    const float *r = p.r + i * p.rStrideO + j * p.rStrideI;
    float *t = p.writeSum ? p.sum + (i * p.inner + j) * d : y;
#pragma omp simd
    for (int64_t c = 0; c < d; ++c)
      t[c] = x[c] + r[c];
    s = t;
  }
  auto [mean, scale] = rowStats(s, d, p.rms, p.eps);
  if (p.rms) {
#pragma omp simd
    for (int64_t c = 0; c < d; ++c)
      y[c] = s[c] * scale * p.gamma[c];
    return;
  }
  const float *beta = p.betaValues;
  if (beta) {
#pragma omp simd
    for (int64_t c = 0; c < d; ++c)
      y[c] = (s[c] - mean) * scale * p.gamma[c] + beta[c];
  } else {
#pragma omp simd
    for (int64_t c = 0; c < d; ++c)
      y[c] = (s[c] - mean) * scale * p.gamma[c];
  }
}

/// The rows of one block of the gradient's column sums: fixed, so that the
/// sums do not depend on the thread count.
constexpr int64_t kGradBlockRows = 64;

struct NormGrad {
  bool rms;
  int64_t inner, width;
  float eps;
  const float *x;
  int64_t xStrideO, xStrideI;
  const float *dy;
  int64_t dyStrideO, dyStrideI;
  const float *gamma;
  float *dx;
};

/// One row's dx, and its dy * xhat and dy added to the block's column sums
/// (dbetaSum null for RMSNorm). `xhat` is scratch of `width` floats.
__attribute__((target_clones("avx512f", "avx2", "default"))) void
normGradRow(const NormGrad &p, int64_t row, float *xhat, float *dgammaSum,
            float *dbetaSum) {
  int64_t d = p.width, i = row / p.inner, j = row % p.inner;
  const float *x = p.x + i * p.xStrideO + j * p.xStrideI;
  const float *dy = p.dy + i * p.dyStrideO + j * p.dyStrideI;
  float *dx = p.dx + row * d;
  float inv = static_cast<float>(d);
  auto [mean, scale] = rowStats(x, d, p.rms, p.eps);
#pragma omp simd
  for (int64_t c = 0; c < d; ++c) {
    xhat[c] = (x[c] - mean) * scale;
    dx[c] = dy[c] * p.gamma[c]; // g, for now
  }
  float meanGXhat =
      laneSum(d, [dx, xhat](int64_t c) { return dx[c] * xhat[c]; }) / inv;
  float meanG =
      p.rms ? 0.0f : laneSum(d, [dx](int64_t c) { return dx[c]; }) / inv;
#pragma omp simd
  for (int64_t c = 0; c < d; ++c) {
    dgammaSum[c] = dgammaSum[c] + dy[c] * xhat[c];
    dx[c] = scale * (dx[c] - meanG - xhat[c] * meanGXhat);
  }
  if (dbetaSum) {
#pragma omp simd
    for (int64_t c = 0; c < d; ++c)
      dbetaSum[c] = dbetaSum[c] + dy[c];
  }
}

} // namespace

extern "C" void uoe_norm_grad(int64_t flags, int64_t outer, int64_t inner,
                              int64_t width, double eps, int64_t x,
                              int64_t xStrideO, int64_t xStrideI, int64_t dy,
                              int64_t dyStrideO, int64_t dyStrideI,
                              int64_t gamma, int64_t dx, int64_t dgamma,
                              int64_t dbeta) {
  auto floats = [](int64_t a) { return reinterpret_cast<const float *>(a); };
  bool rms = (flags & kNormRms) != 0;
  if ((flags & ~int64_t(kNormRms)) || outer < 0 || inner < 0 || width < 1 ||
      !x || !dy || !gamma || !dx || !dgamma || (!rms && !dbeta)) {
    recordCpuKernelError(strCat("uoe_norm_grad: bad arguments (flags ", flags,
                                ", outer ", outer, ", inner ", inner,
                                ", width ", width, ")"));
    return;
  }
  NormGrad p{
      rms,       inner,     width,         static_cast<float>(eps),
      floats(x), xStrideO,  xStrideI,      floats(dy),
      dyStrideO, dyStrideI, floats(gamma), reinterpret_cast<float *>(dx)};
  int64_t rows = outer * inner;
  int64_t blocks = (rows + kGradBlockRows - 1) / kGradBlockRows;
  int sums = rms ? 1 : 2;
  // Per block: its column sums (dgamma, then dbeta), then xhat scratch.
  std::vector<float> partial(static_cast<size_t>(blocks * sums * width), 0.0f);
  bool parallel =
      omp_get_max_threads() > 1 && blocks > 1 && rows * width >= (1 << 14);
#pragma omp parallel if (parallel)
  {
    std::vector<float> xhat(static_cast<size_t>(width));
#pragma omp for schedule(static)
    for (int64_t blk = 0; blk < blocks; ++blk) {
      float *dgammaSum = partial.data() + blk * sums * width;
      float *dbetaSum = rms ? nullptr : dgammaSum + width;
      int64_t last = std::min(rows, (blk + 1) * kGradBlockRows);
      for (int64_t row = blk * kGradBlockRows; row < last; ++row)
        normGradRow(p, row, xhat.data(), dgammaSum, dbetaSum);
    }
  }
  auto *dgammaOut = reinterpret_cast<float *>(dgamma);
  auto *dbetaOut = reinterpret_cast<float *>(dbeta);
  for (int64_t c = 0; c < width; ++c) {
    float g = 0.0f, b = 0.0f;
    for (int64_t blk = 0; blk < blocks; ++blk) {
      g = g + partial[blk * sums * width + c];
      if (!rms)
        b = b + partial[(blk * sums + 1) * width + c];
    }
    dgammaOut[c] = g;
    if (!rms)
      dbetaOut[c] = b;
  }
}

extern "C" void uoe_norm(int64_t flags, int64_t outer, int64_t inner,
                         int64_t width, double eps, int64_t x, int64_t xStrideO,
                         int64_t xStrideI, int64_t residual, int64_t rStrideO,
                         int64_t rStrideI, int64_t gamma, int64_t beta,
                         int64_t out, int64_t sum) {
  auto floats = [](int64_t a) { return reinterpret_cast<const float *>(a); };
  Norm p{(flags & kNormRms) != 0,
         (flags & kNormResidual) != 0,
         (flags & kNormWriteSum) != 0,
         (flags & kNormBeta) != 0,
         outer,
         inner,
         width,
         static_cast<float>(eps),
         floats(x),
         xStrideO,
         xStrideI,
         floats(residual),
         rStrideO,
         rStrideI,
         floats(gamma),
         (flags & kNormBeta) ? floats(beta) : nullptr,
         reinterpret_cast<float *>(out),
         reinterpret_cast<float *>(sum)};
  bool badFlags =
      flags & ~int64_t(kNormRms | kNormResidual | kNormWriteSum | kNormBeta);
  bool badOperands = (p.residual && !p.r) || (p.writeSum && !p.sum) ||
                     (p.writeSum && !p.residual) ||
                     ((flags & kNormBeta) && !beta);
  if (badFlags || badOperands || outer < 0 || inner < 0 || width < 1) {
    recordCpuKernelError(strCat("uoe_norm: bad arguments (flags ", flags,
                                ", outer ", outer, ", inner ", inner,
                                ", width ", width, ")"));
    return;
  }
  int64_t rows = outer * inner;
  bool parallel =
      omp_get_max_threads() > 1 && rows > 1 && rows * width >= (1 << 14);
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t row = 0; row < rows; ++row)
    normRow(p, row / inner, row % inner);
}
