//===- CpuBlas.cpp - the CPU runtime's BLAS binding -----------------------===//
//
// uoe_cpu_sgemm_batched on OpenBLAS's cblas_sgemm, one call per matrix of
// the batch. OpenBLAS already parallelises a GEMM that is large enough over
// its thread pool and runs small ones on the calling thread; see
// setCpuThreads for the pool size.
//
// CBLAS takes 32-bit sizes (Debian's OpenBLAS has no 64-bit interface); a
// GEMM whose sizes or leading dimensions do not fit is computed by a plain
// loop instead, so that the results stay right whatever the shapes.
//
//===----------------------------------------------------------------------===//

#include "runtime/CpuBlas.h"

#include "runtime/CpuAllocator.h"

#include <cblas.h>
#include <dlfcn.h>
#include <omp.h>

#include <algorithm>
#include <climits>
#include <mutex>
#include <string>

using namespace uoe::rt;

namespace {

/// The record behind takeCpuBlasError().
struct RejectedCalls {
  std::mutex mutex;
  int64_t count = 0;
  std::string first;
};

RejectedCalls &rejectedCalls() {
  static RejectedCalls *calls = new RejectedCalls();
  return *calls;
}

void reject(const std::string &why) {
  RejectedCalls &calls = rejectedCalls();
  std::lock_guard<std::mutex> lock(calls.mutex);
  if (calls.count++ == 0)
    calls.first = why;
}

bool fitsBlasInt(int64_t value) { return value <= INT_MAX; }

/// C = op(A) * op(B) + beta * C for one matrix, without BLAS (for sizes
/// CBLAS cannot take).
void referenceSgemm(int64_t m, int64_t n, int64_t k, const float *a,
                    int64_t lda, bool transA, const float *b, int64_t ldb,
                    bool transB, float *c, int64_t ldc, float beta) {
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      float sum = 0.0f;
      for (int64_t p = 0; p < k; ++p) {
        float x = transA ? a[p * lda + i] : a[i * lda + p];
        float y = transB ? b[j * ldb + p] : b[p * ldb + j];
        sum += x * y;
      }
      float &out = c[i * ldc + j];
      out = beta == 0.0f ? sum : sum + beta * out;
    }
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
    return invalidArgumentError(strCat("uoe_cpu_sgemm_batched: ", name, " = ",
                                       ld, " is less than the ", cols,
                                       " columns of the stored matrix"));
  return ld;
}

} // namespace

extern "C" void uoe_cpu_sgemm_batched(int64_t batch, int64_t m, int64_t n,
                                      int64_t k, int64_t a, int64_t lda,
                                      int64_t strideA, int64_t transA,
                                      int64_t b, int64_t ldb, int64_t strideB,
                                      int64_t transB, int64_t c, int64_t ldc,
                                      int64_t strideC, float beta) {
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
  bool blasSizes = fitsBlasInt(m) && fitsBlasInt(n) && fitsBlasInt(k) &&
                   fitsBlasInt(lda) && fitsBlasInt(ldb) && fitsBlasInt(ldc);
  // The batch, and the rows of each product when the batch is smaller than
  // the team, are shared out over the OpenMP threads; each piece is one
  // single-threaded OpenBLAS call (see setCpuThreads), so that GEMMs and
  // the compiled loops use one pool of threads.
  int threads = omp_get_max_threads();
  int64_t rowBlocks = batch >= threads ? 1 : (threads + batch - 1) / batch;
  rowBlocks = std::max<int64_t>(1, std::min(rowBlocks, m / 16));
  int64_t rowsPerBlock = (m + rowBlocks - 1) / rowBlocks;
  int64_t items = batch * rowBlocks;
  bool parallel = threads > 1 && items > 1 && batch * m * n * k >= (1 << 18);
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t item = 0; item < items; ++item) {
    int64_t i = item / rowBlocks, r0 = item % rowBlocks * rowsPerBlock;
    int64_t rows = std::min(rowsPerBlock, m - r0);
    if (rows <= 0)
      continue;
    // Rows r0.. of op(A): rows of A, or columns of A when it is transposed.
    const float *ai = aData + i * strideA + (transA ? r0 : r0 * lda);
    const float *bi = bData + i * strideB;
    float *ci = cData + i * strideC + r0 * ldc;
    if (!blasSizes) {
      referenceSgemm(rows, n, k, ai, lda, transA, bi, ldb, transB, ci, ldc,
                     beta);
      continue;
    }
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans,
                transB ? CblasTrans : CblasNoTrans, static_cast<int>(rows),
                static_cast<int>(n), static_cast<int>(k), 1.0f, ai,
                static_cast<int>(lda), bi, static_cast<int>(ldb), beta, ci,
                static_cast<int>(ldc));
  }
}

StatusOr<SgemmPlan> uoe::rt::planSgemmBatched(int64_t batch, int64_t m,
                                              int64_t n, int64_t k, int64_t lda,
                                              int64_t transA, int64_t ldb,
                                              int64_t transB, int64_t ldc) {
  if (batch < 0 || m < 0 || n < 0 || k < 0)
    return invalidArgumentError(
        strCat("uoe_cpu_sgemm_batched: negative size (batch ", batch, ", m ", m,
               ", n ", n, ", k ", k, ")"));
  if ((transA != 0 && transA != 1) || (transB != 0 && transB != 1))
    return invalidArgumentError(
        strCat("uoe_cpu_sgemm_batched: transposition flags must be 0 or 1, "
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
      {"uoe_cpu_sgemm_batched",
       reinterpret_cast<void *>(&uoe_cpu_sgemm_batched)},
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
  int n = threads > 0 ? threads : openblas_get_num_procs();
  // One pool: OpenMP's. Each OpenBLAS call runs on the thread that makes it.
  openblas_set_num_threads(1);
  omp_set_num_threads(n);
}

int uoe::rt::cpuThreads() { return omp_get_max_threads(); }

Status uoe::rt::takeCpuBlasError() {
  RejectedCalls &calls = rejectedCalls();
  std::lock_guard<std::mutex> lock(calls.mutex);
  if (calls.count == 0)
    return okStatus();
  Status status = internalError(
      strCat(calls.first, " (", calls.count, " call(s) rejected)"));
  calls.count = 0;
  calls.first.clear();
  return status;
}
