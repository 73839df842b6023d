//===- CudaRuntime.h - runtime functions of compiled CUDA code -*- C++ -*-===//
//
// Code compiled for the `cuda` device is a host object (x86-64 code that
// runs on the CPU, loaded like the cpu device's) that embeds PTX kernels and
// drives them through the calls of MLIR's GPU runtime ABI: the functions and
// signatures of mlir/lib/ExecutionEngine/CudaRuntimeWrappers.cpp (MLIR 22),
//
//   void *mgpuModuleLoad(void *data, size_t gpuBlobSize);  cubin or fatbin
//   void *mgpuModuleLoadJIT(void *data, int optLevel);     NUL-ended PTX
//   void mgpuModuleUnload(void *module);
//   void *mgpuModuleGetFunction(void *module, const char *name);
//   void *mgpuStreamCreate();
//   void mgpuStreamDestroy(void *stream);
//   void mgpuStreamSynchronize(void *stream);
//   void mgpuLaunchKernel(void *function, intptr_t gridX, intptr_t gridY,
//                         intptr_t gridZ, intptr_t blockX, intptr_t blockY,
//                         intptr_t blockZ, int32_t smem, void *stream,
//                         void **params, void **extra, size_t paramsCount);
//
// plus MLIR's generic allocation functions (_mlir_memref_to_llvm_alloc,
// _mlir_memref_to_llvm_aligned_alloc, _mlir_memref_to_llvm_free),
// `memrefCopy` and `uoe_sgemm_batched` (the ABI of runtime/CpuBlas.h).
// cudaRuntimeSymbols() binds every one of them, for ObjectLoader::load, to
// this file's implementations on the CUDA driver (runtime/CudaDriver.h) and
// cuBLAS; none is exported from the library under these names.
//
// - Memory: every buffer is CUDA managed memory (cuMemAllocManaged,
//   CU_MEM_ATTACH_GLOBAL), 256-byte aligned, from a cache of freed blocks
//   kept by size, as the CPU allocator does: a model makes the same
//   allocations on every run. The host reads and writes the buffers
//   directly (memrefCopy runs on the host, CudaProgram copies tensors in
//   and out with memcpy) while the GPU is idle, which it is between the
//   calls: every launch and every GEMM is waited for.
// - Streams: the host code creates a stream, launches, synchronises and
//   destroys the stream around every launch; mgpuStreamCreate returns the
//   context's one non-blocking stream, created once, and mgpuStreamDestroy
//   does nothing, so that this costs nothing.
// - GEMMs: uoe_sgemm_batched is cublasSgemmStridedBatched on the same
//   stream (cuBLAS is dlopen()ed at run time, libcublas.so.13 then
//   libcublas.so, never linked), in cuBLAS's default math mode (no TF32:
//   results agree with the CPU's to float rounding), then waited for.
//
// Errors: a C callback cannot return a Status. The first failure is
// recorded, with the driver call and the CUDA error (e.g. "cuLaunchKernel
// failed: CUDA_ERROR_LAUNCH_FAILED (...) launching kernel add_f32"), and
// later ones are counted, for takeCudaRuntimeError(); while a failure is
// recorded, launches and GEMMs are skipped (their results are garbage
// anyway). A callback that returns a pointer returns null after a failure.
//
// Threading: the callbacks reach their CudaContext through one process-wide
// "current" pointer, which a CudaContextScope sets (CudaProgram holds one
// while it loads, binds, runs and unloads). Scopes exclude each other
// process-wide, so one CudaProgram loads or runs at a time in a process
// and calls from other threads wait; this is enough for the runtime's
// users (one model per process on the cuda device).
//
//===----------------------------------------------------------------------===//

#ifndef UOE_RUNTIME_CUDARUNTIME_H
#define UOE_RUNTIME_CUDARUNTIME_H

#include "runtime/CudaDriver.h"
#include "runtime/ObjectLoader.h"
#include "support/Status.h"

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace uoe::rt {

/// One device's state for running compiled CUDA code: the device's primary
/// context (retained), the stream every launch and GEMM runs on, the
/// modules loaded into it, a cuBLAS handle (created on the first GEMM) and
/// the cache of managed memory. The runtime functions of cudaRuntimeSymbols()
/// use the context of the enclosing CudaContextScope.
///
/// Thread safety: the allocator may be used from any thread; everything else
/// from the thread holding the CudaContextScope.
class CudaContext {
public:
  /// Retains the primary context of device `ordinal` of `driver` (which
  /// must outlive the CudaContext) and creates the stream; the calling
  /// thread's current CUDA context is left as it was. Errors name the
  /// failing driver call.
  static StatusOr<std::unique_ptr<CudaContext>> create(const CudaDriver &driver,
                                                       int ordinal);

  /// Waits for the device, unloads the modules still loaded, frees every
  /// block of managed memory (live or cached), destroys the cuBLAS handle
  /// and the stream and releases the primary context; failures are
  /// ignored. Must not be inside a CudaContextScope of this context.
  ~CudaContext();

  CudaContext(const CudaContext &) = delete;
  CudaContext &operator=(const CudaContext &) = delete;

  const CudaDriver &driver() const { return driver_; }
  int ordinal() const { return ordinal_; }
  /// The one stream of the context (non-blocking).
  cuda::CUstream stream() const { return stream_; }

  /// Waits until the device has finished all work of the context
  /// (cuCtxSynchronize); the context must be current on the calling thread
  /// (inside a CudaContextScope).
  Status synchronize() const;

  /// `bytes` of managed memory (at least one byte's block), aligned to
  /// `alignment` (a power of two). Blocks are 256-byte aligned; a larger
  /// alignment gets a block of its own that is not cached. Reuses a cached
  /// block of the same rounded size. Never asks the driver for more than
  /// the device has free (cuMemGetInfo; more managed memory than that can
  /// hang the GPU instead of failing): when the block would not fit, empties
  /// the cache and looks again, then fails with Unavailable "out of GPU
  /// memory" naming the request and the free and total bytes. When the
  /// driver is out of memory all the same, empties the cache and tries once
  /// more. Errors name cuMemAllocManaged.
  StatusOr<void *> allocate(size_t bytes, size_t alignment = kAlignment);

  /// Puts a block of allocate() back into the cache; null is ignored.
  /// InvalidArgument for a pointer allocate() did not return (or already
  /// released), which is left alone.
  Status release(void *pointer);

  /// Frees every cached block (cuMemFree); live blocks stay.
  Status trimCache();

  /// The bytes held in the cache (released blocks kept for reuse).
  size_t cachedBytes() const;
  /// The number of blocks allocated and not released.
  size_t liveBlocks() const;

  /// The alignment of every block.
  static constexpr size_t kAlignment = 256;

private:
  friend struct CudaCallbacks;
  friend class CudaContextScope;

  CudaContext(const CudaDriver &driver, int ordinal)
      : driver_(driver), ordinal_(ordinal) {}

  /// A block of managed memory: where the driver's allocation starts and
  /// how many bytes it has.
  struct Block {
    cuda::CUdeviceptr base = 0;
    size_t bytes = 0;
    bool cached = false; ///< Goes back to the cache when released.
  };
  Status freeBlock(cuda::CUdeviceptr base);
  /// OK if the device has `blockBytes` free (after trimming the cache if
  /// needed), else Unavailable naming `requested`, the free and the total
  /// bytes.
  Status ensureFree(size_t blockBytes, size_t requested);

  const CudaDriver &driver_;
  int ordinal_;
  cuda::CUdevice device_ = 0;
  cuda::CUcontext context_ = nullptr;
  cuda::CUstream stream_ = nullptr;

  // The allocator (mutex_ guards these).
  mutable std::mutex mutex_;
  std::unordered_map<void *, Block> live_;
  std::unordered_map<size_t, std::vector<cuda::CUdeviceptr>> free_;
  size_t cachedBytes_ = 0;

  // Used under the CudaContextScope only.
  std::set<cuda::CUmodule> modules_;
  /// Functions by module and name, so that the lookup the host code makes
  /// before every launch is a map lookup.
  std::map<cuda::CUmodule, std::map<std::string, cuda::CUfunction, std::less<>>>
      functions_;
  /// The name of every function looked up, for error messages.
  std::unordered_map<cuda::CUfunction, std::string> functionNames_;
  /// The kernel launched last, for errors found when synchronising.
  std::string lastKernel_;
  /// The cuBLAS handle (a cublasHandle_t), created on the first GEMM.
  void *cublas_ = nullptr;
};

/// Makes `context` the one the runtime functions use, and its CUDA context
/// current on the calling thread, until the scope ends; then restores the
/// previous ones. Scopes of different threads exclude each other (a scope
/// waits for the other thread's to end); scopes nest on one thread.
class CudaContextScope {
public:
  explicit CudaContextScope(CudaContext &context);
  ~CudaContextScope();
  CudaContextScope(const CudaContextScope &) = delete;
  CudaContextScope &operator=(const CudaContextScope &) = delete;

  /// OK if the CUDA context could be made current (cuCtxSetCurrent);
  /// otherwise the runtime functions will fail with "no CUDA context".
  const Status &status() const { return status_; }

private:
  std::unique_lock<std::recursive_mutex> lock_;
  CudaContext &context_;
  CudaContext *previous_ = nullptr;
  cuda::CUcontext previousCuda_ = nullptr;
  bool restoreCuda_ = false;
  Status status_;
};

/// The runtime functions compiled CUDA code may call, by symbol name, for
/// ObjectLoader::load (see the file comment). Lives as long as the process.
const SymbolMap &cudaRuntimeSymbols();

/// The first failure of a runtime function since the last call of this
/// function, with its code and message and, if there were more, "(and N
/// more failure(s))"; OK if none. Resets the record, so that launches and
/// GEMMs run again. Thread-safe.
Status takeCudaRuntimeError();

/// cuBLAS's name for status `status` ("CUBLAS_STATUS_EXECUTION_FAILED"), or
/// "CUBLAS_STATUS_<n>" for a code the runtime does not know.
std::string cublasStatusName(int status);

} // namespace uoe::rt

#endif // UOE_RUNTIME_CUDARUNTIME_H
