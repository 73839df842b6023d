//===- CudaDriver.cpp - the CUDA driver API, loaded at run time -----------===//
//
// dlopen of libcuda.so.1, dlsym of each entry point under its exported
// (versioned) name, cuInit and device discovery, and the formatting of
// driver errors. Nothing here links against CUDA.
//
//===----------------------------------------------------------------------===//

#include "runtime/CudaDriver.h"

#include <dlfcn.h>

#include <cstdio>
#include <mutex>

namespace uoe::rt {

using namespace cuda;

namespace {

constexpr const char *kNoDevice = "no CUDA device found";

/// Looks `symbol` up in `handle` and stores it in `fn`; on failure records
/// the first missing symbol in `missing`.
template <typename Fn>
void resolve(void *handle, const char *symbol, Fn &fn, std::string &missing) {
  void *address = dlsym(handle, symbol);
  // POSIX guarantees that a data pointer from dlsym converts to a function
  // pointer.
  fn = reinterpret_cast<Fn>(address);
  if (!address && missing.empty())
    missing = symbol;
}

/// Resolves every field of `api` from `handle`; returns the first symbol
/// that is missing, or an empty string.
std::string resolveAll(void *handle, CudaDriverApi &api) {
  std::string missing;
  // The versioned names are those cuda.h (CUDA 13) maps the API names to;
  // the unversioned ones have a single version.
  resolve(handle, "cuInit", api.init, missing);
  resolve(handle, "cuDriverGetVersion", api.driverGetVersion, missing);
  resolve(handle, "cuGetErrorName", api.getErrorName, missing);
  resolve(handle, "cuGetErrorString", api.getErrorString, missing);
  resolve(handle, "cuDeviceGetCount", api.deviceGetCount, missing);
  resolve(handle, "cuDeviceGet", api.deviceGet, missing);
  resolve(handle, "cuDeviceGetName", api.deviceGetName, missing);
  resolve(handle, "cuDeviceGetAttribute", api.deviceGetAttribute, missing);
  resolve(handle, "cuDeviceTotalMem_v2", api.deviceTotalMem, missing);
  resolve(handle, "cuDevicePrimaryCtxRetain", api.devicePrimaryCtxRetain,
          missing);
  resolve(handle, "cuDevicePrimaryCtxRelease_v2", api.devicePrimaryCtxRelease,
          missing);
  resolve(handle, "cuCtxSetCurrent", api.ctxSetCurrent, missing);
  resolve(handle, "cuCtxGetCurrent", api.ctxGetCurrent, missing);
  resolve(handle, "cuCtxSynchronize", api.ctxSynchronize, missing);
  resolve(handle, "cuModuleLoadData", api.moduleLoadData, missing);
  resolve(handle, "cuModuleLoadDataEx", api.moduleLoadDataEx, missing);
  resolve(handle, "cuModuleUnload", api.moduleUnload, missing);
  resolve(handle, "cuModuleGetFunction", api.moduleGetFunction, missing);
  resolve(handle, "cuLaunchKernel", api.launchKernel, missing);
  resolve(handle, "cuMemAlloc_v2", api.memAlloc, missing);
  resolve(handle, "cuMemFree_v2", api.memFree, missing);
  resolve(handle, "cuMemAllocManaged", api.memAllocManaged, missing);
  resolve(handle, "cuMemGetInfo_v2", api.memGetInfo, missing);
  resolve(handle, "cuMemcpyHtoD_v2", api.memcpyHtoD, missing);
  resolve(handle, "cuMemcpyDtoH_v2", api.memcpyDtoH, missing);
  resolve(handle, "cuMemcpyHtoDAsync_v2", api.memcpyHtoDAsync, missing);
  resolve(handle, "cuMemcpyDtoHAsync_v2", api.memcpyDtoHAsync, missing);
  resolve(handle, "cuStreamCreate", api.streamCreate, missing);
  resolve(handle, "cuStreamSynchronize", api.streamSynchronize, missing);
  resolve(handle, "cuStreamDestroy_v2", api.streamDestroy, missing);
  return missing;
}

/// The Status for `call` failing with `result`, asking the driver in `api`
/// for the error's name and description.
Status driverError(const CudaDriverApi &api, std::string_view call,
                   CUresult result) {
  const char *name = nullptr;
  const char *description = nullptr;
  if (!api.getErrorName || api.getErrorName(result, &name) != CUDA_SUCCESS)
    name = nullptr;
  if (!api.getErrorString ||
      api.getErrorString(result, &description) != CUDA_SUCCESS)
    description = nullptr;
  return Status(cudaStatusCode(result),
                formatCudaError(call, result, name, description));
}

} // namespace

const char *cudaResultName(CUresult result) {
  switch (result) {
  case CUDA_SUCCESS:
    return "CUDA_SUCCESS";
  case CUDA_ERROR_INVALID_VALUE:
    return "CUDA_ERROR_INVALID_VALUE";
  case CUDA_ERROR_OUT_OF_MEMORY:
    return "CUDA_ERROR_OUT_OF_MEMORY";
  case CUDA_ERROR_NOT_INITIALIZED:
    return "CUDA_ERROR_NOT_INITIALIZED";
  case CUDA_ERROR_DEINITIALIZED:
    return "CUDA_ERROR_DEINITIALIZED";
  case CUDA_ERROR_STUB_LIBRARY:
    return "CUDA_ERROR_STUB_LIBRARY";
  case CUDA_ERROR_DEVICE_UNAVAILABLE:
    return "CUDA_ERROR_DEVICE_UNAVAILABLE";
  case CUDA_ERROR_NO_DEVICE:
    return "CUDA_ERROR_NO_DEVICE";
  case CUDA_ERROR_INVALID_DEVICE:
    return "CUDA_ERROR_INVALID_DEVICE";
  case CUDA_ERROR_INVALID_IMAGE:
    return "CUDA_ERROR_INVALID_IMAGE";
  case CUDA_ERROR_INVALID_CONTEXT:
    return "CUDA_ERROR_INVALID_CONTEXT";
  case CUDA_ERROR_NO_BINARY_FOR_GPU:
    return "CUDA_ERROR_NO_BINARY_FOR_GPU";
  case CUDA_ERROR_INVALID_PTX:
    return "CUDA_ERROR_INVALID_PTX";
  case CUDA_ERROR_UNSUPPORTED_PTX_VERSION:
    return "CUDA_ERROR_UNSUPPORTED_PTX_VERSION";
  case CUDA_ERROR_INVALID_HANDLE:
    return "CUDA_ERROR_INVALID_HANDLE";
  case CUDA_ERROR_NOT_FOUND:
    return "CUDA_ERROR_NOT_FOUND";
  case CUDA_ERROR_ILLEGAL_ADDRESS:
    return "CUDA_ERROR_ILLEGAL_ADDRESS";
  case CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES:
    return "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES";
  case CUDA_ERROR_LAUNCH_FAILED:
    return "CUDA_ERROR_LAUNCH_FAILED";
  case CUDA_ERROR_NOT_SUPPORTED:
    return "CUDA_ERROR_NOT_SUPPORTED";
  case CUDA_ERROR_SYSTEM_NOT_READY:
    return "CUDA_ERROR_SYSTEM_NOT_READY";
  case CUDA_ERROR_SYSTEM_DRIVER_MISMATCH:
    return "CUDA_ERROR_SYSTEM_DRIVER_MISMATCH";
  case CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE:
    return "CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE";
  case CUDA_ERROR_UNKNOWN:
    return "CUDA_ERROR_UNKNOWN";
  default:
    return nullptr;
  }
}

std::string formatCudaError(std::string_view call, CUresult result,
                            const char *name, const char *description) {
  if (!name)
    name = cudaResultName(result);
  std::string text = strCat(call, " failed: ");
  text += name ? std::string(name) : strCat("CUDA error ", result);
  if (description && *description)
    text += strCat(" (", description, ")");
  return text;
}

StatusCode cudaStatusCode(CUresult result) {
  switch (result) {
  case CUDA_SUCCESS:
    return StatusCode::Ok;
  case CUDA_ERROR_NO_DEVICE:
  case CUDA_ERROR_INVALID_DEVICE:
  case CUDA_ERROR_DEVICE_UNAVAILABLE:
  case CUDA_ERROR_STUB_LIBRARY:
  case CUDA_ERROR_SYSTEM_NOT_READY:
  case CUDA_ERROR_SYSTEM_DRIVER_MISMATCH:
  case CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE:
    return StatusCode::Unavailable;
  case CUDA_ERROR_INVALID_VALUE:
    return StatusCode::InvalidArgument;
  case CUDA_ERROR_NOT_SUPPORTED:
    return StatusCode::Unimplemented;
  default:
    return StatusCode::Internal;
  }
}

Status CudaDriver::check(std::string_view call, CUresult result) const {
  if (result == CUDA_SUCCESS)
    return okStatus();
  return driverError(api_, call, result);
}

StatusOr<std::unique_ptr<CudaDriver>>
CudaDriver::open(const std::string &library) {
  // RTLD_LOCAL: the driver's symbols stay out of the global namespace, so
  // that they cannot satisfy other libraries' references by accident.
  void *handle = dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char *reason = dlerror();
    return unavailableError(strCat(kNoDevice, ": ", library,
                                   " could not be loaded (",
                                   reason ? reason : "unknown reason", ")"));
  }
  std::unique_ptr<CudaDriver> driver(new CudaDriver());
  std::string missing = resolveAll(handle, driver->api_);
  if (!missing.empty()) {
    dlclose(handle);
    return unavailableError(strCat(kNoDevice, ": ", library, " lacks ", missing,
                                   " (not a CUDA driver, or one "
                                   "older than CUDA 11)"));
  }
  // From here on the handle is never closed: unloading the driver after
  // cuInit is not supported by CUDA, and dlopen counts references, so a
  // second open() of the same library shares it.
  const CudaDriverApi &api = driver->api_;
  if (CUresult r = api.init(0); r != CUDA_SUCCESS)
    return Status(
        StatusCode::Unavailable,
        strCat(kNoDevice, ": ", driverError(api, "cuInit", r).message()));
  if (CUresult r = api.driverGetVersion(&driver->version_); r != CUDA_SUCCESS)
    return driverError(api, "cuDriverGetVersion", r);
  if (CUresult r = api.deviceGetCount(&driver->deviceCount_); r != CUDA_SUCCESS)
    return Status(StatusCode::Unavailable,
                  strCat(kNoDevice, ": ",
                         driverError(api, "cuDeviceGetCount", r).message()));
  if (driver->deviceCount_ <= 0)
    return unavailableError(kNoDevice);
  return driver;
}

StatusOr<const CudaDriver *> CudaDriver::load() {
  // A function-local static is initialised once, thread-safely; the driver
  // (or the reason there is none) lives until the process exits and is
  // deliberately never destroyed (see open()).
  static const StatusOr<std::unique_ptr<CudaDriver>> *loaded =
      new StatusOr<std::unique_ptr<CudaDriver>>(open("libcuda.so.1"));
  if (!loaded->ok())
    return loaded->status();
  return static_cast<const CudaDriver *>(loaded->value().get());
}

std::string toString(const CudaDeviceInfo &device) {
  char memory[32];
  std::snprintf(memory, sizeof(memory), "%.1f GiB",
                static_cast<double>(device.totalMemoryBytes) /
                    (1024.0 * 1024.0 * 1024.0));
  return strCat("cuda:", device.ordinal, ": ", device.name,
                ", compute capability ", device.computeMajor, ".",
                device.computeMinor, ", ", device.multiprocessors, " SMs, ",
                memory);
}

StatusOr<std::vector<CudaDeviceInfo>>
listCudaDevices(const CudaDriver &driver) {
  const CudaDriverApi &api = driver.api();
  std::vector<CudaDeviceInfo> devices;
  for (int i = 0; i < driver.deviceCount(); ++i) {
    CudaDeviceInfo info;
    info.ordinal = i;
    CUdevice device = 0;
    UOE_RETURN_IF_ERROR(driver.check("cuDeviceGet", api.deviceGet(&device, i)));
    char name[256] = {};
    UOE_RETURN_IF_ERROR(driver.check(
        "cuDeviceGetName", api.deviceGetName(name, sizeof(name) - 1, device)));
    info.name = name;
    UOE_RETURN_IF_ERROR(driver.check(
        "cuDeviceGetAttribute",
        api.deviceGetAttribute(&info.computeMajor,
                               CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR,
                               device)));
    UOE_RETURN_IF_ERROR(driver.check(
        "cuDeviceGetAttribute",
        api.deviceGetAttribute(&info.computeMinor,
                               CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR,
                               device)));
    UOE_RETURN_IF_ERROR(driver.check(
        "cuDeviceGetAttribute",
        api.deviceGetAttribute(&info.multiprocessors,
                               CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT,
                               device)));
    size_t bytes = 0;
    UOE_RETURN_IF_ERROR(
        driver.check("cuDeviceTotalMem", api.deviceTotalMem(&bytes, device)));
    info.totalMemoryBytes = bytes;
    devices.push_back(std::move(info));
  }
  return devices;
}

StatusOr<std::vector<CudaDeviceInfo>> listCudaDevices() {
  UOE_ASSIGN_OR_RETURN(const CudaDriver *driver, CudaDriver::load());
  return listCudaDevices(*driver);
}

} // namespace uoe::rt
