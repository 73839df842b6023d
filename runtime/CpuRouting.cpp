//===- CpuRouting.cpp - the routing kernels of the CPU runtime -----------===//
//
// uoe_select_patches (CpuRouting.h): per (expert, row), the L best items by
// nth_element under the stable order (score descending, index ascending),
// which is a strict total order on rows without NaN, then the kept indices
// sorted ascending.
//
// uoe_router_logits: blocks of 16 rows, one per vector lane, each lane
// summing its row's products in k order; compiled without contraction
// (runtime/CMakeLists.txt), so that every ISA gives the compiled router's
// bits.
//
//===----------------------------------------------------------------------===//

#include "runtime/CpuRouting.h"
#include "runtime/CpuBlas.h"
#include "runtime/ScratchBuffer.h"
#include "support/Status.h"

#include <omp.h>

#include <algorithm>
#include <cmath>

using namespace uoe::rt;

namespace {

thread_local ScratchBuffer<int64_t> indexBuffer;

/// The counting definition (for rows with a NaN): kept[i] when fewer than
/// `slots` items beat i; kept items fill slots in index order.
void selectByCounting(const float *s, int64_t n, int64_t slots,
                      int64_t *positions, float *weights) {
  for (int64_t i = 0, slot = 0; i < n && slot < slots; ++i) {
    int64_t rank = 0;
    for (int64_t j = 0; j < n; ++j)
      rank += s[j] > s[i] || (s[j] == s[i] && j < i);
    if (rank < slots) {
      positions[slot] = i;
      weights[slot++] = s[i];
    }
  }
}

/// One (expert, row); false when out of memory.
bool selectRow(const float *s, int64_t n, int64_t slots, int64_t *positions,
               float *weights) {
  std::fill(positions, positions + slots, 0);
  std::fill(weights, weights + slots, 0.0f);
  if (slots == 0)
    return true;
  if (std::any_of(s, s + n, [](float v) { return std::isnan(v); })) {
    selectByCounting(s, n, slots, positions, weights);
    return true;
  }
  int64_t *index = indexBuffer.get(n);
  if (!index)
    return false;
  for (int64_t i = 0; i < n; ++i)
    index[i] = i;
  auto beats = [s](int64_t j, int64_t i) {
    return s[j] > s[i] || (s[j] == s[i] && j < i);
  };
  if (slots < n)
    std::nth_element(index, index + slots, index + n, beats);
  std::sort(index, index + slots);
  for (int64_t i = 0; i < slots; ++i) {
    positions[i] = index[i];
    weights[i] = s[index[i]];
  }
  return true;
}

/// Rows per block of the router's logits: one per lane of a 16-float vector.
constexpr int64_t kRouterRows = 16;
/// Experts per pass over a block's k (bounds the accumulators).
constexpr int64_t kRouterExperts = 64;

struct RouterProblem {
  int64_t outer, inner, d, experts;
  const float *x;
  int64_t xStrideO, xStrideI;
  const float *w;
  int64_t wStride;
  const float *bias;
  float *out;

  const float *row(int64_t r) const {
    return x + r / inner * xStrideO + r % inner * xStrideI;
  }
};

/// Rows [r0, r0 + rows) of the logits, rows <= kRouterRows; lanes past
/// `rows` repeat the last row and are not stored.
__attribute__((target_clones("avx512f", "avx2", "default"))) void
routerBlock(const RouterProblem &p, int64_t r0, int64_t rows) {
  const float *src[kRouterRows];
  for (int64_t l = 0; l < kRouterRows; ++l)
    src[l] = p.row(r0 + std::min(l, rows - 1));
  float acc[kRouterExperts][kRouterRows];
  float xk[kRouterRows];
  for (int64_t e0 = 0; e0 < p.experts; e0 += kRouterExperts) {
    int64_t count = std::min(kRouterExperts, p.experts - e0);
    for (int64_t e = 0; e < count; ++e)
      for (int64_t l = 0; l < kRouterRows; ++l)
        acc[e][l] = p.bias[e0 + e];
    for (int64_t k = 0; k < p.d; ++k) {
      for (int64_t l = 0; l < kRouterRows; ++l)
        xk[l] = src[l][k];
      for (int64_t e = 0; e < count; ++e) {
        float wk = p.w[(e0 + e) * p.wStride + k];
#pragma omp simd
        for (int64_t l = 0; l < kRouterRows; ++l)
          acc[e][l] = acc[e][l] + xk[l] * wk;
      }
    }
    for (int64_t l = 0; l < rows; ++l)
      for (int64_t e = 0; e < count; ++e)
        p.out[(r0 + l) * p.experts + e0 + e] = acc[e][l];
  }
}

} // namespace

extern "C" void uoe_router_logits(int64_t outer, int64_t inner, int64_t d,
                                  int64_t experts, int64_t x, int64_t xStrideO,
                                  int64_t xStrideI, int64_t w, int64_t wStride,
                                  int64_t bias, int64_t out) {
  auto floats = [](int64_t a) { return reinterpret_cast<const float *>(a); };
  if (outer < 0 || inner < 0 || d < 0 || experts < 1 || !x || !w || !bias ||
      !out) {
    recordCpuKernelError(strCat("uoe_router_logits: bad arguments (outer ",
                                outer, ", inner ", inner, ", d ", d,
                                ", experts ", experts, ")"));
    return;
  }
  RouterProblem p{outer,
                  inner,
                  d,
                  experts,
                  floats(x),
                  xStrideO,
                  xStrideI,
                  floats(w),
                  wStride,
                  floats(bias),
                  reinterpret_cast<float *>(out)};
  int64_t rows = outer * inner;
  int64_t blocks = (rows + kRouterRows - 1) / kRouterRows;
  bool parallel = omp_get_max_threads() > 1 && blocks > 1 &&
                  rows * d * experts >= (1 << 16);
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t b = 0; b < blocks; ++b)
    routerBlock(p, b * kRouterRows,
                std::min(kRouterRows, rows - b * kRouterRows));
}

extern "C" void uoe_select_patches(int64_t experts, int64_t rows,
                                   int64_t patches, int64_t slots,
                                   int64_t scores, int64_t scoreStrideE,
                                   int64_t scoreStrideR, int64_t positions,
                                   int64_t weights) {
  if (experts < 0 || rows < 0 || patches < 0 || slots < 0 || slots > patches) {
    recordCpuKernelError(strCat("uoe_select_patches: bad sizes (experts ",
                                experts, ", rows ", rows, ", patches ", patches,
                                ", slots ", slots, ")"));
    return;
  }
  auto *s = reinterpret_cast<const float *>(scores);
  auto *pos = reinterpret_cast<int64_t *>(positions);
  auto *w = reinterpret_cast<float *>(weights);
  int64_t tasks = experts * rows;
  bool parallel = omp_get_max_threads() > 1 && tasks > 1 &&
                  tasks * patches >= (int64_t(1) << 12);
  bool ok = true;
#pragma omp parallel for schedule(static) if (parallel) reduction(&& : ok)
  for (int64_t task = 0; task < tasks; ++task) {
    int64_t e = task / rows, r = task % rows;
    ok = selectRow(s + e * scoreStrideE + r * scoreStrideR, patches, slots,
                   pos + task * slots, w + task * slots) &&
         ok;
  }
  if (!ok)
    recordCpuKernelError("uoe_select_patches: out of memory");
}
