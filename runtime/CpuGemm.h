//===- CpuGemm.h - the CPU runtime's own f32 GEMM ---------------*- C++ -*-===//
//
// The GEMM behind uoe_sgemm_batched (runtime/CpuBlas.h): packed panels
// and register-blocked microkernels of our own, for AVX-512, AVX2+FMA and
// plain x86-64, chosen once per process from the CPU features it sees
// (CPUID), never from environment variables or a library's CPU table.
//
// Results are batch-invariant and deterministic by construction. Every
// element of C is computed by the same sequence of operations whatever the
// other rows and columns, the sizes m and n, the batch, the thread count or
// the ISA:
//
//   for each block of kGemmKc consecutive k, in order:
//     acc = 0; for k in the block, in order: acc = fma(a_ik, b_kj, acc)
//     first block:  c = acc            (beta == 0)
//                   c = c + acc        (beta == 1)
//                   c = beta * c + acc (otherwise)
//     later blocks: c = c + acc
//
// Rows and columns are only ever split between threads and register
// tiles, never the reduction over k, so a row's result depends on that row
// of op(A), on op(B) and on k alone. Prefix invariance of causal models and
// run-to-run reproducibility follow bit for bit on every CPU; across CPUs
// the three ISAs also agree bit for bit (all use a fused multiply-add).
//
//===----------------------------------------------------------------------===//

#ifndef UOE_RUNTIME_CPUGEMM_H
#define UOE_RUNTIME_CPUGEMM_H

#include <cstdint>

namespace uoe::rt {

/// The instruction sets the GEMM has microkernels for.
enum class GemmIsa {
  Generic, ///< Plain C++ (any x86-64), fmaf for the multiply-add.
  Avx2,    ///< AVX2 + FMA: 6 x 16 register tile.
  Avx512,  ///< AVX-512F: 12 x 32 register tile.
};

/// The reduction block: every element's sum over k is cut into blocks of
/// this many terms (see the file comment). Part of the numerics: changing it
/// changes results in the last bits.
constexpr int64_t kGemmKc = 256;

/// The best ISA this process may use, from CPUID (and the OS's XSAVE
/// support for the wider registers); decided once.
GemmIsa detectedGemmIsa();

/// The ISA the GEMM uses: detectedGemmIsa() unless setGemmIsa changed it.
GemmIsa gemmIsa();

/// Makes the GEMM use `isa` (tests compare the ISAs); returns false and
/// changes nothing if this CPU cannot run it. Not to be called while a
/// GEMM runs.
bool setGemmIsa(GemmIsa isa);

/// "avx512", "avx2" or "generic".
const char *gemmIsaName(GemmIsa isa);

/// One strided f32 matrix operand: element (i, j) of op(X) is
/// data[i * ld + j], or data[j * ld + i] when `trans`. An A operand that is
/// not transposed may instead name its rows: with `rows`, row i of op(A)
/// starts at data + rows[i] (`ld` unused), which is how a selection's
/// gather happens inside the GEMM's packing (no gathered copy in memory).
struct GemmOperand {
  const float *data;
  int64_t ld;
  bool trans;
  const int64_t *rows = nullptr;
  /// A B operand may come packed already (packGemmB): then its panels are
  /// read from `panels`, which holds a packed op(B) of `panelWidth`
  /// columns, and this product's columns start at its column
  /// `panelColumn` (a multiple of gemmPanelColumns()). `data` and `ld`
  /// still name the unpacked op(B) (the fallback without panel memory).
  const float *panels = nullptr;
  int64_t panelWidth = 0, panelColumn = 0;
};

/// C = op(A) * op(B) + beta * C for one m x n x k product on the calling
/// thread (C row-major with leading dimension ldc), with m, n, k > 0 and
/// valid leading dimensions (the caller checks them). Rows and columns may
/// be any sub-range of a larger product: the result of an element does not
/// depend on which.
void sgemmSingleThread(int64_t m, int64_t n, int64_t k, GemmOperand a,
                       GemmOperand b, float *c, int64_t ldc, float beta);

//===----------------------------------------------------------------------===//
// op(B) packed once for several products
//
// Threads that compute different rows of one product would each pack the
// same panels of op(B); instead they pack it once, together (each a range
// of pieces), and pass the panels in GemmOperand::panels. The layout is the
// ISA's: per block of kGemmKc values of k (kc of them), the columns rounded
// up to gemmPanelColumns() (zero padded), column j at j * kc. The values
// and the microkernel are the ones sgemmSingleThread would use, so the
// bits are the same.
//===----------------------------------------------------------------------===//

/// The width of a panel (the microkernel's columns) on the ISA in use.
int64_t gemmPanelColumns();

/// Whether sgemmSingleThread packs op(B) for a product of m rows (else it
/// reads a row-major B in place: packing it would cost as much as the
/// product), so that packing it ahead pays.
bool gemmPacksB(int64_t m, bool transB);

/// The floats a packed n x k op(B) takes on the ISA in use.
int64_t packedGemmBFloats(int64_t n, int64_t k);

/// The independent pieces of packing an n x k op(B) (one per panel and
/// block of k): threads may pack disjoint ranges of them at once.
int64_t packedGemmBPieces(int64_t n, int64_t k);

/// Packs pieces [first, last) of the n x k op(B) `b` into `panels` (of
/// packedGemmBFloats(n, k) floats).
void packGemmB(const GemmOperand &b, int64_t n, int64_t k, int64_t first,
               int64_t last, float *panels);

//===----------------------------------------------------------------------===//
// bf16 products with f32 accumulation
//===----------------------------------------------------------------------===//

/// The instruction sets the bf16 GEMM has microkernels for.
enum class Bf16GemmIsa {
  Generic,    ///< Plain C++: the same products and sums with f32 scalars.
  Avx512Bf16, ///< AVX512-BF16 (vdpbf16ps): 12 x 32 register tile.
  Amx,        ///< AMX-BF16 (tdpbf16ps): 32 x 32 blocks in four tiles; Linux
              ///< grants the tile state (arch_prctl) when first detected.
};

/// The best bf16 ISA this process may use, from CPUID; decided once.
Bf16GemmIsa detectedBf16GemmIsa();
/// The bf16 ISA in use: detectedBf16GemmIsa() unless setBf16GemmIsa
/// changed it.
Bf16GemmIsa bf16GemmIsa();
/// As setGemmIsa, for the bf16 GEMM.
bool setBf16GemmIsa(Bf16GemmIsa isa);
/// "amx", "avx512bf16" or "generic".
const char *bf16GemmIsaName(Bf16GemmIsa isa);

/// C = bf16(op(A)) * bf16(op(B)) + beta * C: as sgemmSingleThread, but every
/// element of op(A) and op(B) is first rounded to bf16 (f32ToBf16Bits in
/// support/DType.h: to nearest, ties to even), and
/// each sum runs over k in pairs (2q, 2q + 1), in blocks of kGemmKc terms,
/// with f32 accumulators:
///
///   acc = acc + a_{i,2q+1} b_{2q+1,j};  acc = acc + a_{i,2q} b_{2q,j}
///
/// (the order of vdpbf16ps; the products of bf16 values are exact in f32).
/// AVX512-BF16 and AMX flush denormal inputs and results to zero, and AMX
/// sums each run of 32 values of k in its own order, so the ISAs may
/// differ in the last bits; each is batch-invariant and deterministic like
/// the f32 GEMM.
void bf16GemmSingleThread(int64_t m, int64_t n, int64_t k, GemmOperand a,
                          GemmOperand b, float *c, int64_t ldc, float beta);

} // namespace uoe::rt

#endif // UOE_RUNTIME_CPUGEMM_H
