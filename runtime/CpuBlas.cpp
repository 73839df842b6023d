//===- CpuBlas.cpp - the CPU runtime's BLAS binding -----------------------===//
//
// uoe_sgemm_batched on the runtime's own GEMM (CpuGemm.h): the
// arguments are checked, then the matrices of the batch, cut into pieces
// where that balances the threads, are computed on OpenMP's thread pool,
// each piece by sgemmSingleThread on one thread. The cut never splits the
// reduction, so results do not depend on the thread count.
//
//===----------------------------------------------------------------------===//

#include "runtime/CpuBlas.h"

#include "runtime/CpuAllocator.h"
#include "runtime/CpuAttention.h"
#include "runtime/CpuExpertGemm.h"
#include "runtime/CpuGemm.h"
#include "runtime/CpuKvCache.h"
#include "runtime/CpuNorm.h"
#include "runtime/CpuRouting.h"

#include <dlfcn.h>
#include <omp.h>

#include <algorithm>
#include <climits>
#include <mutex>
#include <numeric>
#include <string>

using namespace uoe::rt;

namespace {

/// The record behind takeCpuBlasError().
struct RejectedCalls {
  std::mutex mutex;
  int64_t count = 0;
  std::string first;
  StatusCode code = StatusCode::Internal;
};

RejectedCalls &rejectedCalls() {
  static RejectedCalls *calls = new RejectedCalls();
  return *calls;
}

void reject(const std::string &why, StatusCode code = StatusCode::Internal) {
  RejectedCalls &calls = rejectedCalls();
  std::lock_guard<std::mutex> lock(calls.mutex);
  if (calls.count++ == 0) {
    calls.first = why;
    calls.code = code;
  }
}

/// C = beta * C for one m x n matrix (a GEMM with k == 0).
void scale(int64_t m, int64_t n, float *c, int64_t ldc, float beta) {
  for (int64_t i = 0; i < m; ++i) {
    float *row = c + i * ldc;
    if (beta == 0.0f)
      std::fill(row, row + n, 0.0f);
    else
      for (int64_t j = 0; j < n; ++j)
        row[j] *= beta;
  }
}

/// Checks the leading dimension `ld` of a stored `rows` x `cols` matrix
/// named `name`: the value to pass on (any ld is fine for a single row, but
/// BLAS wants at least max(1, cols)), or the error.
StatusOr<int64_t> leadingDimension(const char *name, int64_t ld, int64_t rows,
                                   int64_t cols) {
  int64_t least = std::max<int64_t>(1, cols);
  if (rows <= 1)
    return std::max(ld, least);
  if (ld < least)
    return invalidArgumentError(strCat("uoe_sgemm_batched: ", name, " = ", ld,
                                       " is less than the ", cols,
                                       " columns of the stored matrix"));
  return ld;
}

/// How a batched product is cut into pieces for the threads.
struct Split {
  int64_t pieces = 1;  ///< Pieces per matrix of the batch.
  bool byRows = true;  ///< Cut along m (else along n).
  int64_t step = 0;    ///< Rows or columns per piece.
};

/// Cuts each matrix into as many pieces as make the batch's pieces a
/// multiple of the thread count (so static scheduling balances them), along
/// whichever of m and n leaves pieces of at least 32 rows or 64 columns.
/// Pieces only change which thread computes an element, never how
/// (CpuGemm.h).
Split splitFor(int64_t batch, int64_t m, int64_t n, int threads) {
  Split split;
  int64_t want = threads / std::gcd<int64_t>(batch, threads);
  if (want > 1) {
    if (m >= 32 * want) {
      split.pieces = want;
    } else if (n >= 64 * want) {
      split.pieces = want;
      split.byRows = false;
    } else if (m >= 64) {
      split.pieces = std::max<int64_t>(1, m / 32);
      split.pieces = std::min(split.pieces, want);
    }
  }
  int64_t extent = split.byRows ? m : n;
  split.step = (extent + split.pieces - 1) / split.pieces;
  // Whole register tiles per piece (12 rows, 32 columns for AVX-512).
  int64_t tile = split.byRows ? 12 : 32;
  split.step = (split.step + tile - 1) / tile * tile;
  split.pieces = (extent + split.step - 1) / split.step;
  return split;
}

} // namespace

namespace {

/// One product of a batched GEMM on the calling thread.
using SingleThreadGemm = void (*)(int64_t m, int64_t n, int64_t k,
                                  GemmOperand a, GemmOperand b, float *c,
                                  int64_t ldc, float beta);

/// uoe_sgemm_batched and uoe_gemm_batched_bf16: the checks, the split over
/// threads, and `gemm` for each piece.
void gemmBatched(SingleThreadGemm gemm, int64_t batch, int64_t m, int64_t n,
                 int64_t k, int64_t a, int64_t lda, int64_t strideA,
                 int64_t transA, int64_t b, int64_t ldb, int64_t strideB,
                 int64_t transB, int64_t c, int64_t ldc, int64_t strideC,
                 float beta) {
  StatusOr<SgemmPlan> plan =
      planSgemmBatched(batch, m, n, k, lda, transA, ldb, transB, ldc);
  if (!plan.ok()) {
    reject(plan.status().message());
    return;
  }
  if (plan->work == SgemmPlan::Nothing)
    return;
  ldc = plan->ldc;
  auto *cData = reinterpret_cast<float *>(static_cast<intptr_t>(c));
  if (plan->work == SgemmPlan::ScaleC) {
    for (int64_t i = 0; i < batch; ++i)
      scale(m, n, cData + i * strideC, ldc, beta);
    return;
  }
  lda = plan->lda;
  ldb = plan->ldb;

  auto *aData = reinterpret_cast<const float *>(static_cast<intptr_t>(a));
  auto *bData = reinterpret_cast<const float *>(static_cast<intptr_t>(b));
  // The batch, and pieces of each product when the batch alone does not
  // share evenly, are spread over the OpenMP threads (the pool compiled
  // loops use too); each piece runs on one thread.
  int threads = omp_get_max_threads();
  bool parallel = threads > 1 && batch * m * n * k >= (1 << 18);
  Split split = splitFor(batch, m, n, parallel ? threads : 1);
  int64_t items = batch * split.pieces;
#pragma omp parallel for schedule(static) if (parallel && items > 1)
  for (int64_t item = 0; item < items; ++item) {
    int64_t i = item / split.pieces, first = item % split.pieces * split.step;
    int64_t extent = split.byRows ? m : n;
    int64_t count = std::min(split.step, extent - first);
    GemmOperand opA{aData + i * strideA, lda, transA != 0};
    GemmOperand opB{bData + i * strideB, ldb, transB != 0};
    float *ci = cData + i * strideC;
    if (split.byRows) {
      // Rows first.. of op(A): rows of A, or columns when transposed.
      opA.data += transA ? first : first * lda;
      gemm(count, n, k, opA, opB, ci + first * ldc, ldc, beta);
    } else {
      // Columns first.. of op(B): columns of B, or rows when transposed.
      opB.data += transB ? first * ldb : first;
      gemm(m, count, k, opA, opB, ci + first, ldc, beta);
    }
  }
}

} // namespace

extern "C" void uoe_sgemm_batched(int64_t batch, int64_t m, int64_t n,
                                  int64_t k, int64_t a, int64_t lda,
                                  int64_t strideA, int64_t transA, int64_t b,
                                  int64_t ldb, int64_t strideB, int64_t transB,
                                  int64_t c, int64_t ldc, int64_t strideC,
                                  float beta) {
  gemmBatched(sgemmSingleThread, batch, m, n, k, a, lda, strideA, transA, b,
              ldb, strideB, transB, c, ldc, strideC, beta);
}

extern "C" void uoe_gemm_batched_bf16(int64_t batch, int64_t m, int64_t n,
                                      int64_t k, int64_t a, int64_t lda,
                                      int64_t strideA, int64_t transA,
                                      int64_t b, int64_t ldb, int64_t strideB,
                                      int64_t transB, int64_t c, int64_t ldc,
                                      int64_t strideC, float beta) {
  gemmBatched(bf16GemmSingleThread, batch, m, n, k, a, lda, strideA, transA,
              b, ldb, strideB, transB, c, ldc, strideC, beta);
}

StatusOr<SgemmPlan> uoe::rt::planSgemmBatched(int64_t batch, int64_t m,
                                              int64_t n, int64_t k, int64_t lda,
                                              int64_t transA, int64_t ldb,
                                              int64_t transB, int64_t ldc) {
  if (batch < 0 || m < 0 || n < 0 || k < 0)
    return invalidArgumentError(
        strCat("uoe_sgemm_batched: negative size (batch ", batch, ", m ", m,
               ", n ", n, ", k ", k, ")"));
  if ((transA != 0 && transA != 1) || (transB != 0 && transB != 1))
    return invalidArgumentError(
        strCat("uoe_sgemm_batched: transposition flags must be 0 or 1, "
               "got transA ",
               transA, ", transB ", transB));
  SgemmPlan plan;
  if (batch == 0 || m == 0 || n == 0)
    return plan;
  UOE_ASSIGN_OR_RETURN(plan.ldc, leadingDimension("ldc", ldc, m, n));
  if (k == 0) {
    plan.work = SgemmPlan::ScaleC;
    return plan;
  }
  UOE_ASSIGN_OR_RETURN(
      plan.lda, leadingDimension("lda", lda, transA ? k : m, transA ? m : k));
  UOE_ASSIGN_OR_RETURN(
      plan.ldb, leadingDimension("ldb", ldb, transB ? n : k, transB ? k : n));
  plan.work = SgemmPlan::Multiply;
  return plan;
}

const SymbolMap &uoe::rt::cpuRuntimeSymbols() {
  static const SymbolMap *symbols = new SymbolMap{
      {"uoe_sgemm_batched", reinterpret_cast<void *>(&uoe_sgemm_batched)},
      {"uoe_gemm_batched_bf16",
       reinterpret_cast<void *>(&uoe_gemm_batched_bf16)},
      {"uoe_expert_gemm", reinterpret_cast<void *>(&uoe_expert_gemm)},
      {"uoe_norm", reinterpret_cast<void *>(&uoe_norm)},
      {"uoe_norm_grad", reinterpret_cast<void *>(&uoe_norm_grad)},
      {"uoe_select_patches", reinterpret_cast<void *>(&uoe_select_patches)},
      {"uoe_router_logits", reinterpret_cast<void *>(&uoe_router_logits)},
      {"uoe_selective_attention",
       reinterpret_cast<void *>(&uoe_selective_attention)},
      {"uoe_selective_attention_grad",
       reinterpret_cast<void *>(&uoe_selective_attention_grad)},
      {"uoe_kv_attend", reinterpret_cast<void *>(&uoe_kv_attend)},
      {"_mlir_memref_to_llvm_alloc",
       reinterpret_cast<void *>(&_mlir_memref_to_llvm_alloc)},
      {"_mlir_memref_to_llvm_aligned_alloc",
       reinterpret_cast<void *>(&_mlir_memref_to_llvm_aligned_alloc)},
      {"_mlir_memref_to_llvm_free",
       reinterpret_cast<void *>(&_mlir_memref_to_llvm_free)},
      {"memrefCopy", reinterpret_cast<void *>(&memrefCopy)},
  };
  return *symbols;
}

void *uoe::rt::openMpLibraryHandle() {
  static void *handle = [] {
    Dl_info info;
    if (!dladdr(reinterpret_cast<void *>(&omp_get_max_threads), &info) ||
        !info.dli_fname)
      return static_cast<void *>(nullptr);
    // Already loaded (this library links it): take a reference, locally.
    void *h = dlopen(info.dli_fname, RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD);
    return h ? h : dlopen(info.dli_fname, RTLD_NOW | RTLD_LOCAL);
  }();
  return handle;
}

void uoe::rt::setCpuThreads(int threads) {
  omp_set_num_threads(threads > 0 ? threads : omp_get_num_procs());
}

int uoe::rt::cpuThreads() { return omp_get_max_threads(); }

void uoe::rt::recordCpuKernelError(const std::string &why, StatusCode code) {
  reject(why, code);
}

Status uoe::rt::takeCpuBlasError() {
  RejectedCalls &calls = rejectedCalls();
  std::lock_guard<std::mutex> lock(calls.mutex);
  if (calls.count == 0)
    return okStatus();
  Status status = Status(
      calls.code, strCat(calls.first, " (", calls.count, " call(s) rejected)"));
  calls.count = 0;
  calls.first.clear();
  return status;
}
