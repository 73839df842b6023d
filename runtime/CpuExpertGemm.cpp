//===- CpuExpertGemm.cpp - expert GEMMs fused with selection -------------===//
//
// uoe_expert_gemm (CpuExpertGemm.h). The work is cut into tiles of at most
// kTileRows GEMM rows of one (expert, row) and at most kTileColumns output
// columns:
//
//   without combine  every (expert, row, row tile, column block) is one item;
//                    each tile is computed straight into its place in `out`,
//                    then biased and activated there while it is in cache;
//   with combine     every (row, column block) is one item, which owns those
//                    columns of y[r] and adds the experts' tiles into them
//                    in order (e = 0..E-1, slots in order): no two threads
//                    ever write one element, and the order is fixed.
//
// Items are spread over OpenMP's thread pool (the one compiled loops and
// uoe_sgemm_batched use). The cut decides only which thread computes an
// element, never how, so results do not depend on the thread count.
//
//===----------------------------------------------------------------------===//

#include "runtime/CpuExpertGemm.h"
#include "runtime/CpuBlas.h"
#include "runtime/CpuGemm.h"
#include "support/Status.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

using namespace uoe::rt;

namespace {

/// The tile bounds: 192 rows of 512 floats is 384 KB, which stays in L2
/// with its packed panels.
constexpr int64_t kTileRows = 192;
constexpr int64_t kTileColumns = 512;

//===----------------------------------------------------------------------===//
// Activations: branch-free f32 code the compiler vectorizes (this file is
// built with -ffp-contract=off, so every ISA gives the same bits).
//===----------------------------------------------------------------------===//

/// exp(x) for x in about [-87, 88] (clamped there): Cephes' expf
/// (range reduction by ln 2 in two parts, degree-5 polynomial), within
/// 2 ulp.
inline float expApprox(float x) {
  x = x < -87.0f ? -87.0f : x;
  x = x > 88.0f ? 88.0f : x;
  float fx = x * 1.44269504088896341f;
  // Round to nearest: adding and removing 1.5 * 2^23 drops the fraction.
  fx = (fx + 12582912.0f) - 12582912.0f;
  float r = x - fx * 0.693359375f;
  r = r - fx * -2.12194440e-4f;
  float z = r * r;
  float y = 1.9875691500e-4f;
  y = y * r + 1.3981999507e-3f;
  y = y * r + 8.3334519073e-3f;
  y = y * r + 4.1665795894e-2f;
  y = y * r + 1.6666665459e-1f;
  y = y * r + 5.0000001201e-1f;
  y = y * z + r + 1.0f;
  int32_t bits = (static_cast<int32_t>(fx) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof(scale));
  return y * scale;
}

/// x / (1 + exp(-x)).
inline float silu(float x) { return x / (1.0f + expApprox(-x)); }

/// x Phi(x) with Phi(x) = erfc(-x / sqrt 2) / 2 and erfc from the Chebyshev
/// fit of Numerical Recipes (erfcc; relative error below 1.2e-7), taken on
/// |x| so that both tails keep their relative accuracy.
inline float gelu(float x) {
  float z = (x < 0.0f ? -x : x) * 0.70710678118654752f;
  float t = 1.0f / (1.0f + 0.5f * z);
  float p = 0.17087277f;
  p = p * t - 0.82215223f;
  p = p * t + 1.48851587f;
  p = p * t - 1.13520398f;
  p = p * t + 0.27886807f;
  p = p * t - 0.18628806f;
  p = p * t + 0.09678418f;
  p = p * t + 0.37409196f;
  p = p * t + 1.00002368f;
  p = p * t - 1.26551223f;
  float erfc = t * expApprox(p - z * z);
  float phi = x < 0.0f ? 0.5f * erfc : 1.0f - 0.5f * erfc;
  return x * phi;
}

/// x/2 (1 + tanh(u)) = x / (1 + exp(-2u)), u = sqrt(2/pi) (x + 0.044715 x^3).
inline float geluTanh(float x) {
  float u = 0.79788456080286536f * (x + 0.044715f * x * x * x);
  return x / (1.0f + expApprox(-2.0f * u));
}

/// max(x, 0), NaN kept.
inline float relu(float x) { return x < 0.0f ? 0.0f : x; }

template <class F> inline void mapValues(float *v, int64_t count, F f) {
#pragma omp simd
  for (int64_t i = 0; i < count; ++i)
    v[i] = f(v[i]);
}

#define UOE_EPILOGUE_CLONES                                                   \
  __attribute__((target_clones("avx512f", "avx2", "default")))

UOE_EPILOGUE_CLONES void activate(ExpertActivation act, float *v,
                                  int64_t count) {
  switch (act) {
  case ExpertActivation::None:
  case ExpertActivation::SwiGlu:
    return;
  case ExpertActivation::Gelu:
    return mapValues(v, count, gelu);
  case ExpertActivation::GeluTanh:
    return mapValues(v, count, geluTanh);
  case ExpertActivation::Relu:
    return mapValues(v, count, relu);
  case ExpertActivation::Silu:
    return mapValues(v, count, silu);
  }
}

/// gate = silu(gate + gateBias) * (up + upBias) (biases optional).
UOE_EPILOGUE_CLONES void swiglu(float *gate, const float *up,
                                const float *gateBias, const float *upBias,
                                int64_t count) {
#pragma omp simd
  for (int64_t j = 0; j < count; ++j) {
    float g = gateBias ? gate[j] + gateBias[j] : gate[j];
    float u = upBias ? up[j] + upBias[j] : up[j];
    gate[j] = silu(g) * u;
  }
}

UOE_EPILOGUE_CLONES void addBias(float *v, const float *bias, int64_t count) {
#pragma omp simd
  for (int64_t j = 0; j < count; ++j)
    v[j] = v[j] + bias[j];
}

/// y += w * v (w == nullptr: y += v), as the unfused combine computes it.
UOE_EPILOGUE_CLONES void accumulate(float *y, const float *v, const float *w,
                                    int64_t count) {
  if (!w) {
#pragma omp simd
    for (int64_t j = 0; j < count; ++j)
      y[j] = y[j] + v[j];
    return;
  }
  float scale = *w;
#pragma omp simd
  for (int64_t j = 0; j < count; ++j)
    y[j] = y[j] + v[j] * scale;
}

//===----------------------------------------------------------------------===//
// The problem and its tiles
//===----------------------------------------------------------------------===//

/// A per-thread buffer that grows; null when memory runs out.
template <typename T> struct Scratch {
  T *data = nullptr;
  size_t capacity = 0;
  ~Scratch() { std::free(data); }
  T *get(size_t count) {
    if (count <= capacity)
      return data;
    std::free(data);
    capacity = 0;
    data = static_cast<T *>(
        std::aligned_alloc(64, (count * sizeof(T) + 63) / 64 * 64));
    if (data)
      capacity = count;
    return data;
  }
};

thread_local Scratch<float> tileBuffer, upBuffer;
thread_local Scratch<int64_t> rowBuffer;

/// sgemmSingleThread or bf16GemmSingleThread.
using TileGemm = void (*)(int64_t m, int64_t n, int64_t k, GemmOperand a,
                          GemmOperand b, float *c, int64_t ldc, float beta);

struct Problem {
  bool gather, combine;
  TileGemm gemm;
  ExpertActivation act;
  int64_t experts, rows, slots, patch, tokens, k, n, width, m;
  const float *a;
  int64_t aStrideE, aStrideR, aStrideM;
  const float *w;
  int64_t wStrideE, wStrideK;
  const float *bias;
  int64_t biasStrideE;
  const int64_t *positions;
  int64_t posStrideE, posStrideR;
  const float *weights;
  int64_t wtStrideE, wtStrideR;
  float *out;

  /// The token (row of x or y within row r) of GEMM row i of (e, r).
  int64_t tokenOf(int64_t e, int64_t r, int64_t i) const {
    return positions[e * posStrideE + r * posStrideR + i / patch] * patch +
           i % patch;
  }
};

/// Rows [i0, i0 + rows) of (e, r), output columns [j0, j0 + cols): the
/// product into c (leading dimension ldc), then bias and activation there.
/// Returns false when scratch memory ran out.
bool computeTile(const Problem &p, int64_t e, int64_t r, int64_t i0,
                 int64_t rows, int64_t j0, int64_t cols, float *c,
                 int64_t ldc) {
  GemmOperand a{p.a + e * p.aStrideE + r * p.aStrideR + i0 * p.aStrideM,
                p.aStrideM, false};
  if (p.gather) {
    int64_t *offsets = rowBuffer.get(static_cast<size_t>(rows));
    if (!offsets)
      return false;
    for (int64_t t = 0; t < rows; ++t)
      offsets[t] = r * p.aStrideR + p.tokenOf(e, r, i0 + t) * p.aStrideM;
    a = GemmOperand{p.a, 0, false, offsets};
  }
  const float *w = p.w + e * p.wStrideE;
  const float *bias = p.bias ? p.bias + e * p.biasStrideE : nullptr;
  auto product = [&](int64_t column, float *dst, int64_t ld) {
    if (p.k == 0) {
      for (int64_t t = 0; t < rows; ++t)
        std::fill(dst + t * ld, dst + t * ld + cols, 0.0f);
      return;
    }
    p.gemm(rows, cols, p.k, a, GemmOperand{w + column, p.wStrideK, false},
           dst, ld, 0.0f);
  };
  product(j0, c, ldc);
  if (p.act == ExpertActivation::SwiGlu) {
    float *up = upBuffer.get(static_cast<size_t>(rows * cols));
    if (!up)
      return false;
    product(p.width + j0, up, cols);
    for (int64_t t = 0; t < rows; ++t)
      swiglu(c + t * ldc, up + t * cols, bias ? bias + j0 : nullptr,
             bias ? bias + p.width + j0 : nullptr, cols);
    return true;
  }
  for (int64_t t = 0; t < rows; ++t) {
    if (bias)
      addBias(c + t * ldc, bias + j0, cols);
    activate(p.act, c + t * ldc, cols);
  }
  return true;
}

/// Splits `extent` into blocks of at most `most` that are whole multiples
/// of `quantum` where possible, at least `least` of them.
struct Blocks {
  int64_t count, size;
};
Blocks blocksOf(int64_t extent, int64_t most, int64_t quantum,
                int64_t least) {
  if (extent <= 0)
    return {0, 0};
  int64_t count = std::max<int64_t>((extent + most - 1) / most, least);
  count = std::min(count, std::max<int64_t>(1, extent / quantum));
  int64_t size = (extent + count - 1) / count;
  size = std::min(extent, (size + quantum - 1) / quantum * quantum);
  return {(extent + size - 1) / size, size};
}

/// The computation without combine: every tile straight into `out`.
bool runDirect(const Problem &p, int threads) {
  Blocks rowTiles = blocksOf(p.m, kTileRows, 12, 1);
  int64_t outer = p.experts * p.rows * rowTiles.count;
  Blocks cols = blocksOf(p.width, kTileColumns, 32,
                         outer >= 2 * threads ? 1 : (2 * threads + outer - 1) /
                                                         outer);
  int64_t items = outer * cols.count;
  bool ok = true;
#pragma omp parallel for schedule(static) if (threads > 1 && items > 1)       \
    reduction(&& : ok)
  for (int64_t item = 0; item < items; ++item) {
    int64_t cb = item % cols.count, tile = item / cols.count;
    int64_t rt = tile % rowTiles.count, er = tile / rowTiles.count;
    int64_t e = er / p.rows, r = er % p.rows;
    int64_t i0 = rt * rowTiles.size, j0 = cb * cols.size;
    int64_t rows = std::min(rowTiles.size, p.m - i0);
    int64_t width = std::min(cols.size, p.width - j0);
    float *c = p.out + ((e * p.rows + r) * p.m + i0) * p.width + j0;
    ok = computeTile(p, e, r, i0, rows, j0, width, c, p.width) && ok;
  }
  return ok;
}

/// The computation with combine: items own (row, column block) of y.
bool runCombined(const Problem &p, int threads) {
  Blocks rowTiles = blocksOf(p.m, kTileRows, 12, 1);
  Blocks cols = blocksOf(p.width, kTileColumns, 32,
                         p.rows >= 2 * threads
                             ? 1
                             : (2 * threads + p.rows - 1) / p.rows);
  int64_t items = p.rows * cols.count;
  bool ok = true;
#pragma omp parallel for schedule(static) if (threads > 1 && items > 1)       \
    reduction(&& : ok)
  for (int64_t item = 0; item < items; ++item) {
    int64_t r = item / cols.count, j0 = item % cols.count * cols.size;
    int64_t width = std::min(cols.size, p.width - j0);
    float *y = p.out + r * p.tokens * p.width + j0;
    for (int64_t t = 0; t < p.tokens; ++t)
      std::fill(y + t * p.width, y + t * p.width + width, 0.0f);
    float *tile = tileBuffer.get(static_cast<size_t>(rowTiles.size * width));
    if (!tile) {
      ok = false;
      continue;
    }
    for (int64_t e = 0; e < p.experts && ok; ++e)
      for (int64_t i0 = 0; i0 < p.m; i0 += rowTiles.size) {
        int64_t rows = std::min(rowTiles.size, p.m - i0);
        if (!computeTile(p, e, r, i0, rows, j0, width, tile, width)) {
          ok = false;
          break;
        }
        for (int64_t t = 0; t < rows; ++t) {
          int64_t i = i0 + t;
          const float *weight =
              p.weights ? p.weights + e * p.wtStrideE + r * p.wtStrideR +
                              i / p.patch
                        : nullptr;
          accumulate(y + p.tokenOf(e, r, i) * p.width, tile + t * width,
                     weight, width);
        }
      }
  }
  return ok;
}

/// The first problem with the arguments, or OK.
Status check(const Problem &p, int64_t flags) {
  auto bad = [](auto... parts) {
    return invalidArgumentError(strCat("uoe_expert_gemm: ", parts...));
  };
  if (flags & ~int64_t(kExpertGemmGather | kExpertGemmCombine |
                       kExpertGemmBf16))
    return bad("unknown flags ", flags);
  if (p.experts < 0 || p.rows < 0 || p.slots < 0 || p.patch < 1 ||
      p.tokens < 0 || p.k < 0 || p.n < 0)
    return bad("bad sizes (experts ", p.experts, ", rows ", p.rows,
               ", slots ", p.slots, ", patch ", p.patch, ", tokens ",
               p.tokens, ", k ", p.k, ", n ", p.n, ")");
  if (static_cast<int64_t>(p.act) < 0 || static_cast<int64_t>(p.act) > 5)
    return bad("unknown activation ", static_cast<int64_t>(p.act));
  if (p.act == ExpertActivation::SwiGlu && p.n % 2 != 0)
    return bad("swiglu needs an even n, got ", p.n);
  if ((p.gather || p.combine) && !p.positions)
    return bad("gather and combine need positions");
  if (p.gather || p.combine) {
    int64_t limit = p.tokens / p.patch;
    for (int64_t e = 0; e < p.experts; ++e)
      for (int64_t r = 0; r < p.rows; ++r)
        for (int64_t s = 0; s < p.slots; ++s) {
          int64_t pos = p.positions[e * p.posStrideE + r * p.posStrideR + s];
          if (pos < 0 || pos >= limit)
            return bad("position ", pos, " of expert ", e, ", row ", r,
                       ", slot ", s, " is outside [0, ", limit, ")");
        }
  }
  return Status();
}

} // namespace

void uoe::rt::applyExpertActivation(ExpertActivation act, float *values,
                                    int64_t count) {
  activate(act, values, count);
}

extern "C" void uoe_expert_gemm(
    int64_t flags, int64_t activation, int64_t experts, int64_t rows,
    int64_t slots, int64_t patch, int64_t tokens, int64_t k, int64_t n,
    int64_t a, int64_t aStrideE, int64_t aStrideR, int64_t aStrideM,
    int64_t w, int64_t wStrideE, int64_t wStrideK, int64_t bias,
    int64_t biasStrideE, int64_t positions, int64_t posStrideE,
    int64_t posStrideR, int64_t weights, int64_t wtStrideE,
    int64_t wtStrideR, int64_t out) {
  auto act = static_cast<ExpertActivation>(activation);
  auto address = [](int64_t v) { return reinterpret_cast<void *>(v); };
  Problem p{(flags & kExpertGemmGather) != 0,
            (flags & kExpertGemmCombine) != 0,
            (flags & kExpertGemmBf16) ? bf16GemmSingleThread
                                      : sgemmSingleThread,
            act,
            experts,
            rows,
            slots,
            patch,
            tokens,
            k,
            n,
            act == ExpertActivation::SwiGlu ? n / 2 : n,
            slots * patch,
            static_cast<const float *>(address(a)),
            aStrideE,
            aStrideR,
            aStrideM,
            static_cast<const float *>(address(w)),
            wStrideE,
            wStrideK,
            static_cast<const float *>(address(bias)),
            biasStrideE,
            static_cast<const int64_t *>(address(positions)),
            posStrideE,
            posStrideR,
            static_cast<const float *>(address(weights)),
            wtStrideE,
            wtStrideR,
            static_cast<float *>(address(out))};
  if (Status status = check(p, flags); !status.ok()) {
    recordCpuKernelError(status.message());
    return;
  }
  int threads = omp_get_max_threads();
  bool parallel =
      threads > 1 && p.experts * p.rows * p.m * p.n * std::max<int64_t>(1, p.k) >=
                         (1 << 18);
  bool ok = p.combine ? runCombined(p, parallel ? threads : 1)
                      : runDirect(p, parallel ? threads : 1);
  if (!ok)
    recordCpuKernelError("uoe_expert_gemm: out of memory for the tiles");
}
