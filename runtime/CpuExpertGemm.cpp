//===- CpuExpertGemm.cpp - expert GEMMs fused with selection -------------===//
//
// uoe_expert_gemm (CpuExpertGemm.h). The output is cut into blocks of at
// most kTileColumns columns; per (block, expert) the threads pack the
// expert's weights for those columns once, together, then compute their
// share of its rows in tiles of at most kTileRows GEMM rows (see `run`):
//
//   without combine  each tile is computed straight into its place in
//                    `out`, then biased and activated there while it is in
//                    cache;
//   with combine     a thread owns whole rows of y and adds the experts'
//                    tiles into them in order (e = 0..E-1, slots in order):
//                    no two threads ever write one element, and the order
//                    is fixed.
//
// Work is spread over OpenMP's thread pool (the one compiled loops and
// uoe_sgemm_batched use). The cut decides only which thread computes an
// element, never how, so results do not depend on the thread count.
//
//===----------------------------------------------------------------------===//

#include "runtime/CpuExpertGemm.h"
#include "runtime/CpuBlas.h"
#include "runtime/CpuGemm.h"
#include "runtime/CpuMath.h"
#include "runtime/ScratchBuffer.h"
#include "support/Status.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

using namespace uoe::rt;

namespace {

/// The tile bounds: 384 rows of 512 floats is 768 KB, which stays in L2
/// with the packed panels while its bias and activation are applied.
constexpr int64_t kTileRows = 384;
constexpr int64_t kTileColumns = 512;

//===----------------------------------------------------------------------===//
// Activations: branch-free f32 code the compiler vectorizes (this file is
// built with -ffp-contract=off, so every ISA gives the same bits).
//===----------------------------------------------------------------------===//

/// x / (1 + exp(-x)).
inline float silu(float x) { return x / (1.0f + expApprox(-x)); }

/// erf(x) as MLIR's polynomial approximation computes it (the
/// `uoe-approximate-math` pass, from MLIR's math dialect): |x| on three
/// intervals split at 0.8 and 2, a rational function p(|x|) / q(|x|) with
/// coefficients chosen per interval, 1 from 3.75 on, the sign restored. The
/// same f32 operations in the same order, so the same bits.
inline float erfAsCompiled(float x) {
  bool negative = x < 0.0f;
  float a = negative ? -x : x;
  bool below08 = a < 0.8f, below2 = a < 2.0f;
  auto pick = [&](float under08, float under2, float above2) {
    return below2 ? (below08 ? under08 : under2) : above2;
  };
  float p0 = below2 ? 0.0f : -0.00330093061f;
  float p1 = pick(1.12837911f, 1.12750685f, 0.00351961935f);
  float p2 = pick(-0.523018539f, -0.364721417f, -0.00141373626f);
  float p3 = pick(0.209741712f, 0.118407398f, 2.53447099e-4f);
  float p4 = pick(0.0258146804f, 0.0370645523f, -1.71048032e-5f);
  float q1 = pick(-0.463513821f, -0.327607f, -2.0606916f);
  float q2 = pick(0.519230127f, 0.448369086f, 1.62705934f);
  float q3 = pick(-0.131808966f, -0.0883462652f, -0.583389878f);
  float q4 = pick(0.0739796459f, 0.0572442785f, 0.0821908935f);
  float offset = below2 ? 0.0f : 1.0f;
  float p = std::fmaf(a, p4, p3);
  p = std::fmaf(a, p, p2);
  p = std::fmaf(a, p, p1);
  p = std::fmaf(a, p, p0);
  float q = std::fmaf(a, q4, q3);
  q = std::fmaf(a, q, q2);
  q = std::fmaf(a, q, q1);
  q = std::fmaf(a, q, 1.0f);
  float r = offset + p / q;
  // `ult`: 1 from 3.75 on, and r kept for NaN.
  r = a >= 3.75f ? 1.0f : r;
  return negative ? -r : r;
}

/// 0.5 x (1 + erf(x / sqrt 2)), the compiled GELU (passes/
/// ExpertComputeToLinalg.cpp) with its erf, operation for operation: the
/// fused epilogue gives the bits of the unfused `uoe.activation gelu`.
inline float gelu(float x) {
  float erf = erfAsCompiled(x * 0.707106769f);
  return (x * 0.5f) * (erf + 1.0f);
}

/// x/2 (1 + tanh(u)) = x / (1 + exp(-2u)), u = sqrt(2/pi) (x + 0.044715 x^3).
inline float geluTanh(float x) {
  float u = 0.79788456080286536f * (x + 0.044715f * x * x * x);
  return x / (1.0f + expApprox(-2.0f * u));
}

/// max(x, 0) as arith.maximumf computes it: NaN kept, -0 to +0.
inline float relu(float x) { return x < 0.0f || x == 0.0f ? 0.0f : x; }

template <class F>
__attribute__((always_inline)) inline void mapValues(float *v, int64_t count,
                                                     F f) {
#pragma omp simd
  for (int64_t i = 0; i < count; ++i)
    v[i] = f(v[i]);
}

#define UOE_EPILOGUE_CLONES                                                    \
  __attribute__((target_clones("avx512f", "avx2", "default")))

/// The activations per ISA: GELU's multiply-adds are fused ones (fmaf), so
/// its vector code needs FMA, which GCC's avx512f and avx2 clones lack.
__attribute__((always_inline)) inline void
activateBody(ExpertActivation act, float *v, int64_t count) {
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

__attribute__((target("avx512f,avx2,fma"))) void
activateAvx512(ExpertActivation act, float *v, int64_t count) {
  activateBody(act, v, count);
}
__attribute__((target("avx2,fma"))) void activateAvx2(ExpertActivation act,
                                                      float *v, int64_t count) {
  activateBody(act, v, count);
}
void activateGeneric(ExpertActivation act, float *v, int64_t count) {
  activateBody(act, v, count);
}

void activate(ExpertActivation act, float *v, int64_t count) {
  switch (gemmIsa()) {
  case GemmIsa::Avx512:
    return activateAvx512(act, v, count);
  case GemmIsa::Avx2:
    return activateAvx2(act, v, count);
  default:
    return activateGeneric(act, v, count);
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

thread_local ScratchBuffer<float> tileBuffer, upBuffer, panelBuffer;
thread_local ScratchBuffer<int64_t> rowBuffer;

/// sgemmSingleThread or bf16GemmSingleThread.
using TileGemm = void (*)(int64_t m, int64_t n, int64_t k, GemmOperand a,
                          GemmOperand b, float *c, int64_t ldc, float beta);

struct Problem {
  bool gather, combine, transposedW;
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

  /// Columns [column, ...) of expert e's weights as the GEMM's B operand.
  GemmOperand weightColumns(int64_t e, int64_t column) const {
    const float *we = w + e * wStrideE;
    return transposedW ? GemmOperand{we + column * wStrideK, wStrideK, true}
                       : GemmOperand{we + column, wStrideK, false};
  }

  /// The token (row of x or y within row r) of GEMM row i of (e, r).
  int64_t tokenOf(int64_t e, int64_t r, int64_t i) const {
    return positions[e * posStrideE + r * posStrideR + i / patch] * patch +
           i % patch;
  }
};

/// One block of output columns [j0, j0 + cols) of one expert, and its
/// weights packed by all threads together (null: each GEMM packs its own):
/// the columns' panels, then, for SwiGLU, the up columns' panels.
struct ColumnBlock {
  int64_t expert, j0, cols;
  const float *panels;
  int64_t halfFloats;
};

/// One tile: GEMM rows [q0, q0 + rows) of the block's expert e, where row
/// q is slot q % M of row q / M (the rows of one expert, row after row),
/// and columns [c0, c0 + cols) of the block: the product into c (leading
/// dimension ldc), then bias and activation there. Returns false when
/// scratch memory ran out.
bool computeTile(const Problem &p, const ColumnBlock &block, int64_t q0,
                 int64_t rows, int64_t c0, int64_t cols, float *c,
                 int64_t ldc) {
  int64_t e = block.expert, j0 = block.j0 + c0;
  // The rows are named by their offsets from `a`: the gather (or the
  // strides of lhs) happens in the GEMM's packing.
  int64_t *offsets = rowBuffer.get(static_cast<size_t>(rows));
  if (!offsets)
    return false;
  for (int64_t t = 0; t < rows; ++t) {
    int64_t r = (q0 + t) / p.m, i = (q0 + t) % p.m;
    offsets[t] = p.gather ? r * p.aStrideR + p.tokenOf(e, r, i) * p.aStrideM
                          : e * p.aStrideE + r * p.aStrideR + i * p.aStrideM;
  }
  GemmOperand a{p.a, 0, false, offsets};
  const float *bias = p.bias ? p.bias + e * p.biasStrideE : nullptr;
  auto product = [&](int64_t half, float *dst, int64_t ld) {
    if (p.k == 0) {
      for (int64_t t = 0; t < rows; ++t)
        std::fill(dst + t * ld, dst + t * ld + cols, 0.0f);
      return;
    }
    GemmOperand b = p.weightColumns(e, half * p.width + j0);
    if (block.panels) {
      b.panels = block.panels + half * block.halfFloats;
      b.panelWidth = block.cols;
      b.panelColumn = c0;
    }
    p.gemm(rows, cols, p.k, a, b, dst, ld, 0.0f);
  };
  product(0, c, ldc);
  if (p.act == ExpertActivation::SwiGlu) {
    float *up = upBuffer.get(static_cast<size_t>(rows * cols));
    if (!up)
      return false;
    product(1, up, cols);
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

/// `extent` cut into `count` blocks of `size` (the last may be shorter),
/// sizes a multiple of `quantum` where the extent allows.
struct Blocks {
  int64_t count, size;
};
Blocks blocksOf(int64_t extent, int64_t count, int64_t quantum) {
  if (extent <= 0)
    return {0, 0};
  count = std::max<int64_t>(1, std::min(count, extent));
  int64_t size = (extent + count - 1) / count;
  size = std::min(extent, (size + quantum - 1) / quantum * quantum);
  return {(extent + size - 1) / size, size};
}

/// Calls `tile(q0, rows)` for GEMM rows [first, last) of an expert, in
/// tiles of at most kTileRows; stops at the first false.
template <class F> bool forEachTile(int64_t first, int64_t last, F tile) {
  for (int64_t q0 = first; q0 < last; q0 += kTileRows)
    if (!tile(q0, std::min(kTileRows, last - q0)))
      return false;
  return true;
}

/// Zeros of out's columns [j0, j0 + cols) in the tokens of rows
/// [firstRow, lastRow) (the combine's start).
void clearRows(const Problem &p, int64_t firstRow, int64_t lastRow, int64_t j0,
               int64_t cols) {
  for (int64_t t = firstRow * p.tokens; t < lastRow * p.tokens; ++t)
    std::fill(p.out + t * p.width + j0, p.out + t * p.width + j0 + cols, 0.0f);
}

/// The whole product, block by block of output columns and, within a
/// block, expert by expert in order. For each (block, expert) all threads
/// first pack its weights' panels together (once per call, not once per
/// tile of rows: a BERT's 384 x 384 projection would otherwise be packed
/// by every tile), then compute their share of it:
///
///   without combine  a group of the expert's GEMM rows (48 at a time, the
///                    microkernel's row blocks), computed straight into
///                    its place in `out`, [E, R * M, width];
///   with combine     a group of whole rows r, whose rows of y the item
///                    owns: the expert's tiles are added into them, experts
///                    in order, so no two threads ever write one element
///                    and the order is fixed.
///
/// With fewer groups than threads, each block's columns are cut too. The
/// items of every block go to the same threads (a static schedule of the
/// same count), so an item's rows of y see the experts in order. Panels are
/// double-buffered: block b + 2 is packed only after every thread has
/// passed the barrier that ends block b + 1's packing, so after it finished
/// block b. The cut decides only which thread computes an element, never
/// how, so results do not depend on the thread count.
bool run(const Problem &p, int threads) {
  int64_t extent = p.combine ? p.rows : p.rows * p.m;
  Blocks groups = blocksOf(extent, threads, p.combine ? 1 : 48);
  if (groups.count == 0 || p.width == 0)
    return true;
  if (p.combine && p.experts == 0) {
    clearRows(p, 0, p.rows, 0, p.width);
    return true;
  }
  int64_t parts = (threads + groups.count - 1) / groups.count;
  int64_t items = groups.count * parts;
  Blocks columns =
      blocksOf(p.width, (p.width + kTileColumns - 1) / kTileColumns, 32);
  int64_t halves = p.act == ExpertActivation::SwiGlu ? 2 : 1;
  int64_t halfFloats = packedGemmBFloats(columns.size, p.k);
  // The bf16 GEMM packs its own panels; few rows read the weights in
  // place (decoding's one token per sequence).
  bool pack = p.gemm == sgemmSingleThread && p.k > 0 &&
              gemmPacksB(std::min(p.rows * p.m, kTileRows), p.transposedW);
  float *panels =
      pack ? panelBuffer.get(static_cast<size_t>(2 * halves * halfFloats))
           : nullptr;
  int64_t blocks = columns.count * p.experts;
  bool failed = false;
#pragma omp parallel num_threads(threads) if (threads > 1) reduction(||        \
                                                                     : failed)
  for (int64_t index = 0; index < blocks; ++index) {
    int64_t j0 = index / p.experts * columns.size;
    ColumnBlock block{index % p.experts, j0,
                      std::min(columns.size, p.width - j0), nullptr,
                      halfFloats};
    if (panels) {
      float *mine = panels + index % 2 * halves * halfFloats;
      int64_t pieces = packedGemmBPieces(block.cols, p.k);
#pragma omp for schedule(static)
      for (int64_t q = 0; q < halves * pieces; ++q)
        packGemmB(p.weightColumns(block.expert, q / pieces * p.width + j0),
                  block.cols, p.k, q % pieces, q % pieces + 1,
                  mine + q / pieces * halfFloats);
      block.panels = mine;
    }
    Blocks sub = blocksOf(block.cols, parts, 32);
#pragma omp for schedule(static) nowait
    for (int64_t item = 0; item < items; ++item) {
      int64_t g = item / parts, c0 = item % parts * sub.size;
      if (failed || c0 >= block.cols)
        continue;
      int64_t cols = std::min(sub.size, block.cols - c0);
      int64_t first = g * groups.size;
      int64_t last = std::min(extent, first + groups.size);
      if (!p.combine) {
        float *expert = p.out + block.expert * p.rows * p.m * p.width + j0 + c0;
        failed = !forEachTile(first, last, [&](int64_t q0, int64_t rows) {
          return computeTile(p, block, q0, rows, c0, cols,
                             expert + q0 * p.width, p.width);
        });
        continue;
      }
      if (block.expert == 0)
        clearRows(p, first, last, j0 + c0, cols);
      float *tile = tileBuffer.get(static_cast<size_t>(kTileRows * cols));
      failed =
          !tile ||
          !forEachTile(first * p.m, last * p.m, [&](int64_t q0, int64_t rows) {
            if (!computeTile(p, block, q0, rows, c0, cols, tile, cols))
              return false;
            for (int64_t t = 0; t < rows; ++t) {
              int64_t r = (q0 + t) / p.m, i = (q0 + t) % p.m;
              const float *weight =
                  p.weights ? p.weights + block.expert * p.wtStrideE +
                                  r * p.wtStrideR + i / p.patch
                            : nullptr;
              accumulate(p.out +
                             (r * p.tokens + p.tokenOf(block.expert, r, i)) *
                                 p.width +
                             j0 + c0,
                         tile + t * cols, weight, cols);
            }
            return true;
          });
    }
  }
  return !failed;
}

/// The first problem with the arguments, or OK.
Status check(const Problem &p, int64_t flags) {
  auto bad = [](auto... parts) {
    return invalidArgumentError(strCat("uoe_expert_gemm: ", parts...));
  };
  if (flags & ~int64_t(kExpertGemmGather | kExpertGemmCombine |
                       kExpertGemmBf16 | kExpertGemmTransposedW))
    return bad("unknown flags ", flags);
  if (p.experts < 0 || p.rows < 0 || p.slots < 0 || p.patch < 1 ||
      p.tokens < 0 || p.k < 0 || p.n < 0)
    return bad("bad sizes (experts ", p.experts, ", rows ", p.rows, ", slots ",
               p.slots, ", patch ", p.patch, ", tokens ", p.tokens, ", k ", p.k,
               ", n ", p.n, ")");
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
    int64_t a, int64_t aStrideE, int64_t aStrideR, int64_t aStrideM, int64_t w,
    int64_t wStrideE, int64_t wStrideK, int64_t bias, int64_t biasStrideE,
    int64_t positions, int64_t posStrideE, int64_t posStrideR, int64_t weights,
    int64_t wtStrideE, int64_t wtStrideR, int64_t out) {
  auto act = static_cast<ExpertActivation>(activation);
  auto address = [](int64_t v) { return reinterpret_cast<void *>(v); };
  Problem p{(flags & kExpertGemmGather) != 0,
            (flags & kExpertGemmCombine) != 0,
            (flags & kExpertGemmTransposedW) != 0,
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
      threads > 1 &&
      p.experts * p.rows * p.m * p.n * std::max<int64_t>(1, p.k) >= (1 << 18);
  if (!run(p, parallel ? threads : 1))
    recordCpuKernelError("uoe_expert_gemm: out of memory for the tiles");
}
