//===- CpuBlas.h - the CPU runtime's BLAS binding ---------------*- C++ -*-===//
//
// Compiled CPU code does not generate its own GEMMs: the pass
// `uoe-linalg-to-blas` turns f32 batch matmuls into calls of
// `uoe_sgemm_batched`, the runtime's GEMM entry point, which each device
// binds to its own GEMM: the cpu device to the one defined here on the
// runtime's own kernels (CpuGemm.h: microkernels chosen from the CPU's
// features, batch-invariant and deterministic), through
// cpuRuntimeSymbols(); the cuda device to cuBLAS (CudaRuntime.h). The
// symbol's name and argument list are an ABI between the compiler and the
// runtime: change both together.
//
// Threading: each call spreads its work over OpenMP's thread pool, the one
// compiled loops use, whose size setCpuThreads() sets for the whole process
// (default: one thread per core). Calls may come from several threads at
// once. The thread count never changes a result.
//
//===----------------------------------------------------------------------===//

#ifndef UOE_RUNTIME_CPUBLAS_H
#define UOE_RUNTIME_CPUBLAS_H

#include "runtime/ObjectLoader.h"
#include "support/Status.h"

#include <cstdint>
#include <string>

extern "C" {

/// For i in [0, batch): C_i = op(A_i) * op(B_i) + beta * C_i in f32, where
/// op(X) is X (trans = 0) or X transposed (trans = 1), op(A_i) is m x k,
/// op(B_i) is k x n and C_i is m x n. All matrices are row-major: `a`, `b`,
/// `c` are the addresses (as integers) of A_0, B_0, C_0; `lda`, `ldb`, `ldc`
/// are the distances in elements between consecutive rows *as stored* (so
/// lda >= k for a plain A, lda >= m for a transposed one, ldc >= n);
/// `strideA`, `strideB`, `strideC` are the distances in elements between
/// consecutive matrices of the batch. The leading dimension of a matrix
/// with one row may be anything.
///
/// beta == 0 ignores the old contents of C (which may be uninitialised,
/// even NaN); beta == 1 accumulates. k == 0 gives C = beta * C. C must not
/// overlap A or B, and the C_i must not overlap each other.
///
/// Arguments that break these rules (negative sizes, a too small leading
/// dimension, a transposition flag other than 0/1) are a compiler bug: the
/// call then leaves C unchanged and records the error for
/// takeCpuBlasError(), since it has no way to return one.
void uoe_sgemm_batched(int64_t batch, int64_t m, int64_t n, int64_t k,
                       int64_t a, int64_t lda, int64_t strideA, int64_t transA,
                       int64_t b, int64_t ldb, int64_t strideB, int64_t transB,
                       int64_t c, int64_t ldc, int64_t strideC, float beta);

/// uoe_sgemm_batched with bf16 products: every element of op(A_i) and
/// op(B_i) is rounded to bf16 and the sums accumulate in f32
/// (bf16GemmSingleThread in CpuGemm.h); C stays f32. What `--precision bf16`
/// compiles GEMMs to. The cpu device only.
void uoe_gemm_batched_bf16(int64_t batch, int64_t m, int64_t n, int64_t k,
                           int64_t a, int64_t lda, int64_t strideA,
                           int64_t transA, int64_t b, int64_t ldb,
                           int64_t strideB, int64_t transB, int64_t c,
                           int64_t ldc, int64_t strideC, float beta);

} // extern "C"

namespace uoe::rt {

/// The runtime functions compiled CPU code may call, by symbol name, for
/// ObjectLoader::load: {"uoe_sgemm_batched", ...} and the allocation
/// functions of runtime/CpuAllocator.h. The map lives as long as the
/// process.
const SymbolMap &cpuRuntimeSymbols();

/// A dlopen handle of the OpenMP runtime the compiled code's parallel loops
/// call (`__kmpc_*`, from the libomp this library links), opened
/// RTLD_LOCAL: loaders resolve those calls through it, so that neither
/// this library nor libomp has to be loaded with RTLD_GLOBAL (which would
/// let their symbols clash with other copies of LLVM or OpenMP in the
/// process, e.g. PyTorch's). Null if it cannot be found.
void *openMpLibraryHandle();

/// What a uoe_sgemm_batched call has to do once its arguments are
/// checked (planSgemmBatched).
struct SgemmPlan {
  enum Work {
    Nothing,  ///< batch, m or n is 0: C has no element.
    ScaleC,   ///< k is 0: C = beta * C (lda and ldb are not looked at).
    Multiply, ///< The product.
  };
  Work work = Nothing;
  /// The leading dimensions to pass on to a BLAS: those of the call, raised
  /// to max(1, columns) for a stored matrix of one row (BLAS insists on it;
  /// the call allows anything there). Set as far as `work` needs them.
  int64_t lda = 0, ldb = 0, ldc = 0;
};

/// Checks the arguments of a uoe_sgemm_batched call against the rules
/// stated there; every implementation of the symbol (this file's on
/// CpuGemm.h, the cuda device's on cuBLAS, runtime/CudaRuntime.h) shares
/// it, so that they accept and reject the same calls. InvalidArgument,
/// "uoe_sgemm_batched: <what>", naming the first bad argument and its
/// value.
StatusOr<SgemmPlan> planSgemmBatched(int64_t batch, int64_t m, int64_t n,
                                     int64_t k, int64_t lda, int64_t transA,
                                     int64_t ldb, int64_t transB, int64_t ldc);

/// Sets the number of threads each GEMM uses, process-wide; `threads` <= 0
/// restores the default, one per core. Not to be called while a GEMM runs.
void setCpuThreads(int threads);

/// The number of threads each GEMM uses.
int cpuThreads();

/// The first GEMM call rejected for bad arguments (see
/// uoe_sgemm_batched) since the last call of this function, as an error
/// naming the argument (of the code it was recorded with: Internal for the
/// compiler's bugs), and how many were rejected; OK if none. Resets the
/// record. Thread-safe.
Status takeCpuBlasError();

/// Records a rejected call of another runtime kernel (`why` names the
/// symbol and the argument) for takeCpuBlasError(). `code` is Internal for
/// what only a compiler bug causes, InvalidArgument for what a caller's
/// inputs cause (a decoding step's cache). Thread-safe.
void recordCpuKernelError(const std::string &why,
                          StatusCode code = StatusCode::Internal);

} // namespace uoe::rt

#endif // UOE_RUNTIME_CPUBLAS_H
