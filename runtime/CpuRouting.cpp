//===- CpuRouting.cpp - the routing kernels of the CPU runtime -----------===//
//
// uoe_select_patches (CpuRouting.h): per (expert, row), the L best items by
// nth_element under the stable order (score descending, index ascending),
// which is a strict total order on rows without NaN, then the kept indices
// sorted ascending.
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

} // namespace

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
