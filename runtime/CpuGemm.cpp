//===- CpuGemm.cpp - the CPU runtime's own f32 GEMM -----------------------===//
//
// A GotoBLAS/BLIS-style blocked GEMM (see CpuGemm.h for the numerics):
//
//   for jc over n in blocks of NC:              (columns of C and op(B))
//     for pc over k in blocks of kGemmKc:       (the reduction, in order)
//       pack op(B)[pc.., jc..] into NR-column panels   (skipped: see below)
//       for ic over m in blocks of MC:
//         pack op(A)[ic.., pc..] into MR-row panels
//         for each NR panel, for each MR panel: the microkernel
//
// The microkernel keeps an MR x NR tile of accumulators in registers and
// adds one rank-1 update per k: a row of the B panel (NR floats, vector
// loads) times each of the MR values of the A panel (broadcasts). A tile
// with fewer than MR rows runs a kernel instantiated for that many rows,
// and columns past n are masked, so no element's arithmetic depends on its
// neighbours. When few rows share op(B) (m <= kDirectBRows) and B is
// stored row-major, the kernel reads B in place instead of packing it, and
// a row-major A feeding few columns (n <= kDirectANColumns) is read in
// place too: the same operations on the same values, so the same bits.
//
// Each ISA's code is compiled for it with target attributes, so the
// library itself needs nothing beyond x86-64 and picks the kernel at run
// time. This file is compiled with -ffp-contract=off: a multiply followed
// by an add must stay two roundings, as in every ISA's path.
//
//===----------------------------------------------------------------------===//

#include "runtime/CpuGemm.h"
#include "runtime/ScratchBuffer.h"

#include "support/DType.h"

#include <cpuid.h>
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <type_traits>
#include <utility>

using namespace uoe::rt;

namespace {

constexpr int64_t kKc = kGemmKc;

/// How C is updated with a finished block of sums (see CpuGemm.h).
enum class Update { Store, Add, ScaleAdd };

Update updateFor(bool firstBlock, float beta) {
  if (!firstBlock || beta == 1.0f)
    return Update::Add;
  return beta == 0.0f ? Update::Store : Update::ScaleAdd;
}

/// Scalar C update, shared by the edge tiles of every ISA: the same IEEE
/// operations as the vector updates.
inline void updateScalar(float &c, float acc, Update update, float beta) {
  switch (update) {
  case Update::Store:
    c = acc;
    break;
  case Update::Add:
    c = c + acc;
    break;
  case Update::ScaleAdd: {
    float scaled = beta * c;
    c = scaled + acc;
    break;
  }
  }
}

/// A thread's packing buffers: f32 values, or bf16 bit patterns (below).
thread_local ScratchBuffer<float> aBuffer, bBuffer;

/// Row i of a non-transposed op(X): strided, or named by `rows`.
inline const float *rowOf(const GemmOperand &x, int64_t i) {
  return x.rows ? x.data + x.rows[i] : x.data + i * x.ld;
}

/// Element (i, p) of op(X).
inline float elementOf(const GemmOperand &x, int64_t i, int64_t p) {
  return x.trans ? x.data[p * x.ld + i] : rowOf(x, i)[p];
}

/// op(B) seen as rows of columns: element (j, p) of columnsOf(b) is
/// element (p, j) of op(B).
GemmOperand columnsOf(const GemmOperand &b) {
  return GemmOperand{b.data, b.ld, !b.trans};
}

/// Packs rows [i0, i0 + rows) of a row-major op(A) (a transposed one goes
/// to packTransposedBlock), k-range [p0, p0 + kc), into dst[p * MR + r],
/// with zeros in rows rows..MR-1.
template <int MR>
void packA(const GemmOperand &a, int64_t i0, int rows, int64_t p0, int64_t kc,
           float *dst) {
  // Element (i, p) at data[i * ld + p]: one stream per row; the rows past
  // `rows` read a row of zeros.
  static const float zeros[kKc] = {};
  const float *src[MR];
  for (int r = 0; r < MR; ++r)
    src[r] = r < rows ? rowOf(a, i0 + r) + p0 : zeros;
  int64_t p = 0;
  if constexpr (MR % 4 == 0) {
    // 4 x 4 blocks transposed in SSE registers (baseline x86-64): a vector
    // load per row and a vector store per k instead of 16 scalar moves.
    for (; p + 4 <= kc; p += 4)
      for (int r = 0; r < MR; r += 4) {
        __m128 x0 = _mm_loadu_ps(src[r] + p), x1 = _mm_loadu_ps(src[r + 1] + p),
               x2 = _mm_loadu_ps(src[r + 2] + p),
               x3 = _mm_loadu_ps(src[r + 3] + p);
        _MM_TRANSPOSE4_PS(x0, x1, x2, x3);
        _mm_storeu_ps(dst + p * MR + r, x0);
        _mm_storeu_ps(dst + (p + 1) * MR + r, x1);
        _mm_storeu_ps(dst + (p + 2) * MR + r, x2);
        _mm_storeu_ps(dst + (p + 3) * MR + r, x3);
      }
  }
  for (; p < kc; ++p) {
    float *out = dst + p * MR;
    for (int r = 0; r < MR; ++r)
      out[r] = src[r][p];
  }
}

/// Packs rows [i0, i0 + mc) of a transposed op(A) (element (i, p) at
/// data[p * ld + i]), k-range [p0, p0 + kc), into the panels of packA:
/// panel q at dst + q * MR * kc. One pass over the k rows of the stored
/// matrix, each read as one contiguous run of mc floats (packing panel by
/// panel would read 12 floats of every row per panel, striding through
/// memory mc / MR times).
template <int MR>
void packTransposedBlock(const GemmOperand &a, int64_t i0, int64_t mc,
                         int64_t p0, int64_t kc, float *dst) {
  int64_t full = mc / MR * MR;
  for (int64_t p = 0; p < kc; ++p) {
    const float *src = a.data + (p0 + p) * a.ld + i0;
    for (int64_t ir = 0; ir < full; ir += MR) {
      float *out = dst + ir * kc + p * MR;
      if constexpr (MR % 4 == 0) {
        for (int r = 0; r < MR; r += 4)
          _mm_storeu_ps(out + r, _mm_loadu_ps(src + ir + r));
      } else {
        for (int r = 0; r < MR; ++r)
          out[r] = src[ir + r];
      }
    }
    if (full < mc) {
      float *out = dst + full * kc + p * MR;
      int rows = static_cast<int>(mc - full);
      for (int r = 0; r < rows; ++r)
        out[r] = src[full + r];
      for (int r = rows; r < MR; ++r)
        out[r] = 0.0f;
    }
  }
}

/// Packs columns [j0, j0 + cols) of op(B), k-range [p0, p0 + kc), into
/// dst[p * NR + c], with zeros in columns cols..NR-1.
template <int NR>
void packB(const GemmOperand &b, int64_t j0, int cols, int64_t p0, int64_t kc,
           float *dst) {
  if (!b.trans) {
    // Element (p, j) at data[p * ld + j]: a row of the panel is contiguous.
    for (int64_t p = 0; p < kc; ++p) {
      const float *src = b.data + (p0 + p) * b.ld + j0;
      float *out = dst + p * NR;
      std::memcpy(out, src, cols * sizeof(float));
      for (int c = cols; c < NR; ++c)
        out[c] = 0.0f;
    }
    return;
  }
  // Element (p, j) at data[j * ld + p]: a column of the panel is contiguous.
  // 4 x 4 blocks transposed in SSE registers, as in packA; each column's
  // cache line serves four consecutive blocks of k.
  int fullCols = cols / 4 * 4;
  auto column = [&](int c) { return b.data + (j0 + c) * b.ld + p0; };
  int64_t p = 0;
  for (; p + 4 <= kc; p += 4) {
    float *out = dst + p * NR;
    for (int c = 0; c < fullCols; c += 4) {
      __m128 x0 = _mm_loadu_ps(column(c) + p),
             x1 = _mm_loadu_ps(column(c + 1) + p),
             x2 = _mm_loadu_ps(column(c + 2) + p),
             x3 = _mm_loadu_ps(column(c + 3) + p);
      _MM_TRANSPOSE4_PS(x0, x1, x2, x3);
      _mm_storeu_ps(out + c, x0);
      _mm_storeu_ps(out + NR + c, x1);
      _mm_storeu_ps(out + 2 * NR + c, x2);
      _mm_storeu_ps(out + 3 * NR + c, x3);
    }
    for (int c = fullCols; c < cols; ++c)
      for (int q = 0; q < 4; ++q)
        out[q * NR + c] = column(c)[p + q];
    for (int q = 0; q < 4; ++q)
      for (int c = cols; c < NR; ++c)
        out[q * NR + c] = 0.0f;
  }
  for (; p < kc; ++p) {
    for (int c = 0; c < cols; ++c)
      dst[p * NR + c] = column(c)[p];
    for (int c = cols; c < NR; ++c)
      dst[p * NR + c] = 0.0f;
  }
}

//===----------------------------------------------------------------------===//
// Microkernels. Signature: kc steps over a packed A panel (stride MR per k)
// and a B panel (stride bStride per k: NR when packed, ldb in place), into
// the R x cols tile of C at `c`.
//===----------------------------------------------------------------------===//

using Kernel = void (*)(int64_t kc, const float *ap, int64_t lda,
                        const float *bp, int64_t bStride, float *c,
                        int64_t ldc, int cols, Update update, float beta);

/// Element (r, p) of an A panel: packed (ap[p * MR + r]) or, when A is read
/// in place, row r of a row-major A (ap[r * lda + p]).
template <bool Direct, int MR>
inline const float *aElement(const float *ap, int64_t lda, int r, int64_t p) {
  return Direct ? ap + r * lda + p : ap + p * MR + r;
}

/// Plain C++: any x86-64.
struct GenericIsa {
  static constexpr int MR = 4, NR = 8, MC = 128, NC = 1024;

  template <int R, bool Direct, bool Narrow>
  static void kernel(int64_t kc, const float *ap, int64_t lda,
                     const float *bp, int64_t bStride, float *c, int64_t ldc,
                     int cols, Update update, float beta) {
    float acc[R][NR] = {};
    for (int64_t p = 0; p < kc; ++p) {
      const float *brow = bp + p * bStride;
      for (int r = 0; r < R; ++r) {
        float av = *aElement<Direct, MR>(ap, lda, r, p);
        for (int j = 0; j < NR; ++j)
          acc[r][j] = std::fmaf(av, brow[j], acc[r][j]);
      }
    }
    for (int r = 0; r < R; ++r)
      for (int j = 0; j < cols; ++j)
        updateScalar(c[r * ldc + j], acc[r][j], update, beta);
  }
};

#define UOE_AVX2 __attribute__((target("avx2,fma")))
#define UOE_AVX512 __attribute__((target("avx512f,avx2,fma")))

/// AVX2 + FMA: 6 rows x 16 columns (12 accumulators).
struct Avx2Isa {
  static constexpr int MR = 6, NR = 16, MC = 144, NC = 1024;

  template <int R, bool Direct, bool Narrow>
  UOE_AVX2 static void kernel(int64_t kc, const float *ap, int64_t lda,
                              const float *bp, int64_t bStride, float *c,
                              int64_t ldc, int cols, Update update,
                              float beta) {
    // Narrow: at most 8 columns, so the second vector of the tile is not
    // computed (its columns are padding).
    __m256 acc[R][2];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
      acc[r][0] = acc[r][1] = _mm256_setzero_ps();
#pragma GCC unroll 4
    for (int64_t p = 0; p < kc; ++p) {
      const float *brow = bp + p * bStride;
      __m256 b0 = _mm256_loadu_ps(brow);
      __m256 b1 = Narrow ? b0 : _mm256_loadu_ps(brow + 8);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        __m256 av = _mm256_broadcast_ss(aElement<Direct, MR>(ap, lda, r, p));
        acc[r][0] = _mm256_fmadd_ps(av, b0, acc[r][0]);
        if (!Narrow)
          acc[r][1] = _mm256_fmadd_ps(av, b1, acc[r][1]);
      }
    }
    if (cols == NR) {
      __m256 vbeta = _mm256_set1_ps(beta);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r)
        for (int h = 0; h < 2; ++h) {
          float *out = c + r * ldc + 8 * h;
          __m256 v = acc[r][h];
          if (update == Update::Add)
            v = _mm256_add_ps(_mm256_loadu_ps(out), v);
          else if (update == Update::ScaleAdd)
            v = _mm256_add_ps(_mm256_mul_ps(vbeta, _mm256_loadu_ps(out)), v);
          _mm256_storeu_ps(out, v);
        }
      return;
    }
    alignas(32) float tile[R][NR];
    for (int r = 0; r < R; ++r) {
      _mm256_store_ps(tile[r], acc[r][0]);
      _mm256_store_ps(tile[r] + 8, acc[r][1]);
    }
    for (int r = 0; r < R; ++r)
      for (int j = 0; j < cols; ++j)
        updateScalar(c[r * ldc + j], tile[r][j], update, beta);
  }
};

/// The masks of the two 16-column halves of a 32-column tile with `cols`
/// columns.
inline std::pair<__mmask16, __mmask16> columnMasks(int cols) {
  __mmask16 m0 = cols >= 16 ? __mmask16(0xffff) : __mmask16((1u << cols) - 1u);
  __mmask16 m1 = cols >= 32   ? __mmask16(0xffff)
                 : cols <= 16 ? __mmask16(0)
                              : __mmask16((1u << (cols - 16)) - 1u);
  return {m0, m1};
}

/// Updates the (up to) 32 columns at `out` with a row of sums `v0`, `v1`
/// as updateScalar does, columns masked by columnMasks.
UOE_AVX512 inline void updateRow512(float *out, __m512 v0, __m512 v1,
                                    std::pair<__mmask16, __mmask16> masks,
                                    Update update, float beta) {
  auto [m0, m1] = masks;
  if (update == Update::Add) {
    v0 = _mm512_add_ps(_mm512_maskz_loadu_ps(m0, out), v0);
    v1 = _mm512_add_ps(_mm512_maskz_loadu_ps(m1, out + 16), v1);
  } else if (update == Update::ScaleAdd) {
    __m512 vbeta = _mm512_set1_ps(beta);
    v0 = _mm512_add_ps(_mm512_mul_ps(vbeta, _mm512_maskz_loadu_ps(m0, out)),
                       v0);
    v1 = _mm512_add_ps(
        _mm512_mul_ps(vbeta, _mm512_maskz_loadu_ps(m1, out + 16)), v1);
  }
  _mm512_mask_storeu_ps(out, m0, v0);
  _mm512_mask_storeu_ps(out + 16, m1, v1);
}

/// How many rows of an in-place B the AVX-512 kernel prefetches ahead.
constexpr int64_t kPrefetchRows = 16;

/// AVX-512F: 12 rows x 32 columns (24 accumulators in zmm registers).
struct Avx512Isa {
  static constexpr int MR = 12, NR = 32, MC = 192, NC = 1024;

  template <int R, bool Direct, bool Narrow>
  UOE_AVX512 static void kernel(int64_t kc, const float *ap, int64_t lda,
                                const float *bp, int64_t bStride, float *c,
                                int64_t ldc, int cols, Update update,
                                float beta) {
    // Narrow: at most 16 columns, so the second vector of the tile is not
    // computed (its columns are padding).
    __m512 acc[R][2];
#pragma GCC unroll 12
    for (int r = 0; r < R; ++r)
      acc[r][0] = acc[r][1] = _mm512_setzero_ps();
    // Unrolled: fewer loop branches between the FMAs (5-15% here).
#pragma GCC unroll 4
    for (int64_t p = 0; p < kc; ++p) {
      const float *brow = bp + p * bStride;
      // B read in place (few rows of A): every k is another row of B, so
      // the hardware's stream prefetch cannot see ahead; ask for the row
      // kPrefetchRows ahead.
      if (bStride != NR) {
        _mm_prefetch(
            reinterpret_cast<const char *>(brow + kPrefetchRows * bStride),
            _MM_HINT_T0);
        if (!Narrow)
          _mm_prefetch(reinterpret_cast<const char *>(
                           brow + kPrefetchRows * bStride + 16),
                       _MM_HINT_T0);
      }
      __m512 b0 = _mm512_loadu_ps(brow);
      __m512 b1 = Narrow ? b0 : _mm512_loadu_ps(brow + 16);
#pragma GCC unroll 12
      for (int r = 0; r < R; ++r) {
        __m512 av = _mm512_set1_ps(*aElement<Direct, MR>(ap, lda, r, p));
        acc[r][0] = _mm512_fmadd_ps(av, b0, acc[r][0]);
        if (!Narrow)
          acc[r][1] = _mm512_fmadd_ps(av, b1, acc[r][1]);
      }
    }
    auto masks = columnMasks(cols);
#pragma GCC unroll 12
    for (int r = 0; r < R; ++r)
      updateRow512(c + r * ldc, acc[r][0], acc[r][1], masks, update, beta);
  }
};

/// Without panel buffers (no memory for a few hundred KB): the same
/// arithmetic per element, element by element.
void unpackedSgemm(int64_t m, int64_t n, int64_t k, const GemmOperand &a,
                   const GemmOperand &b, float *c, int64_t ldc, float beta) {
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j)
      for (int64_t pc = 0; pc < k; pc += kKc) {
        float acc = 0.0f;
        for (int64_t p = pc; p < std::min(k, pc + kKc); ++p) {
          acc = std::fmaf(elementOf(a, i, p), elementOf(columnsOf(b), j, p),
                          acc);
        }
        updateScalar(c[i * ldc + j], acc, updateFor(pc == 0, beta), beta);
      }
}

/// The kernels of one ISA for 1..MR rows, indexed by rows - 1, for packed
/// A panels or (Direct) a row-major A read in place, and for full panels or
/// (Narrow) panels of at most NR / 2 columns.
template <class Isa, bool Direct, bool Narrow, int... Rows>
constexpr auto kernelTable(std::integer_sequence<int, Rows...>) {
  return std::array<Kernel, sizeof...(Rows)>{
      &Isa::template kernel<Rows + 1, Direct, Narrow>...};
}

constexpr int64_t roundUp(int64_t x, int64_t multiple) {
  return (x + multiple - 1) / multiple * multiple;
}

/// Pieces [first, last) of packGemmB: piece q is panel q % panels of the
/// block of k q / panels.
template <class Isa>
void packGemmBPieces(const GemmOperand &b, int64_t n, int64_t k, int64_t first,
                     int64_t last, float *dst) {
  constexpr int NR = Isa::NR;
  int64_t panels = (n + NR - 1) / NR;
  for (int64_t q = first; q < last; ++q) {
    int64_t pc = q / panels * kKc, j = q % panels * NR;
    int64_t kc = std::min<int64_t>(kKc, k - pc);
    packB<NR>(b, j, static_cast<int>(std::min<int64_t>(NR, n - j)), pc, kc,
              dst + pc * roundUp(n, NR) + j * kc);
  }
}

/// Up to this many rows, a row-major op(B) is read in place: packing it
/// would cost as much as the product.
constexpr int64_t kDirectBRows = 16;

/// Up to this many columns, a row-major op(A) is read in place.
constexpr int64_t kDirectANColumns = 256;

/// Few rows of A (m <= kDirectBRows) against a row-major B read in place,
/// on AVX-512: B streamed row after row, each k row's run of columns read
/// contiguously (the microkernel's 32-column panels would instead touch
/// every row of B once per panel, which the memory system cannot prefetch:
/// a decoding step's weights came at two thirds of the memory bandwidth).
/// Per block of kKc values of k, the sums of a chunk of columns live in
/// `acc` (M x chunk floats, in L1) and pass through registers for
/// kStreamRows rows of B at a time. Every element is the same sequence of
/// operations as in the microkernel: acc = 0, then acc = fma(a_ik, b_kj,
/// acc) in k order, then the block's update of C.
constexpr int64_t kStreamRows = 8;

template <int M>
UOE_AVX512 void streamedSgemmAvx512(int64_t n, int64_t k, const GemmOperand &a,
                                    const GemmOperand &b, float *c, int64_t ldc,
                                    float beta) {
  constexpr int64_t kAccFloats = 4096;
  constexpr int64_t chunk = std::max<int64_t>(16, kAccFloats / M / 16 * 16);
  alignas(64) float acc[M * chunk];
  float av[kStreamRows][M];
  for (int64_t j0 = 0; j0 < n; j0 += chunk) {
    int64_t nc = std::min(chunk, n - j0);
    for (int64_t pc = 0; pc < k; pc += kKc) {
      int64_t end = std::min<int64_t>(k, pc + kKc);
      std::fill(acc, acc + M * chunk, 0.0f);
      for (int64_t p0 = pc; p0 < end; p0 += kStreamRows) {
        int64_t rows = std::min<int64_t>(kStreamRows, end - p0);
        for (int64_t q = 0; q < rows; ++q)
          for (int i = 0; i < M; ++i)
            av[q][i] = elementOf(a, i, p0 + q);
        for (int64_t j = 0; j < nc; j += 16) {
          __mmask16 mask = nc - j >= 16 ? __mmask16(0xffff)
                                        : __mmask16((1u << (nc - j)) - 1u);
          __m512 t[M];
#pragma GCC unroll 16
          for (int i = 0; i < M; ++i)
            t[i] = _mm512_load_ps(acc + i * chunk + j);
          for (int64_t q = 0; q < rows; ++q) {
            __m512 w =
                _mm512_maskz_loadu_ps(mask, b.data + (p0 + q) * b.ld + j0 + j);
#pragma GCC unroll 16
            for (int i = 0; i < M; ++i)
              t[i] = _mm512_fmadd_ps(_mm512_set1_ps(av[q][i]), w, t[i]);
          }
#pragma GCC unroll 16
          for (int i = 0; i < M; ++i)
            _mm512_store_ps(acc + i * chunk + j, t[i]);
        }
      }
      Update update = updateFor(pc == 0, beta);
      for (int i = 0; i < M; ++i)
        for (int64_t j = 0; j < nc; j += 32) {
          int cols = static_cast<int>(std::min<int64_t>(32, nc - j));
          const float *t = acc + i * chunk + j;
          auto masks = columnMasks(cols);
          updateRow512(
              c + i * ldc + j0 + j, _mm512_maskz_loadu_ps(masks.first, t),
              _mm512_maskz_loadu_ps(masks.second, t + 16), masks, update, beta);
        }
    }
  }
}

using StreamedGemm = void (*)(int64_t n, int64_t k, const GemmOperand &a,
                              const GemmOperand &b, float *c, int64_t ldc,
                              float beta);

template <int... Rows>
constexpr auto streamedTable(std::integer_sequence<int, Rows...>) {
  return std::array<StreamedGemm, sizeof...(Rows)>{
      &streamedSgemmAvx512<Rows + 1>...};
}

template <class Isa>
void blockedSgemm(int64_t m, int64_t n, int64_t k, const GemmOperand &a,
                  const GemmOperand &b, float *c, int64_t ldc, float beta) {
  if constexpr (std::is_same_v<Isa, Avx512Isa>) {
    static constexpr auto streamed =
        streamedTable(std::make_integer_sequence<int, kDirectBRows>());
    if (!b.panels && !b.trans && m <= kDirectBRows)
      return streamed[m - 1](n, k, a, b, c, ldc, beta);
  }
  constexpr int MR = Isa::MR, NR = Isa::NR, MC = Isa::MC, NC = Isa::NC;
  using Rows = std::make_integer_sequence<int, MR>;
  static constexpr auto packedKernels = kernelTable<Isa, false, false>(Rows());
  static constexpr auto directKernels = kernelTable<Isa, true, false>(Rows());
  static constexpr auto packedNarrow = kernelTable<Isa, false, true>(Rows());
  static constexpr auto directNarrow = kernelTable<Isa, true, true>(Rows());
  bool prepacked = b.panels != nullptr;
  bool directB = !prepacked && !b.trans && m <= kDirectBRows;
  // A row-major A feeding few columns is read in place (its rows are the
  // kernel's broadcast streams): packing would cost more than it saves.
  // Wider products reuse each packed panel often enough to pack it.
  bool directA = !a.trans && !a.rows && n <= kDirectANColumns;
  const auto &kernels = directA ? directKernels : packedKernels;
  const auto &narrowKernels = directA ? directNarrow : packedNarrow;
  float *aPack = aBuffer.get(static_cast<size_t>(MC) * kKc);
  // The panel buffer serves B, or B's last narrow panel when B is read in
  // place.
  float *bPack =
      bBuffer.get(static_cast<size_t>(directB || prepacked ? NR : NC) * kKc);
  if (!aPack || !bPack)
    return unpackedSgemm(m, n, k, a, b, c, ldc, beta);

  for (int64_t jc = 0; jc < n; jc += NC) {
    int64_t nc = std::min<int64_t>(NC, n - jc);
    for (int64_t pc = 0; pc < k; pc += kKc) {
      int64_t kc = std::min<int64_t>(kKc, k - pc);
      Update update = updateFor(pc == 0, beta);
      // Columns [jc, jc + nc) of the block's panels.
      const float *bBlock = bPack;
      if (prepacked)
        bBlock = b.panels + pc * roundUp(b.panelWidth, NR) +
                 (b.panelColumn + jc) * kc;
      else if (!directB)
        for (int64_t jr = 0; jr < nc; jr += NR)
          packB<NR>(b, jc + jr, static_cast<int>(std::min<int64_t>(NR, nc - jr)),
                    pc, kc, bPack + jr * kc);
      for (int64_t ic = 0; ic < m; ic += MC) {
        int64_t mc = std::min<int64_t>(MC, m - ic);
        if (a.trans)
          packTransposedBlock<MR>(a, ic, mc, pc, kc, aPack);
        else if (!directA)
          for (int64_t ir = 0; ir < mc; ir += MR)
            packA<MR>(a, ic + ir,
                      static_cast<int>(std::min<int64_t>(MR, mc - ir)), pc,
                      kc, aPack + ir * kc);
        for (int64_t jr = 0; jr < nc; jr += NR) {
          int cols = static_cast<int>(std::min<int64_t>(NR, nc - jr));
          const float *bp =
              directB ? b.data + pc * b.ld + jc + jr : bBlock + jr * kc;
          int64_t bStride = directB ? b.ld : NR;
          // In place, a panel with fewer than NR columns would read past
          // the row: copy it, padded, into a small local panel instead.
          if (directB && cols < NR) {
            packB<NR>(b, jc + jr, cols, pc, kc, bPack);
            bp = bPack;
            bStride = NR;
          }
          for (int64_t ir = 0; ir < mc; ir += MR) {
            int rows = static_cast<int>(std::min<int64_t>(MR, mc - ir));
            const float *ap = directA ? a.data + (ic + ir) * a.ld + pc
                                      : aPack + ir * kc;
            // A last panel of at most half the width skips the empty half.
            const auto &table = cols <= NR / 2 ? narrowKernels : kernels;
            table[rows - 1](kc, ap, a.ld, bp, bStride,
                              c + (ic + ir) * ldc + jc + jr, ldc, cols, update,
                              beta);
          }
        }
      }
    }
  }
}

bool cpuCanRun(GemmIsa isa) {
  switch (isa) {
  case GemmIsa::Generic:
    return true;
  case GemmIsa::Avx2:
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  case GemmIsa::Avx512:
    // GCC's check includes the OS's support for the zmm state (XCR0).
    return __builtin_cpu_supports("avx512f") && cpuCanRun(GemmIsa::Avx2);
  }
  return false;
}

GemmIsa &selectedIsa() {
  static GemmIsa isa = detectedGemmIsa();
  return isa;
}

} // namespace

GemmIsa uoe::rt::detectedGemmIsa() {
  static const GemmIsa isa = [] {
    __builtin_cpu_init();
    if (cpuCanRun(GemmIsa::Avx512))
      return GemmIsa::Avx512;
    if (cpuCanRun(GemmIsa::Avx2))
      return GemmIsa::Avx2;
    return GemmIsa::Generic;
  }();
  return isa;
}

GemmIsa uoe::rt::gemmIsa() { return selectedIsa(); }

bool uoe::rt::setGemmIsa(GemmIsa isa) {
  __builtin_cpu_init();
  if (!cpuCanRun(isa))
    return false;
  selectedIsa() = isa;
  return true;
}

const char *uoe::rt::gemmIsaName(GemmIsa isa) {
  switch (isa) {
  case GemmIsa::Generic:
    return "generic";
  case GemmIsa::Avx2:
    return "avx2";
  case GemmIsa::Avx512:
    return "avx512";
  }
  return "unknown";
}

void uoe::rt::sgemmSingleThread(int64_t m, int64_t n, int64_t k, GemmOperand a,
                                GemmOperand b, float *c, int64_t ldc,
                                float beta) {
  switch (gemmIsa()) {
  case GemmIsa::Avx512:
    return blockedSgemm<Avx512Isa>(m, n, k, a, b, c, ldc, beta);
  case GemmIsa::Avx2:
    return blockedSgemm<Avx2Isa>(m, n, k, a, b, c, ldc, beta);
  case GemmIsa::Generic:
    return blockedSgemm<GenericIsa>(m, n, k, a, b, c, ldc, beta);
  }
}

int64_t uoe::rt::gemmPanelColumns() {
  switch (gemmIsa()) {
  case GemmIsa::Avx512:
    return Avx512Isa::NR;
  case GemmIsa::Avx2:
    return Avx2Isa::NR;
  case GemmIsa::Generic:
    break;
  }
  return GenericIsa::NR;
}

bool uoe::rt::gemmPacksB(int64_t m, bool transB) {
  return transB || m > kDirectBRows;
}

int64_t uoe::rt::packedGemmBFloats(int64_t n, int64_t k) {
  return roundUp(n, gemmPanelColumns()) * k;
}

int64_t uoe::rt::packedGemmBPieces(int64_t n, int64_t k) {
  return (n + gemmPanelColumns() - 1) / gemmPanelColumns() *
         ((k + kKc - 1) / kKc);
}

void uoe::rt::packGemmB(const GemmOperand &b, int64_t n, int64_t k,
                        int64_t first, int64_t last, float *panels) {
  switch (gemmIsa()) {
  case GemmIsa::Avx512:
    return packGemmBPieces<Avx512Isa>(b, n, k, first, last, panels);
  case GemmIsa::Avx2:
    return packGemmBPieces<Avx2Isa>(b, n, k, first, last, panels);
  case GemmIsa::Generic:
    return packGemmBPieces<GenericIsa>(b, n, k, first, last, panels);
  }
}

//===----------------------------------------------------------------------===//
// bf16 products with f32 accumulation (see CpuGemm.h)
//
// The same blocking as the f32 GEMM, with panels of bf16 pairs: element
// (r, p) of an A panel sits at ap[(p / 2) * 2 * MR + 2 * r + p % 2], of a B
// panel at bp[(p / 2) * 2 * NR + 2 * c + p % 2], so that one 32-bit word
// holds a row's (or column's) pair of k and vdpbf16ps multiplies 16 column
// pairs by a broadcast row pair. An odd kc is padded with a zero pair half.
//===----------------------------------------------------------------------===//

namespace {

thread_local ScratchBuffer<uint16_t> aBf16Buffer, bBf16Buffer;

/// Packs `count` rows (of op(A)) or columns (of op(B), transposed view)
/// starting at `first`, k-range [p0, p0 + kc), into pair-interleaved
/// panels of `width` lanes; lanes past `count` and the pad half are zero.
/// `x` is viewed so that element (lane, p) is elementOf(x, first + lane,
/// p0 + p).
void packPairs(const GemmOperand &x, int64_t first, int count, int width,
               int64_t p0, int64_t kc, uint16_t *dst) {
  int64_t pairs = (kc + 1) / 2;
  std::memset(dst, 0, static_cast<size_t>(pairs) * 2 * width *
                          sizeof(uint16_t));
  for (int lane = 0; lane < count; ++lane)
    for (int64_t p = 0; p < kc; ++p)
      dst[(p / 2) * 2 * width + 2 * lane + p % 2] =
          f32ToBf16Bits(elementOf(x, first + lane, p0 + p));
}

using Bf16Kernel = void (*)(int64_t pairs, const uint16_t *ap,
                            const uint16_t *bp, float *c, int64_t ldc,
                            int rows, int cols, Update update, float beta);

constexpr int kBf16Mr = 12, kBf16Nr = 32, kBf16Mc = 192, kBf16Nc = 1024;

void bf16KernelGeneric(int64_t pairs, const uint16_t *ap, const uint16_t *bp,
                       float *c, int64_t ldc, int rows, int cols,
                       Update update, float beta) {
  // A tile of accumulators updated one k pair at a time, as the vector
  // kernel does (a loop nest GCC vectorizes across columns correctly).
  float acc[kBf16Mr][kBf16Nr] = {};
  float bOdd[kBf16Nr], bEven[kBf16Nr];
  for (int64_t q = 0; q < pairs; ++q) {
    const uint16_t *brow = bp + q * 2 * kBf16Nr;
    for (int j = 0; j < kBf16Nr; ++j) {
      bOdd[j] = bf16BitsToF32(brow[2 * j + 1]);
      bEven[j] = bf16BitsToF32(brow[2 * j]);
    }
    const uint16_t *arow = ap + q * 2 * kBf16Mr;
    for (int r = 0; r < rows; ++r) {
      float aOdd = bf16BitsToF32(arow[2 * r + 1]);
      float aEven = bf16BitsToF32(arow[2 * r]);
      for (int j = 0; j < kBf16Nr; ++j) {
        float sum = acc[r][j] + aOdd * bOdd[j];
        acc[r][j] = sum + aEven * bEven[j];
      }
    }
  }
  for (int r = 0; r < rows; ++r)
    for (int j = 0; j < cols; ++j)
      updateScalar(c[r * ldc + j], acc[r][j], update, beta);
}

#define UOE_AVX512BF16 \
  __attribute__((target("avx512f,avx512bf16,avx512bw,avx512vl,avx2,fma")))

UOE_AVX512BF16 void bf16KernelAvx512(int64_t pairs, const uint16_t *ap,
                                     const uint16_t *bp, float *c,
                                     int64_t ldc, int rows, int cols,
                                     Update update, float beta) {
  __m512 acc[kBf16Mr][2];
  for (int r = 0; r < kBf16Mr; ++r)
    acc[r][0] = acc[r][1] = _mm512_setzero_ps();
#pragma GCC unroll 2
  for (int64_t q = 0; q < pairs; ++q) {
    const uint16_t *brow = bp + q * 2 * kBf16Nr;
    __m512bh b0 = (__m512bh)_mm512_loadu_si512(brow);
    __m512bh b1 = (__m512bh)_mm512_loadu_si512(brow + 32);
    const uint16_t *arow = ap + q * 2 * kBf16Mr;
#pragma GCC unroll 12
    for (int r = 0; r < kBf16Mr; ++r) {
      uint32_t pair;
      std::memcpy(&pair, arow + 2 * r, sizeof pair);
      __m512bh av = (__m512bh)_mm512_set1_epi32(static_cast<int>(pair));
      acc[r][0] = _mm512_dpbf16_ps(acc[r][0], av, b0);
      acc[r][1] = _mm512_dpbf16_ps(acc[r][1], av, b1);
    }
  }
  auto masks = columnMasks(cols);
  for (int r = 0; r < rows; ++r)
    updateRow512(c + r * ldc, acc[r][0], acc[r][1], masks, update, beta);
}

/// AVX512-BF16 packing of the two common layouts: rows of a row-major
/// op(A) (a row's k pairs are consecutive), and columns of a row-major
/// op(B) (a pair is two consecutive rows). vcvtne2ps2bf16 rounds to nearest
/// even, as f32ToBf16Bits does, but flushes denormals like vdpbf16ps.
/// Returns false (nothing packed) for the other layouts.
UOE_AVX512BF16 bool packPairsAvx512(const GemmOperand &x, int64_t first,
                                    int count, int width, int64_t p0,
                                    int64_t kc, uint16_t *dst) {
  if (!x.trans) {
    // Lanes are rows of x: element (lane, p) at data[(first + lane) * ld +
    // p0 + p]. 32 values of k give 16 pair words, scattered to their lane.
    int64_t pairs = (kc + 1) / 2;
    std::memset(dst, 0, static_cast<size_t>(pairs) * 2 * width *
                            sizeof(uint16_t));
    auto *words = reinterpret_cast<int *>(dst);
    __m512i index = _mm512_mullo_epi32(
        _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
                          15),
        _mm512_set1_epi32(width));
    for (int lane = 0; lane < count; ++lane) {
      const float *src = rowOf(x, first + lane) + p0;
      for (int64_t p = 0; p < kc; p += 32) {
        int64_t left = kc - p;
        __mmask16 lo = left >= 16 ? __mmask16(0xffff)
                                  : __mmask16((1u << left) - 1u);
        __mmask16 hi = left >= 32   ? __mmask16(0xffff)
                       : left <= 16 ? __mmask16(0)
                                    : __mmask16((1u << (left - 16)) - 1u);
        __m512 v0 = _mm512_maskz_loadu_ps(lo, src + p);
        __m512 v1 = _mm512_maskz_loadu_ps(hi, src + p + 16);
        __m512i packed = (__m512i)_mm512_cvtne2ps_pbh(v1, v0);
        int64_t wordCount = std::min<int64_t>(16, (left + 1) / 2);
        __mmask16 store = wordCount >= 16
                              ? __mmask16(0xffff)
                              : __mmask16((1u << wordCount) - 1u);
        _mm512_mask_i32scatter_epi32(words + (p / 2) * width + lane, store,
                                     index, packed, 4);
      }
    }
    return true;
  }
  // Lanes are columns of a row-major op(B) (x is its column view):
  // element (lane, p) at data[(p0 + p) * ld + first + lane].
  if (width % 16 != 0)
    return false;
  int64_t pairs = (kc + 1) / 2;
  __m512i interleave = _mm512_set_epi16(
      31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8, 23, 7, 22,
      6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
  for (int64_t q = 0; q < pairs; ++q) {
    const float *even = x.data + (p0 + 2 * q) * x.ld + first;
    bool hasOdd = 2 * q + 1 < kc;
    const float *odd = even + x.ld;
    uint16_t *out = dst + q * 2 * width;
    for (int c0 = 0; c0 < width; c0 += 16) {
      int left = count - c0;
      __mmask16 m = left >= 16 ? __mmask16(0xffff)
                    : left <= 0 ? __mmask16(0)
                                : __mmask16((1u << left) - 1u);
      __m512 e = _mm512_maskz_loadu_ps(m, even + c0);
      __m512 o = hasOdd ? _mm512_maskz_loadu_ps(m, odd + c0)
                        : _mm512_setzero_ps();
      __m512i both = (__m512i)_mm512_cvtne2ps_pbh(o, e);
      _mm512_storeu_si512(out + 2 * c0,
                          _mm512_permutexvar_epi16(interleave, both));
    }
  }
  return true;
}

/// packPairs, with the AVX512-BF16 conversion for the layouts it handles
/// when `avx512` (the ISA has it).
void packPairsFor(bool avx512, const GemmOperand &x, int64_t first, int count,
                  int width, int64_t p0, int64_t kc, uint16_t *dst) {
  if (!avx512 || !packPairsAvx512(x, first, count, width, p0, kc, dst))
    packPairs(x, first, count, width, p0, kc, dst);
}

//===----------------------------------------------------------------------===//
// AMX (tdpbf16ps): 32 x 32 blocks of C in four 16 x 16 f32 tiles.
//
// A panels are 32 rows of bf16, row-major with a row of kcp = kc rounded up
// to 32 (zero padded); B panels are the pair-interleaved panels above, 32
// columns wide, with kcp / 2 pairs. Per 32 values of k: two A tiles (16 rows
// x 32 bf16), two B tiles (16 pairs x 16 columns), four tdpbf16ps.
//===----------------------------------------------------------------------===//

#define UOE_AMX                                                               \
  __attribute__((target("amx-tile,amx-bf16,avx512f,avx512bf16,avx512bw,"     \
                        "avx512vl,avx2,fma")))

constexpr int kAmxMr = 32, kAmxNr = 32;

/// The tile configuration: tiles 0-3 C (16 rows x 64 bytes), 4-5 A (16 x
/// 64), 6-7 B (16 x 64).
struct alignas(64) AmxConfig {
  uint8_t palette = 1, startRow = 0, reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};
};

/// Linux gives a process the AMX tile state only on request.
bool requestAmxPermission() {
  constexpr long kArchReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;
  return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
}

UOE_AMX void loadAmxConfig() {
  // Each thread's tile configuration is its own, and nothing else in the
  // process configures tiles: load it once per thread.
  thread_local bool loaded = false;
  if (loaded)
    return;
  loaded = true;
  AmxConfig config;
  for (int t = 0; t < 8; ++t) {
    config.colsb[t] = 64;
    config.rows[t] = 16;
  }
  _tile_loadconfig(&config);
}

/// Rows [first, first + count) of op(A), k-range [p0, p0 + kc), as bf16
/// rows of kcp values (zero padded, as are rows count..kAmxMr-1).
UOE_AMX void packAmxA(const GemmOperand &a, int64_t first, int count,
                      int64_t p0, int64_t kc, int64_t kcp, uint16_t *dst) {
  std::memset(dst, 0, static_cast<size_t>(kAmxMr) * kcp * sizeof(uint16_t));
  for (int r = 0; r < count; ++r) {
    uint16_t *out = dst + r * kcp;
    if (!a.trans) {
      const float *src = rowOf(a, first + r) + p0;
      int64_t p = 0;
      for (; p + 32 <= kc; p += 32)
        _mm512_storeu_si512(out + p,
                            (__m512i)_mm512_cvtne2ps_pbh(
                                _mm512_loadu_ps(src + p + 16),
                                _mm512_loadu_ps(src + p)));
      for (; p < kc; ++p)
        out[p] = f32ToBf16Bits(src[p]);
    } else {
      for (int64_t p = 0; p < kc; ++p)
        out[p] = f32ToBf16Bits(a.data[(p0 + p) * a.ld + first + r]);
    }
  }
}

UOE_AMX void bf16KernelAmx(int64_t kcp, const uint16_t *ap,
                           const uint16_t *bp, float *c, int64_t ldc,
                           int rows, int cols, Update update, float beta) {
  loadAmxConfig();
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  for (int64_t p = 0; p < kcp; p += 32) {
    // A: rows 0-15 and 16-31, 32 bf16 each (stride: a row of the panel).
    _tile_loadd(4, ap + p, kcp * sizeof(uint16_t));
    _tile_loadd(5, ap + 16 * kcp + p, kcp * sizeof(uint16_t));
    // B: 16 pairs from pair p / 2, columns 0-15 and 16-31.
    const uint16_t *brow = bp + (p / 2) * 2 * kAmxNr;
    _tile_loadd(6, brow, 2 * kAmxNr * sizeof(uint16_t));
    _tile_loadd(7, brow + 32, 2 * kAmxNr * sizeof(uint16_t));
    _tile_dpbf16ps(0, 4, 6);
    _tile_dpbf16ps(1, 4, 7);
    _tile_dpbf16ps(2, 5, 6);
    _tile_dpbf16ps(3, 5, 7);
  }
  alignas(64) float tile[kAmxMr][kAmxNr];
  _tile_stored(0, &tile[0][0], kAmxNr * sizeof(float));
  _tile_stored(1, &tile[0][16], kAmxNr * sizeof(float));
  _tile_stored(2, &tile[16][0], kAmxNr * sizeof(float));
  _tile_stored(3, &tile[16][16], kAmxNr * sizeof(float));
  auto masks = columnMasks(cols);
  for (int r = 0; r < rows; ++r)
    updateRow512(c + r * ldc, _mm512_load_ps(tile[r]),
                 _mm512_load_ps(tile[r] + 16), masks, update, beta);
}

/// The AMX product with panel buffers of kBf16Mc * kKc (A) and kBf16Nc *
/// kKc (B) values.
void bf16GemmAmx(int64_t m, int64_t n, int64_t k, const GemmOperand &a,
                 const GemmOperand &b, float *c, int64_t ldc, float beta,
                 uint16_t *aPack, uint16_t *bPack) {
  constexpr int MR = kAmxMr, NR = kAmxNr, MC = kBf16Mc, NC = kBf16Nc;
  GemmOperand bColumns = columnsOf(b);
  for (int64_t jc = 0; jc < n; jc += NC) {
    int64_t nc = std::min<int64_t>(NC, n - jc);
    for (int64_t pc = 0; pc < k; pc += kKc) {
      int64_t kc = std::min<int64_t>(kKc, k - pc);
      int64_t kcp = (kc + 31) / 32 * 32;
      Update update = updateFor(pc == 0, beta);
      for (int64_t jr = 0; jr < nc; jr += NR) {
        uint16_t *panel = bPack + jr * kcp;
        int cols = static_cast<int>(std::min<int64_t>(NR, nc - jr));
        packPairsFor(/*avx512=*/true, bColumns, jc + jr, cols, NR, pc, kc,
                     panel);
        // Zero pairs up to kcp / 2.
        int64_t pairs = (kc + 1) / 2;
        std::memset(panel + pairs * 2 * NR, 0,
                    static_cast<size_t>(kcp / 2 - pairs) * 2 * NR *
                        sizeof(uint16_t));
      }
      for (int64_t ic = 0; ic < m; ic += MC) {
        int64_t mc = std::min<int64_t>(MC, m - ic);
        for (int64_t ir = 0; ir < mc; ir += MR)
          packAmxA(a, ic + ir, static_cast<int>(std::min<int64_t>(MR, mc - ir)),
                   pc, kc, kcp, aPack + ir * kcp);
        for (int64_t jr = 0; jr < nc; jr += NR)
          for (int64_t ir = 0; ir < mc; ir += MR)
            bf16KernelAmx(kcp, aPack + ir * kcp, bPack + jr * kcp,
                          c + (ic + ir) * ldc + jc + jr, ldc,
                          static_cast<int>(std::min<int64_t>(MR, mc - ir)),
                          static_cast<int>(std::min<int64_t>(NR, nc - jr)),
                          update, beta);
      }
    }
  }
}

/// CPUID leaf 7: AMX-TILE (EDX bit 24) and AMX-BF16 (EDX bit 22).
bool cpuHasAmxBf16() {
  unsigned eax, ebx, ecx, edx;
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx))
    return false;
  return (edx >> 24 & 1u) && (edx >> 22 & 1u);
}

bool cpuCanRunBf16(Bf16GemmIsa isa) {
  if (isa == Bf16GemmIsa::Generic)
    return true;
  if (isa == Bf16GemmIsa::Amx) {
    static const bool amx = cpuCanRunBf16(Bf16GemmIsa::Avx512Bf16) &&
                            cpuHasAmxBf16() && requestAmxPermission();
    return amx;
  }
  return cpuCanRun(GemmIsa::Avx512) &&
         __builtin_cpu_supports("avx512bf16") &&
         __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl");
}

Bf16GemmIsa &selectedBf16Isa() {
  static Bf16GemmIsa isa = detectedBf16GemmIsa();
  return isa;
}

} // namespace

Bf16GemmIsa uoe::rt::detectedBf16GemmIsa() {
  static const Bf16GemmIsa isa = [] {
    __builtin_cpu_init();
    if (cpuCanRunBf16(Bf16GemmIsa::Amx))
      return Bf16GemmIsa::Amx;
    return cpuCanRunBf16(Bf16GemmIsa::Avx512Bf16) ? Bf16GemmIsa::Avx512Bf16
                                                  : Bf16GemmIsa::Generic;
  }();
  return isa;
}

Bf16GemmIsa uoe::rt::bf16GemmIsa() { return selectedBf16Isa(); }

bool uoe::rt::setBf16GemmIsa(Bf16GemmIsa isa) {
  __builtin_cpu_init();
  if (!cpuCanRunBf16(isa))
    return false;
  selectedBf16Isa() = isa;
  return true;
}

const char *uoe::rt::bf16GemmIsaName(Bf16GemmIsa isa) {
  switch (isa) {
  case Bf16GemmIsa::Amx:
    return "amx";
  case Bf16GemmIsa::Avx512Bf16:
    return "avx512bf16";
  case Bf16GemmIsa::Generic:
    return "generic";
  }
  return "unknown";
}

void uoe::rt::bf16GemmSingleThread(int64_t m, int64_t n, int64_t k,
                                   GemmOperand a, GemmOperand b, float *c,
                                   int64_t ldc, float beta) {
  constexpr int MR = kBf16Mr, NR = kBf16Nr, MC = kBf16Mc, NC = kBf16Nc;
  // Panels hold kKc (even) values of k per lane.
  uint16_t *aPack = aBf16Buffer.get(static_cast<size_t>(MC) * kKc);
  uint16_t *bPack = bBf16Buffer.get(static_cast<size_t>(NC) * kKc);
  Bf16GemmIsa isa = bf16GemmIsa();
  if (aPack && bPack && isa == Bf16GemmIsa::Amx)
    return bf16GemmAmx(m, n, k, a, b, c, ldc, beta, aPack, bPack);
  bool avx512 = isa == Bf16GemmIsa::Avx512Bf16;
  Bf16Kernel kernel = avx512 ? bf16KernelAvx512 : bf16KernelGeneric;
  if (!aPack || !bPack) {
    // No memory for the panels: the generic kernel on one-lane panels.
    uint16_t ap[2 * MR * kKc / 2 + 2 * MR], bp[2 * NR * kKc / 2 + 2 * NR];
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j)
        for (int64_t pc = 0; pc < k; pc += kKc) {
          int64_t kc = std::min<int64_t>(kKc, k - pc);
          packPairs(a, i, 1, MR, pc, kc, ap);
          packPairs(columnsOf(b), j, 1, NR, pc, kc, bp);
          bf16KernelGeneric((kc + 1) / 2, ap, bp, c + i * ldc + j, ldc, 1, 1,
                            updateFor(pc == 0, beta), beta);
        }
    return;
  }
  GemmOperand bColumns = columnsOf(b);
  for (int64_t jc = 0; jc < n; jc += NC) {
    int64_t nc = std::min<int64_t>(NC, n - jc);
    for (int64_t pc = 0; pc < k; pc += kKc) {
      int64_t kc = std::min<int64_t>(kKc, k - pc), pairs = (kc + 1) / 2;
      Update update = updateFor(pc == 0, beta);
      for (int64_t jr = 0; jr < nc; jr += NR)
        packPairsFor(avx512, bColumns, jc + jr,
                     static_cast<int>(std::min<int64_t>(NR, nc - jr)), NR, pc,
                     kc, bPack + jr * 2 * pairs);
      for (int64_t ic = 0; ic < m; ic += MC) {
        int64_t mc = std::min<int64_t>(MC, m - ic);
        for (int64_t ir = 0; ir < mc; ir += MR)
          packPairsFor(avx512, a, ic + ir,
                       static_cast<int>(std::min<int64_t>(MR, mc - ir)), MR,
                       pc, kc, aPack + ir * 2 * pairs);
        for (int64_t jr = 0; jr < nc; jr += NR)
          for (int64_t ir = 0; ir < mc; ir += MR)
            kernel(pairs, aPack + ir * 2 * pairs, bPack + jr * 2 * pairs,
                   c + (ic + ir) * ldc + jc + jr, ldc,
                   static_cast<int>(std::min<int64_t>(MR, mc - ir)),
                   static_cast<int>(std::min<int64_t>(NR, nc - jr)), update,
                   beta);
      }
    }
  }
}
