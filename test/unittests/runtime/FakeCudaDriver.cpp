//===- FakeCudaDriver.cpp - a CUDA driver without a GPU, for tests --------===//
//
// A shared library with the entry points CudaDriver resolves, so that
// CudaDriver::open() of it gives a driver with one device ("Fake GPU",
// compute capability 8.0, managed memory) on any machine. Memory is host
// memory (aligned_alloc); "PTX" loads when it starts with ".version" and
// fails with a JIT log otherwise; the one kernel, "add_f32" (the signature
// of CudaRuntimeTest's PTX: a, b, out, n), runs on the host. Everything
// else succeeds and does nothing. fakeCudaLiveAllocations() counts the
// blocks not freed; cuMemGetInfo reports 80 GiB (fakeCudaSetTotalMemory
// sets another total) less the live blocks. Not thread-safe beyond what
// the tests need.
//
//===----------------------------------------------------------------------===//

#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace {

using CUresult = int;
constexpr CUresult kSuccess = 0, kInvalidValue = 1, kInvalidPtx = 218,
                   kNotFound = 500;

int liveAllocations = 0;
/// The device's memory (cuMemGetInfo) and what live blocks take of it.
size_t totalMemory = size_t(80) << 30;
size_t usedMemory = 0;
thread_local void *currentContext = nullptr;
int contextObject, moduleObject, streamObject;
/// The one kernel's handle.
int addF32;

} // namespace

extern "C" {

int fakeCudaLiveAllocations() { return liveAllocations; }
/// Sets the memory the fake device reports as its total (default 80 GiB).
void fakeCudaSetTotalMemory(size_t bytes) { totalMemory = bytes; }

CUresult cuInit(unsigned) { return kSuccess; }
CUresult cuDriverGetVersion(int *version) {
  *version = 13000;
  return kSuccess;
}
CUresult cuGetErrorName(CUresult error, const char **name) {
  *name = error == kInvalidPtx     ? "CUDA_ERROR_INVALID_PTX"
          : error == kInvalidValue ? "CUDA_ERROR_INVALID_VALUE"
                                   : "CUDA_ERROR_NOT_FOUND";
  return kSuccess;
}
CUresult cuGetErrorString(CUresult, const char **text) {
  *text = "fake driver error";
  return kSuccess;
}
CUresult cuDeviceGetCount(int *count) {
  *count = 1;
  return kSuccess;
}
CUresult cuDeviceGet(int *device, int ordinal) {
  *device = ordinal;
  return ordinal == 0 ? kSuccess : kInvalidValue;
}
CUresult cuDeviceGetName(char *name, int length, int) {
  std::strncpy(name, "Fake GPU", length);
  return kSuccess;
}
CUresult cuDeviceGetAttribute(int *value, int attribute, int) {
  switch (attribute) {
  case 75: // compute capability major
    *value = 8;
    break;
  case 16: // multiprocessors
    *value = 2;
    break;
  case 83: // managed memory
    *value = 1;
    break;
  default:
    *value = 0;
  }
  return kSuccess;
}
CUresult cuDeviceTotalMem_v2(size_t *bytes, int) {
  *bytes = size_t(1) << 30;
  return kSuccess;
}
CUresult cuDevicePrimaryCtxRetain(void **context, int) {
  *context = &contextObject;
  return kSuccess;
}
CUresult cuDevicePrimaryCtxRelease_v2(int) { return kSuccess; }
CUresult cuCtxSetCurrent(void *context) {
  currentContext = context;
  return kSuccess;
}
CUresult cuCtxGetCurrent(void **context) {
  *context = currentContext;
  return kSuccess;
}
CUresult cuCtxSynchronize() { return kSuccess; }
CUresult cuModuleLoadData(void **module, const void *) {
  *module = &moduleObject;
  return kSuccess;
}
CUresult cuModuleLoadDataEx(void **module, const void *image, unsigned count,
                            int *options, void **values) {
  if (std::strncmp(static_cast<const char *>(image), ".version", 8) == 0) {
    *module = &moduleObject;
    return kSuccess;
  }
  char *log = nullptr;
  size_t size = 0;
  for (unsigned i = 0; i < count; ++i) {
    if (options[i] == 5) // CU_JIT_ERROR_LOG_BUFFER
      log = static_cast<char *>(values[i]);
    if (options[i] == 6) // CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES
      size = reinterpret_cast<uintptr_t>(values[i]);
  }
  if (log && size > 0)
    std::strncpy(log, "ptxas fatal   : fake syntax error\n", size);
  return kInvalidPtx;
}
CUresult cuModuleUnload(void *) { return kSuccess; }
CUresult cuModuleGetFunction(void **function, void *, const char *name) {
  if (std::strcmp(name, "add_f32") != 0)
    return kNotFound;
  *function = &addF32;
  return kSuccess;
}
CUresult cuLaunchKernel(void *function, unsigned gridX, unsigned gridY,
                        unsigned gridZ, unsigned blockX, unsigned blockY,
                        unsigned blockZ, unsigned, void *, void **params,
                        void **) {
  if (function != &addF32 || blockX * blockY * blockZ > 1024)
    return kInvalidValue;
  const float *a = *static_cast<const float **>(params[0]);
  const float *b = *static_cast<const float **>(params[1]);
  float *out = *static_cast<float **>(params[2]);
  uint32_t n = *static_cast<uint32_t *>(params[3]);
  uint64_t threads = uint64_t(gridX) * gridY * gridZ * blockX * blockY * blockZ;
  for (uint64_t i = 0; i < threads && i < n; ++i)
    out[i] = a[i] + b[i];
  return kSuccess;
}
CUresult cuMemAllocManaged(uint64_t *pointer, size_t bytes, unsigned) {
  size_t rounded = (bytes + 255) / 256 * 256;
  // A block header in front of the block keeps its size for cuMemFree.
  void *block = std::aligned_alloc(256, rounded + 256);
  if (!block)
    return 2; // CUDA_ERROR_OUT_OF_MEMORY
  *static_cast<size_t *>(block) = rounded;
  block = static_cast<char *>(block) + 256;
  usedMemory += rounded;
  ++liveAllocations;
  *pointer = reinterpret_cast<uintptr_t>(block);
  return kSuccess;
}
CUresult cuMemAlloc_v2(uint64_t *pointer, size_t bytes) {
  return cuMemAllocManaged(pointer, bytes, 1);
}
CUresult cuMemFree_v2(uint64_t pointer) {
  --liveAllocations;
  char *block = reinterpret_cast<char *>(static_cast<uintptr_t>(pointer)) - 256;
  usedMemory -= *reinterpret_cast<size_t *>(block);
  std::free(block);
  return kSuccess;
}
CUresult cuMemGetInfo_v2(size_t *freeBytes, size_t *totalBytes) {
  *totalBytes = totalMemory;
  *freeBytes = usedMemory < totalMemory ? totalMemory - usedMemory : 0;
  return kSuccess;
}
CUresult cuMemcpyHtoD_v2(uint64_t dst, const void *src, size_t bytes) {
  std::memcpy(reinterpret_cast<void *>(static_cast<uintptr_t>(dst)), src,
              bytes);
  return kSuccess;
}
CUresult cuMemcpyDtoH_v2(void *dst, uint64_t src, size_t bytes) {
  std::memcpy(dst, reinterpret_cast<void *>(static_cast<uintptr_t>(src)),
              bytes);
  return kSuccess;
}
CUresult cuMemcpyHtoDAsync_v2(uint64_t dst, const void *src, size_t bytes,
                              void *) {
  return cuMemcpyHtoD_v2(dst, src, bytes);
}
CUresult cuMemcpyDtoHAsync_v2(void *dst, uint64_t src, size_t bytes, void *) {
  return cuMemcpyDtoH_v2(dst, src, bytes);
}
CUresult cuStreamCreate(void **stream, unsigned) {
  *stream = &streamObject;
  return kSuccess;
}
CUresult cuStreamSynchronize(void *) { return kSuccess; }
CUresult cuStreamDestroy_v2(void *) { return kSuccess; }

} // extern "C"
