//===- CudaRuntime.cpp - the runtime functions of compiled CUDA code -----===//
//
// The callbacks of cudaRuntimeSymbols() on the CUDA driver and cuBLAS, the
// CudaContext they work in (primary context, stream, modules, managed
// memory cache, cuBLAS handle) and the failure record they report to.
//
// Row-major GEMMs on a column-major BLAS: a row-major m x n matrix C with
// leading dimension ldc is, read column-major, the n x m matrix C^T with the
// same leading dimension. So C = op(A) op(B) is computed as
// C^T = op(B)^T op(A)^T: cuBLAS gets B in the place of A (with B's flag),
// A in the place of B (with A's flag), and m and n swapped. The stored
// matrices and their leading dimensions are passed unchanged.
//
//===----------------------------------------------------------------------===//

#include "runtime/CudaRuntime.h"

#include "runtime/CpuAllocator.h"
#include "runtime/CpuBlas.h"

#include <dlfcn.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstdint>
#include <cstring>

using namespace uoe::rt;
using namespace uoe::rt::cuda;

namespace {

//===----------------------------------------------------------------------===//
// The failure record
//===----------------------------------------------------------------------===//

struct FailureRecord {
  std::mutex mutex;
  /// Read without the lock by hasFailed(), on every launch.
  std::atomic<int64_t> count{0};
  Status first;
};

FailureRecord &failureRecord() {
  // Leaked on purpose: compiled code may run during static destruction.
  static FailureRecord *record = new FailureRecord();
  return *record;
}

void recordFailure(Status status) {
  FailureRecord &record = failureRecord();
  std::lock_guard<std::mutex> lock(record.mutex);
  if (record.count.fetch_add(1) == 0)
    record.first = std::move(status);
}

bool hasFailed() {
  return failureRecord().count.load(std::memory_order_relaxed) > 0;
}

/// `status` with " <what>" appended to its message.
Status describing(const Status &status, std::string_view what) {
  if (status.ok() || what.empty())
    return status;
  return Status(status.code(), strCat(status.message(), " ", what));
}

//===----------------------------------------------------------------------===//
// The current context
//===----------------------------------------------------------------------===//

std::recursive_mutex &scopeMutex() {
  static std::recursive_mutex *mutex = new std::recursive_mutex();
  return *mutex;
}

std::atomic<CudaContext *> currentContext{nullptr};

//===----------------------------------------------------------------------===//
// cuBLAS, loaded at run time
//===----------------------------------------------------------------------===//

/// cublasStatus_t values (cublas_api.h, CUDA 13).
enum : int {
  CUBLAS_STATUS_SUCCESS = 0,
  CUBLAS_STATUS_NOT_INITIALIZED = 1,
  CUBLAS_STATUS_ALLOC_FAILED = 3,
  CUBLAS_STATUS_INVALID_VALUE = 7,
  CUBLAS_STATUS_ARCH_MISMATCH = 8,
  CUBLAS_STATUS_MAPPING_ERROR = 11,
  CUBLAS_STATUS_EXECUTION_FAILED = 13,
  CUBLAS_STATUS_INTERNAL_ERROR = 14,
  CUBLAS_STATUS_NOT_SUPPORTED = 15,
  CUBLAS_STATUS_LICENSE_ERROR = 16,
};

/// cublasOperation_t values.
enum : int { CUBLAS_OP_N = 0, CUBLAS_OP_T = 1 };

/// The cuBLAS entry points the runtime calls (cublas_api.h's signatures;
/// handles are `cublasHandle_t`, statuses `cublasStatus_t`, operations
/// `cublasOperation_t`, all pointer- or int-sized).
struct CublasApi {
  /// cublasCreate_v2
  int (*create)(void **handle);
  /// cublasDestroy_v2
  int (*destroy)(void *handle);
  /// cublasSetStream_v2
  int (*setStream)(void *handle, CUstream stream);
  /// cublasSgemmStridedBatched
  int (*sgemmStridedBatched)(void *handle, int transa, int transb, int m, int n,
                             int k, const float *alpha, const float *a, int lda,
                             long long strideA, const float *b, int ldb,
                             long long strideB, const float *beta, float *c,
                             int ldc, long long strideC, int batchCount);
};

/// cuBLAS from libcublas.so.13, else libcublas.so, loaded once per process
/// (and never unloaded, like the driver).
StatusOr<const CublasApi *> loadCublas() {
  static const StatusOr<const CublasApi *> *loaded = [] {
    std::string reasons;
    for (const char *name : {"libcublas.so.13", "libcublas.so"}) {
      void *handle = dlopen(name, RTLD_NOW | RTLD_LOCAL);
      if (!handle) {
        const char *reason = dlerror();
        reasons += strCat(reasons.empty() ? "" : "; ", reason ? reason : name);
        continue;
      }
      auto *api = new CublasApi();
      api->create = reinterpret_cast<decltype(api->create)>(
          dlsym(handle, "cublasCreate_v2"));
      api->destroy = reinterpret_cast<decltype(api->destroy)>(
          dlsym(handle, "cublasDestroy_v2"));
      api->setStream = reinterpret_cast<decltype(api->setStream)>(
          dlsym(handle, "cublasSetStream_v2"));
      api->sgemmStridedBatched =
          reinterpret_cast<decltype(api->sgemmStridedBatched)>(
              dlsym(handle, "cublasSgemmStridedBatched"));
      if (api->create && api->destroy && api->setStream &&
          api->sgemmStridedBatched)
        return new StatusOr<const CublasApi *>(api);
      delete api;
      reasons +=
          strCat(reasons.empty() ? "" : "; ", name, " lacks the cuBLAS v2 API");
      dlclose(handle);
    }
    return new StatusOr<const CublasApi *>(
        unavailableError(strCat("cuBLAS could not be loaded (", reasons, ")")));
  }();
  return *loaded;
}

/// The error of cuBLAS call `call` returning `status`.
Status cublasError(std::string_view call, int status) {
  return internalError(strCat(call, " failed: ", cublasStatusName(status)));
}

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

size_t roundUp(size_t value, size_t multiple) {
  return (value + multiple - 1) / multiple * multiple;
}

bool fitsInt(int64_t value) { return value >= 0 && value <= INT_MAX; }

bool fitsUnsigned(intptr_t value) {
  return value >= 0 && static_cast<uint64_t>(value) <= UINT_MAX;
}

/// C = beta * C for `batch` m x n row-major matrices, on the host (the GEMMs
/// with k == 0; managed memory, and the GPU is idle).
void scaleOnHost(int64_t batch, int64_t m, int64_t n, float *c, int64_t ldc,
                 int64_t strideC, float beta) {
  for (int64_t i = 0; i < batch; ++i)
    for (int64_t r = 0; r < m; ++r) {
      float *row = c + i * strideC + r * ldc;
      if (beta == 0.0f)
        std::fill(row, row + n, 0.0f);
      else
        for (int64_t j = 0; j < n; ++j)
          row[j] *= beta;
    }
}

} // namespace

//===----------------------------------------------------------------------===//
// CudaContext
//===----------------------------------------------------------------------===//

StatusOr<std::unique_ptr<CudaContext>>
CudaContext::create(const CudaDriver &driver, int ordinal) {
  const CudaDriverApi &api = driver.api();
  std::unique_ptr<CudaContext> context(new CudaContext(driver, ordinal));
  UOE_RETURN_IF_ERROR(
      driver.check("cuDeviceGet", api.deviceGet(&context->device_, ordinal)));
  UOE_RETURN_IF_ERROR(driver.check(
      "cuDevicePrimaryCtxRetain",
      api.devicePrimaryCtxRetain(&context->context_, context->device_)));
  CUcontext previous = nullptr;
  UOE_RETURN_IF_ERROR(
      driver.check("cuCtxGetCurrent", api.ctxGetCurrent(&previous)));
  UOE_RETURN_IF_ERROR(
      driver.check("cuCtxSetCurrent", api.ctxSetCurrent(context->context_)));
  Status stream =
      driver.check("cuStreamCreate",
                   api.streamCreate(&context->stream_, CU_STREAM_NON_BLOCKING));
  (void)api.ctxSetCurrent(previous);
  UOE_RETURN_IF_ERROR(stream);
  return context;
}

CudaContext::~CudaContext() {
  const CudaDriverApi &api = driver_.api();
  if (!context_)
    return;
  CUcontext previous = nullptr;
  if (api.ctxGetCurrent(&previous) != CUDA_SUCCESS)
    previous = nullptr;
  if (api.ctxSetCurrent(context_) == CUDA_SUCCESS) {
    (void)api.ctxSynchronize();
    if (cublas_) {
      auto cublas = loadCublas();
      if (cublas.ok())
        (void)(*cublas)->destroy(cublas_);
    }
    for (CUmodule module : modules_)
      (void)api.moduleUnload(module);
    for (const auto &[pointer, block] : live_)
      (void)api.memFree(block.base);
    for (const auto &[bytes, blocks] : free_)
      for (CUdeviceptr base : blocks)
        (void)api.memFree(base);
    if (stream_)
      (void)api.streamDestroy(stream_);
    // The primary context may go away with the release below: leave no
    // thread with a dangling current context.
    (void)api.ctxSetCurrent(previous == context_ ? nullptr : previous);
  }
  (void)api.devicePrimaryCtxRelease(device_);
}

Status CudaContext::synchronize() const {
  return driver_.check("cuCtxSynchronize", driver_.api().ctxSynchronize());
}

StatusOr<void *> CudaContext::allocate(size_t bytes, size_t alignment) {
  if (alignment == 0 || (alignment & (alignment - 1)) != 0)
    return invalidArgumentError(strCat("managed memory alignment ", alignment,
                                       " is not a power of two"));
  bool cached = alignment <= kAlignment;
  size_t size = std::max<size_t>(bytes, 1);
  // A larger alignment: a block of its own with room to align inside it.
  size_t blockBytes = cached ? roundUp(size, kAlignment) : size + alignment;
  if (blockBytes < size)
    return outOfRangeError(strCat("cannot allocate ", bytes, " bytes"));
  if (cached) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = free_.find(blockBytes);
    if (it != free_.end() && !it->second.empty()) {
      CUdeviceptr base = it->second.back();
      it->second.pop_back();
      cachedBytes_ -= blockBytes;
      void *pointer = reinterpret_cast<void *>(static_cast<uintptr_t>(base));
      live_[pointer] = {base, blockBytes, true};
      return pointer;
    }
  }
  const CudaDriverApi &api = driver_.api();
  // Allocations made on a thread the scope did not make current (e.g. a
  // worker of the host code) still go to this context.
  CUcontext current = nullptr;
  if (api.ctxGetCurrent(&current) == CUDA_SUCCESS && current != context_)
    UOE_RETURN_IF_ERROR(
        driver_.check("cuCtxSetCurrent", api.ctxSetCurrent(context_)));
  // Never ask for more managed memory than the device has free: the
  // driver may grant it and then oversubscribe the device, which can hang
  // the GPU rather than fail. The cache may hold what this needs, in blocks
  // of other sizes: give it back first.
  UOE_RETURN_IF_ERROR(ensureFree(blockBytes, bytes));
  CUdeviceptr base = 0;
  CUresult result =
      api.memAllocManaged(&base, blockBytes, CU_MEM_ATTACH_GLOBAL);
  if (result == CUDA_ERROR_OUT_OF_MEMORY) {
    (void)trimCache();
    result = api.memAllocManaged(&base, blockBytes, CU_MEM_ATTACH_GLOBAL);
  }
  if (result != CUDA_SUCCESS)
    return describing(driver_.check("cuMemAllocManaged", result),
                      strCat("allocating ", bytes, " bytes"));
  auto address = static_cast<uintptr_t>(base);
  if (!cached)
    address = roundUp(address, alignment);
  void *pointer = reinterpret_cast<void *>(address);
  std::lock_guard<std::mutex> lock(mutex_);
  live_[pointer] = {base, blockBytes, cached};
  return pointer;
}

Status CudaContext::ensureFree(size_t blockBytes, size_t requested) {
  const CudaDriverApi &api = driver_.api();
  size_t freeBytes = 0, totalBytes = 0;
  UOE_RETURN_IF_ERROR(driver_.check("cuMemGetInfo",
                                    api.memGetInfo(&freeBytes, &totalBytes)));
  if (blockBytes <= freeBytes)
    return okStatus();
  (void)trimCache();
  UOE_RETURN_IF_ERROR(driver_.check("cuMemGetInfo",
                                    api.memGetInfo(&freeBytes, &totalBytes)));
  if (blockBytes <= freeBytes)
    return okStatus();
  return unavailableError(strCat(
      "out of GPU memory: allocating ", requested, " bytes, but cuda:",
      ordinal_, " has ", freeBytes, " of ", totalBytes,
      " bytes free (smaller batches or sequences need less)"));
}

Status CudaContext::freeBlock(CUdeviceptr base) {
  return driver_.check("cuMemFree", driver_.api().memFree(base));
}

Status CudaContext::release(void *pointer) {
  if (!pointer)
    return okStatus();
  Block block;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = live_.find(pointer);
    if (it == live_.end())
      return invalidArgumentError(
          strCat("cannot release ", pointer,
                 ": not a live block of the cuda device's allocator (released "
                 "twice, or never allocated there)"));
    block = it->second;
    live_.erase(it);
    if (block.cached) {
      free_[block.bytes].push_back(block.base);
      cachedBytes_ += block.bytes;
      return okStatus();
    }
  }
  return freeBlock(block.base);
}

Status CudaContext::trimCache() {
  std::unordered_map<size_t, std::vector<CUdeviceptr>> blocks;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    blocks.swap(free_);
    cachedBytes_ = 0;
  }
  Status first = okStatus();
  for (const auto &[bytes, bases] : blocks)
    for (CUdeviceptr base : bases) {
      Status status = freeBlock(base);
      if (first.ok())
        first = status;
    }
  return first;
}

size_t CudaContext::cachedBytes() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return cachedBytes_;
}

size_t CudaContext::liveBlocks() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return live_.size();
}

//===----------------------------------------------------------------------===//
// CudaContextScope
//===----------------------------------------------------------------------===//

CudaContextScope::CudaContextScope(CudaContext &context)
    : lock_(scopeMutex()), context_(context) {
  previous_ = currentContext.exchange(&context);
  const CudaDriver &driver = context.driver();
  status_ = driver.check("cuCtxGetCurrent",
                         driver.api().ctxGetCurrent(&previousCuda_));
  if (status_.ok())
    status_ = driver.check("cuCtxSetCurrent",
                           driver.api().ctxSetCurrent(context.context_));
  restoreCuda_ = status_.ok();
  if (!status_.ok())
    currentContext.store(previous_);
}

CudaContextScope::~CudaContextScope() {
  if (!restoreCuda_)
    return;
  (void)context_.driver().api().ctxSetCurrent(previousCuda_);
  currentContext.store(previous_);
}

//===----------------------------------------------------------------------===//
// The callbacks
//===----------------------------------------------------------------------===//

namespace uoe::rt {

/// The functions of cudaRuntimeSymbols(); a friend of CudaContext.
struct CudaCallbacks {
  /// The current context, or null after recording that there is none.
  static CudaContext *current(const char *function) {
    CudaContext *context = currentContext.load(std::memory_order_acquire);
    if (!context)
      recordFailure(failedPreconditionError(
          strCat(function, " called with no CUDA context current (compiled "
                           "CUDA code runs inside a CudaProgram)")));
    return context;
  }

  /// True if driver call `call` gave `result` CUDA_SUCCESS; otherwise
  /// records its error with " <what>" appended.
  static bool check(const CudaContext &context, std::string_view call,
                    CUresult result, std::string_view what = {}) {
    if (result == CUDA_SUCCESS)
      return true;
    recordFailure(describing(context.driver().check(call, result), what));
    return false;
  }

  static std::string kernelName(const CudaContext &context, void *function) {
    auto it = context.functionNames_.find(static_cast<CUfunction>(function));
    return it == context.functionNames_.end() ? strCat("at ", function)
                                              : it->second;
  }

  static void *moduleLoad(void *data, size_t gpuBlobSize) {
    CudaContext *context = current("mgpuModuleLoad");
    if (!context)
      return nullptr;
    CUmodule module = nullptr;
    if (!check(*context, "cuModuleLoadData",
               context->driver().api().moduleLoadData(&module, data),
               strCat("loading a GPU binary of ", gpuBlobSize, " bytes")))
      return nullptr;
    context->modules_.insert(module);
    return module;
  }

  static void *moduleLoadJit(void *data, int optLevel) {
    CudaContext *context = current("mgpuModuleLoadJIT");
    if (!context)
      return nullptr;
    // The JIT's error log goes into `log`; the driver writes the length it
    // used back into the size option.
    std::vector<char> log(16384, '\0');
    CUjit_option options[] = {CU_JIT_ERROR_LOG_BUFFER,
                              CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES,
                              CU_JIT_OPTIMIZATION_LEVEL};
    void *values[] = {
        log.data(),
        reinterpret_cast<void *>(static_cast<uintptr_t>(log.size() - 1)),
        reinterpret_cast<void *>(static_cast<intptr_t>(optLevel))};
    CUmodule module = nullptr;
    CUresult result = context->driver().api().moduleLoadDataEx(&module, data, 3,
                                                               options, values);
    if (result != CUDA_SUCCESS) {
      std::string text(log.data());
      while (!text.empty() && (text.back() == '\n' || text.back() == '\r'))
        text.pop_back();
      check(*context, "cuModuleLoadDataEx", result,
            text.empty() ? std::string("JIT-compiling PTX")
                         : strCat("JIT-compiling PTX: ", text));
      return nullptr;
    }
    context->modules_.insert(module);
    return module;
  }

  static void moduleUnload(void *module) {
    if (!module)
      return;
    CudaContext *context = current("mgpuModuleUnload");
    if (!context)
      return;
    auto cuModule = static_cast<CUmodule>(module);
    auto functions = context->functions_.find(cuModule);
    if (functions != context->functions_.end()) {
      for (const auto &[name, function] : functions->second)
        context->functionNames_.erase(function);
      context->functions_.erase(functions);
    }
    context->modules_.erase(cuModule);
    check(*context, "cuModuleUnload",
          context->driver().api().moduleUnload(cuModule));
  }

  static void *moduleGetFunction(void *module, const char *name) {
    CudaContext *context = current("mgpuModuleGetFunction");
    if (!context)
      return nullptr;
    if (!module) {
      recordFailure(failedPreconditionError(
          strCat("mgpuModuleGetFunction: no module to look up kernel ", name,
                 " in (its load failed)")));
      return nullptr;
    }
    auto cuModule = static_cast<CUmodule>(module);
    auto &byName = context->functions_[cuModule];
    if (auto it = byName.find(std::string_view(name)); it != byName.end())
      return it->second;
    CUfunction function = nullptr;
    if (!check(*context, "cuModuleGetFunction",
               context->driver().api().moduleGetFunction(&function, cuModule,
                                                         name),
               strCat("looking up kernel ", name)))
      return nullptr;
    byName.emplace(name, function);
    context->functionNames_[function] = name;
    return function;
  }

  static void *streamCreate() {
    CudaContext *context = current("mgpuStreamCreate");
    return context ? context->stream_ : nullptr;
  }

  static void streamDestroy(void *) {
    // The stream is the context's; it goes with the context.
  }

  static void streamSynchronize(void *stream) {
    CudaContext *context = current("mgpuStreamSynchronize");
    if (!context)
      return;
    check(*context, "cuStreamSynchronize",
          context->driver().api().streamSynchronize(
              static_cast<CUstream>(stream)),
          context->lastKernel_.empty()
              ? std::string()
              : strCat("after kernel ", context->lastKernel_));
  }

  static void launchKernel(void *function, intptr_t gridX, intptr_t gridY,
                           intptr_t gridZ, intptr_t blockX, intptr_t blockY,
                           intptr_t blockZ, int32_t smem, void *stream,
                           void **params, void **extra, size_t paramsCount) {
    CudaContext *context = current("mgpuLaunchKernel");
    if (!context || hasFailed())
      return;
    std::string name = kernelName(*context, function);
    if (!function) {
      recordFailure(failedPreconditionError(
          "mgpuLaunchKernel: no kernel to launch (its lookup failed)"));
      return;
    }
    if (!fitsUnsigned(gridX) || !fitsUnsigned(gridY) || !fitsUnsigned(gridZ) ||
        !fitsUnsigned(blockX) || !fitsUnsigned(blockY) ||
        !fitsUnsigned(blockZ) || smem < 0) {
      recordFailure(invalidArgumentError(strCat(
          "mgpuLaunchKernel: grid (", gridX, ", ", gridY, ", ", gridZ,
          "), block (", blockX, ", ", blockY, ", ", blockZ,
          ") or shared memory ", smem, " out of range for kernel ", name)));
      return;
    }
    context->lastKernel_ = name;
    check(*context, "cuLaunchKernel",
          context->driver().api().launchKernel(
              static_cast<CUfunction>(function), static_cast<unsigned>(gridX),
              static_cast<unsigned>(gridY), static_cast<unsigned>(gridZ),
              static_cast<unsigned>(blockX), static_cast<unsigned>(blockY),
              static_cast<unsigned>(blockZ), static_cast<unsigned>(smem),
              static_cast<CUstream>(stream), params, extra),
          strCat("launching kernel ", name));
  }

  static void *alignedAlloc(size_t alignment, size_t size) {
    CudaContext *context = current("_mlir_memref_to_llvm_alloc");
    if (!context)
      return nullptr;
    auto pointer =
        context->allocate(size, std::max(alignment, CudaContext::kAlignment));
    if (!pointer.ok()) {
      recordFailure(pointer.status());
      return nullptr;
    }
    return *pointer;
  }

  static void *alloc(size_t size) {
    return alignedAlloc(CudaContext::kAlignment, size);
  }

  static void free(void *pointer) {
    if (!pointer)
      return;
    CudaContext *context = current("_mlir_memref_to_llvm_free");
    if (!context)
      return;
    Status status = context->release(pointer);
    if (!status.ok())
      recordFailure(status.withContext("_mlir_memref_to_llvm_free"));
  }

  /// The cuBLAS handle of `context`, created on the first call; null after
  /// recording why there is none.
  static void *cublasHandle(CudaContext &context, const CublasApi *&api) {
    auto cublas = loadCublas();
    if (!cublas.ok()) {
      recordFailure(cublas.status().withContext("uoe_sgemm_batched"));
      return nullptr;
    }
    api = *cublas;
    if (context.cublas_)
      return context.cublas_;
    void *handle = nullptr;
    if (int status = api->create(&handle); status != CUBLAS_STATUS_SUCCESS) {
      recordFailure(cublasError("cublasCreate_v2", status));
      return nullptr;
    }
    if (int status = api->setStream(handle, context.stream_);
        status != CUBLAS_STATUS_SUCCESS) {
      (void)api->destroy(handle);
      recordFailure(cublasError("cublasSetStream_v2", status));
      return nullptr;
    }
    context.cublas_ = handle;
    return handle;
  }

  static void sgemmBatched(int64_t batch, int64_t m, int64_t n, int64_t k,
                           int64_t a, int64_t lda, int64_t strideA,
                           int64_t transA, int64_t b, int64_t ldb,
                           int64_t strideB, int64_t transB, int64_t c,
                           int64_t ldc, int64_t strideC, float beta) {
    if (hasFailed())
      return;
    // The arguments first: they are the compiler's, whatever the context.
    StatusOr<SgemmPlan> plan =
        planSgemmBatched(batch, m, n, k, lda, transA, ldb, transB, ldc);
    if (!plan.ok()) {
      recordFailure(internalError(plan.status().message()));
      return;
    }
    auto *cData = reinterpret_cast<float *>(static_cast<intptr_t>(c));
    if (plan->work == SgemmPlan::Nothing)
      return;
    CudaContext *context = current("uoe_sgemm_batched");
    if (!context)
      return;
    if (plan->work == SgemmPlan::ScaleC) {
      scaleOnHost(batch, m, n, cData, plan->ldc, strideC, beta);
      return;
    }
    if (!fitsInt(batch) || !fitsInt(m) || !fitsInt(n) || !fitsInt(k) ||
        !fitsInt(plan->lda) || !fitsInt(plan->ldb) || !fitsInt(plan->ldc)) {
      recordFailure(unimplementedError(
          strCat("uoe_sgemm_batched: sizes beyond cuBLAS's 32-bit ints (batch ",
                 batch, ", m ", m, ", n ", n, ", k ", k, ", lda ", plan->lda,
                 ", ldb ", plan->ldb, ", ldc ", plan->ldc, ")")));
      return;
    }
    const CublasApi *api = nullptr;
    void *handle = cublasHandle(*context, api);
    if (!handle)
      return;
    // Column-major C^T = op(B)^T op(A)^T (see the file comment).
    const float alpha = 1.0f;
    int status = api->sgemmStridedBatched(
        handle, transB ? CUBLAS_OP_T : CUBLAS_OP_N,
        transA ? CUBLAS_OP_T : CUBLAS_OP_N, static_cast<int>(n),
        static_cast<int>(m), static_cast<int>(k), &alpha,
        reinterpret_cast<const float *>(static_cast<intptr_t>(b)),
        static_cast<int>(plan->ldb), strideB,
        reinterpret_cast<const float *>(static_cast<intptr_t>(a)),
        static_cast<int>(plan->lda), strideA, &beta, cData,
        static_cast<int>(plan->ldc), strideC, static_cast<int>(batch));
    if (status != CUBLAS_STATUS_SUCCESS) {
      recordFailure(cublasError("cublasSgemmStridedBatched", status));
      return;
    }
    // The host code may read C next.
    check(*context, "cuStreamSynchronize",
          context->driver().api().streamSynchronize(context->stream_),
          "after cublasSgemmStridedBatched");
  }
};

} // namespace uoe::rt

const SymbolMap &uoe::rt::cudaRuntimeSymbols() {
  auto address = [](auto *function) {
    return reinterpret_cast<void *>(function);
  };
  static const SymbolMap *symbols = new SymbolMap{
      {"mgpuModuleLoad", address(&CudaCallbacks::moduleLoad)},
      {"mgpuModuleLoadJIT", address(&CudaCallbacks::moduleLoadJit)},
      {"mgpuModuleUnload", address(&CudaCallbacks::moduleUnload)},
      {"mgpuModuleGetFunction", address(&CudaCallbacks::moduleGetFunction)},
      {"mgpuStreamCreate", address(&CudaCallbacks::streamCreate)},
      {"mgpuStreamDestroy", address(&CudaCallbacks::streamDestroy)},
      {"mgpuStreamSynchronize", address(&CudaCallbacks::streamSynchronize)},
      {"mgpuLaunchKernel", address(&CudaCallbacks::launchKernel)},
      {"_mlir_memref_to_llvm_alloc", address(&CudaCallbacks::alloc)},
      {"_mlir_memref_to_llvm_aligned_alloc",
       address(&CudaCallbacks::alignedAlloc)},
      {"_mlir_memref_to_llvm_free", address(&CudaCallbacks::free)},
      {"memrefCopy", address(&memrefCopy)},
      {"uoe_sgemm_batched", address(&CudaCallbacks::sgemmBatched)},
  };
  return *symbols;
}

Status uoe::rt::takeCudaRuntimeError() {
  FailureRecord &record = failureRecord();
  std::lock_guard<std::mutex> lock(record.mutex);
  int64_t count = record.count.load();
  if (count == 0)
    return okStatus();
  Status status = std::move(record.first);
  if (count > 1)
    status = Status(status.code(), strCat(status.message(), " (and ", count - 1,
                                          " more failure(s))"));
  record.first = okStatus();
  record.count.store(0);
  return status;
}

std::string uoe::rt::cublasStatusName(int status) {
  switch (status) {
  case CUBLAS_STATUS_SUCCESS:
    return "CUBLAS_STATUS_SUCCESS";
  case CUBLAS_STATUS_NOT_INITIALIZED:
    return "CUBLAS_STATUS_NOT_INITIALIZED";
  case CUBLAS_STATUS_ALLOC_FAILED:
    return "CUBLAS_STATUS_ALLOC_FAILED";
  case CUBLAS_STATUS_INVALID_VALUE:
    return "CUBLAS_STATUS_INVALID_VALUE";
  case CUBLAS_STATUS_ARCH_MISMATCH:
    return "CUBLAS_STATUS_ARCH_MISMATCH";
  case CUBLAS_STATUS_MAPPING_ERROR:
    return "CUBLAS_STATUS_MAPPING_ERROR";
  case CUBLAS_STATUS_EXECUTION_FAILED:
    return "CUBLAS_STATUS_EXECUTION_FAILED";
  case CUBLAS_STATUS_INTERNAL_ERROR:
    return "CUBLAS_STATUS_INTERNAL_ERROR";
  case CUBLAS_STATUS_NOT_SUPPORTED:
    return "CUBLAS_STATUS_NOT_SUPPORTED";
  case CUBLAS_STATUS_LICENSE_ERROR:
    return "CUBLAS_STATUS_LICENSE_ERROR";
  default:
    return strCat("CUBLAS_STATUS_", status);
  }
}
