//===- CudaDriver.h - the CUDA driver API, loaded at run time ---*- C++ -*-===//
//
// The `cuda` device talks to the GPU through the CUDA driver API, which it
// never links: CudaDriver dlopen()s `libcuda.so.1` when first asked and
// resolves the entry points the runtime uses with dlsym. A binary built with
// GPU support therefore still starts, and runs on the `cpu` device, on a
// machine without a GPU or without the NVIDIA driver; asking it for the
// `cuda` device there gets "no CUDA device found: ..." with the reason.
//
// The few driver types and constants used here are declared below, in
// namespace uoe::rt::cuda with the names of the toolkit's cuda.h, so that the
// runtime builds the same with or without the CUDA toolkit (the unit tests
// check them against cuda.h when the toolkit is present). Function pointers
// are resolved under the versioned names the driver exports (cuMemAlloc_v2,
// cuStreamDestroy_v2, ...: the `#define`s of CUDA 13's cuda.h), i.e. the
// same ABI a program compiled against cuda.h calls.
//
// Errors are Status values; every failed driver call is reported with the
// call's name and the driver's error name and description, e.g.
// "cuInit failed: CUDA_ERROR_NO_DEVICE (no CUDA-capable device is detected)".
//
//===----------------------------------------------------------------------===//

#ifndef UOE_RUNTIME_CUDADRIVER_H
#define UOE_RUNTIME_CUDADRIVER_H

#include "support/Status.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace uoe::rt {

/// The driver API's C types and the constants the runtime uses, with the
/// values of cuda.h (CUDA 13; stable across driver versions).
namespace cuda {
using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
struct CUctx_st;
using CUcontext = CUctx_st *;
struct CUmod_st;
using CUmodule = CUmod_st *;
struct CUfunc_st;
using CUfunction = CUfunc_st *;
struct CUstream_st;
using CUstream = CUstream_st *;

enum : CUresult {
  CUDA_SUCCESS = 0,
  CUDA_ERROR_INVALID_VALUE = 1,
  CUDA_ERROR_OUT_OF_MEMORY = 2,
  CUDA_ERROR_NOT_INITIALIZED = 3,
  CUDA_ERROR_DEINITIALIZED = 4,
  CUDA_ERROR_STUB_LIBRARY = 34,
  CUDA_ERROR_DEVICE_UNAVAILABLE = 46,
  CUDA_ERROR_NO_DEVICE = 100,
  CUDA_ERROR_INVALID_DEVICE = 101,
  CUDA_ERROR_INVALID_IMAGE = 200,
  CUDA_ERROR_INVALID_CONTEXT = 201,
  CUDA_ERROR_NO_BINARY_FOR_GPU = 209,
  CUDA_ERROR_INVALID_PTX = 218,
  CUDA_ERROR_UNSUPPORTED_PTX_VERSION = 222,
  CUDA_ERROR_INVALID_HANDLE = 400,
  CUDA_ERROR_NOT_FOUND = 500,
  CUDA_ERROR_ILLEGAL_ADDRESS = 700,
  CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES = 701,
  CUDA_ERROR_LAUNCH_FAILED = 719,
  CUDA_ERROR_NOT_SUPPORTED = 801,
  CUDA_ERROR_SYSTEM_NOT_READY = 802,
  CUDA_ERROR_SYSTEM_DRIVER_MISMATCH = 803,
  CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE = 804,
  CUDA_ERROR_UNKNOWN = 999,
};

/// CUdevice_attribute values.
enum : int {
  CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16,
  CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75,
  CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76,
};

/// CUstream_flags: a stream that does not synchronise with stream 0.
enum : unsigned { CU_STREAM_NON_BLOCKING = 1 };

/// CUdevice_attribute: whether the device can allocate managed memory.
enum : int { CU_DEVICE_ATTRIBUTE_MANAGED_MEMORY = 83 };

/// CUmemAttach_flags: managed memory any stream may access.
enum : unsigned { CU_MEM_ATTACH_GLOBAL = 1 };

/// CUjit_option values for cuModuleLoadDataEx. The option's value is passed
/// in the `void *` slot itself (an integer cast to a pointer) for sizes and
/// levels, or is a pointer to the caller's buffer for the log.
using CUjit_option = int;
enum : CUjit_option {
  CU_JIT_ERROR_LOG_BUFFER = 5,
  CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES = 6,
  CU_JIT_OPTIMIZATION_LEVEL = 7,
};
} // namespace cuda

/// The driver entry points the runtime calls, resolved from libcuda.so.1.
/// Each field is named after the API function without its `cu` prefix and
/// holds the exported symbol named in its comment (the versioned one where
/// cuda.h maps the name to a version); all are non-null once loaded. Call them
/// through CudaDriver::check so that a failure carries the call's name.
struct CudaDriverApi {
  using CUresult = cuda::CUresult;
  using CUdevice = cuda::CUdevice;
  using CUdeviceptr = cuda::CUdeviceptr;

  /// cuInit
  CUresult (*init)(unsigned flags);
  /// cuDriverGetVersion
  CUresult (*driverGetVersion)(int *version);
  /// cuGetErrorName
  CUresult (*getErrorName)(CUresult error, const char **str);
  /// cuGetErrorString
  CUresult (*getErrorString)(CUresult error, const char **str);
  /// cuDeviceGetCount
  CUresult (*deviceGetCount)(int *count);
  /// cuDeviceGet
  CUresult (*deviceGet)(CUdevice *device, int ordinal);
  /// cuDeviceGetName
  CUresult (*deviceGetName)(char *name, int len, CUdevice dev);
  /// cuDeviceGetAttribute
  CUresult (*deviceGetAttribute)(int *value, int attribute, CUdevice dev);
  /// cuDeviceTotalMem_v2
  CUresult (*deviceTotalMem)(size_t *bytes, CUdevice dev);
  /// cuDevicePrimaryCtxRetain
  CUresult (*devicePrimaryCtxRetain)(cuda::CUcontext *ctx, CUdevice dev);
  /// cuDevicePrimaryCtxRelease_v2
  CUresult (*devicePrimaryCtxRelease)(CUdevice dev);
  /// cuCtxSetCurrent
  CUresult (*ctxSetCurrent)(cuda::CUcontext ctx);
  /// cuCtxGetCurrent
  CUresult (*ctxGetCurrent)(cuda::CUcontext *ctx);
  /// cuCtxSynchronize (the current context's; CUDA 13's cuda.h keeps this
  /// name for the form without arguments)
  CUresult (*ctxSynchronize)();
  /// cuModuleLoadData
  CUresult (*moduleLoadData)(cuda::CUmodule *module, const void *image);
  /// cuModuleLoadDataEx
  CUresult (*moduleLoadDataEx)(cuda::CUmodule *module, const void *image,
                               unsigned numOptions, cuda::CUjit_option *options,
                               void **optionValues);
  /// cuModuleUnload
  CUresult (*moduleUnload)(cuda::CUmodule module);
  /// cuModuleGetFunction
  CUresult (*moduleGetFunction)(cuda::CUfunction *function,
                                cuda::CUmodule module, const char *name);
  /// cuLaunchKernel
  CUresult (*launchKernel)(cuda::CUfunction f, unsigned gridX, unsigned gridY,
                           unsigned gridZ, unsigned blockX, unsigned blockY,
                           unsigned blockZ, unsigned sharedMemBytes,
                           cuda::CUstream stream, void **params, void **extra);
  /// cuMemAlloc_v2
  CUresult (*memAlloc)(CUdeviceptr *ptr, size_t bytes);
  /// cuMemFree_v2
  CUresult (*memFree)(CUdeviceptr ptr);
  /// cuMemAllocManaged
  CUresult (*memAllocManaged)(CUdeviceptr *ptr, size_t bytes, unsigned flags);
  /// cuMemGetInfo_v2: the current context's device's free and total bytes
  CUresult (*memGetInfo)(size_t *freeBytes, size_t *totalBytes);
  /// cuMemcpyHtoD_v2
  CUresult (*memcpyHtoD)(CUdeviceptr dst, const void *src, size_t bytes);
  /// cuMemcpyDtoH_v2
  CUresult (*memcpyDtoH)(void *dst, CUdeviceptr src, size_t bytes);
  /// cuMemcpyHtoDAsync_v2
  CUresult (*memcpyHtoDAsync)(CUdeviceptr dst, const void *src, size_t bytes,
                              cuda::CUstream stream);
  /// cuMemcpyDtoHAsync_v2
  CUresult (*memcpyDtoHAsync)(void *dst, CUdeviceptr src, size_t bytes,
                              cuda::CUstream stream);
  /// cuStreamCreate
  CUresult (*streamCreate)(cuda::CUstream *stream, unsigned flags);
  /// cuStreamSynchronize
  CUresult (*streamSynchronize)(cuda::CUstream stream);
  /// cuStreamDestroy_v2
  CUresult (*streamDestroy)(cuda::CUstream stream);
};

/// The driver's name for `result` ("CUDA_ERROR_NO_DEVICE") from a table of
/// the common codes, for when the driver cannot say; null for other codes.
const char *cudaResultName(cuda::CUresult result);

/// The message for driver call `call` failing with `result`:
/// "<call> failed: <name> (<description>)". `name` and `description` are
/// what cuGetErrorName / cuGetErrorString gave, or null where they failed;
/// a missing name falls back to cudaResultName, then to
/// "CUDA error <result>"; a missing description is left out.
std::string formatCudaError(std::string_view call, cuda::CUresult result,
                            const char *name, const char *description);

/// The StatusCode for a failed driver call: no device or driver is
/// Unavailable, a bad argument InvalidArgument, an unsupported request
/// Unimplemented, anything else Internal.
StatusCode cudaStatusCode(cuda::CUresult result);

/// A loaded and initialised CUDA driver (cuInit has succeeded and there is at
/// least one device). Immutable after loading, so every method may be called
/// from any thread; the driver itself is thread-safe.
class CudaDriver {
public:
  /// The process-wide driver from `libcuda.so.1`, loaded on the first call
  /// (thread-safe; later calls return the same result, success or failure).
  /// The driver stays loaded until the process exits. Unavailable errors:
  /// "no CUDA device found: libcuda.so.1 could not be loaded (<dlerror>)",
  /// "no CUDA device found: cuInit failed: CUDA_ERROR_NO_DEVICE (...)",
  /// "no CUDA device found" (the driver counts zero devices).
  static StatusOr<const CudaDriver *> load();

  /// Loads the driver from `library` (a name for dlopen or a path), resolves
  /// every entry point, runs cuInit(0) and counts the devices, with the
  /// errors of load(). For tests and tools that want a specific library; the
  /// runtime uses load(). The library stays loaded after the object goes.
  static StatusOr<std::unique_ptr<CudaDriver>> open(const std::string &library);

  /// The resolved entry points.
  const CudaDriverApi &api() const { return api_; }
  /// The number of devices (at least 1).
  int deviceCount() const { return deviceCount_; }
  /// The driver's CUDA version, e.g. 13000 for 13.0.
  int version() const { return version_; }

  /// OK if `result` is CUDA_SUCCESS, otherwise the error for driver call
  /// `call` (e.g. "cuMemAlloc"), with the message of formatCudaError and
  /// the code of cudaStatusCode.
  Status check(std::string_view call, cuda::CUresult result) const;

private:
  CudaDriver() = default;
  CudaDriverApi api_{};
  int deviceCount_ = 0;
  int version_ = 0;
};

/// What the runtime knows about one CUDA device.
struct CudaDeviceInfo {
  int ordinal = 0;
  std::string name;     ///< e.g. "NVIDIA H100 80GB HBM3"
  int computeMajor = 0; ///< compute capability, e.g. 9 ...
  int computeMinor = 0; ///< ... and 0 for sm_90
  int multiprocessors = 0;
  uint64_t totalMemoryBytes = 0;
};

/// One line for `uoe-run devices`:
/// "cuda:0: NVIDIA H200, compute capability 9.0, 132 SMs, 139.8 GiB".
std::string toString(const CudaDeviceInfo &device);

/// The devices of `driver`, in ordinal order; errors name the failing call.
StatusOr<std::vector<CudaDeviceInfo>> listCudaDevices(const CudaDriver &driver);

/// The devices of the process-wide driver (CudaDriver::load), or its error.
StatusOr<std::vector<CudaDeviceInfo>> listCudaDevices();

} // namespace uoe::rt

#endif // UOE_RUNTIME_CUDADRIVER_H
