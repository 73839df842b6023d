//===- CudaDriverTest.cpp - tests of the run-time loaded CUDA driver ------===//
//
// Runs on every machine. Without a GPU: the driver is not found (or finds no
// device) and says so as an Unavailable "no CUDA device found: ..." error,
// the same one on every call and from every thread; libraries that are not
// the driver, or the toolkit's stub libcuda.so, give their own reasons.
// With a GPU the not-found cases are skipped and the device list is checked
// instead. Error messages are checked through formatCudaError, and the
// driver's types and constants against cuda.h where the toolkit is present.
//
//===----------------------------------------------------------------------===//

#include "runtime/CudaDriver.h"

#include "TestUtil.h"

#include "gtest/gtest.h"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#ifdef UOE_HAVE_CUDA_HEADERS
#include <cuda.h>
#endif

namespace uoe::rt {
namespace {

using test::hasError;

#ifdef UOE_HAVE_CUDA_HEADERS
// The runtime declares the driver's C types itself; they must have the ABI
// of cuda.h's.
static_assert(sizeof(cuda::CUresult) == sizeof(::CUresult));
static_assert(sizeof(cuda::CUdevice) == sizeof(::CUdevice));
static_assert(sizeof(cuda::CUdeviceptr) == sizeof(::CUdeviceptr));
// The runtime's constants are unnamed enums, cuda.h's named ones: compare
// them as ints.
#define UOE_CHECK_SAME_VALUE(name)                                             \
  static_assert(static_cast<int>(cuda::name) == static_cast<int>(::name), #name)
UOE_CHECK_SAME_VALUE(CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
UOE_CHECK_SAME_VALUE(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
UOE_CHECK_SAME_VALUE(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
UOE_CHECK_SAME_VALUE(CU_STREAM_NON_BLOCKING);
UOE_CHECK_SAME_VALUE(CU_DEVICE_ATTRIBUTE_MANAGED_MEMORY);
UOE_CHECK_SAME_VALUE(CU_MEM_ATTACH_GLOBAL);
UOE_CHECK_SAME_VALUE(CU_JIT_ERROR_LOG_BUFFER);
UOE_CHECK_SAME_VALUE(CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES);
UOE_CHECK_SAME_VALUE(CU_JIT_OPTIMIZATION_LEVEL);
static_assert(sizeof(cuda::CUjit_option) == sizeof(::CUjit_option));
#define UOE_CHECK_RESULT_VALUE(code) UOE_CHECK_SAME_VALUE(code)
#else
#define UOE_CHECK_RESULT_VALUE(code)
#endif

// Every code of the runtime's table: its value is cuda.h's (when present)
// and cudaResultName spells the enumerator.
#define UOE_CHECK_RESULT(code)                                                 \
  UOE_CHECK_RESULT_VALUE(code);                                                \
  EXPECT_STREQ(cudaResultName(cuda::code), #code)

TEST(CudaErrorTest, ResultNamesMatchCudaH) {
  UOE_CHECK_RESULT(CUDA_SUCCESS);
  UOE_CHECK_RESULT(CUDA_ERROR_INVALID_VALUE);
  UOE_CHECK_RESULT(CUDA_ERROR_OUT_OF_MEMORY);
  UOE_CHECK_RESULT(CUDA_ERROR_NOT_INITIALIZED);
  UOE_CHECK_RESULT(CUDA_ERROR_DEINITIALIZED);
  UOE_CHECK_RESULT(CUDA_ERROR_STUB_LIBRARY);
  UOE_CHECK_RESULT(CUDA_ERROR_DEVICE_UNAVAILABLE);
  UOE_CHECK_RESULT(CUDA_ERROR_NO_DEVICE);
  UOE_CHECK_RESULT(CUDA_ERROR_INVALID_DEVICE);
  UOE_CHECK_RESULT(CUDA_ERROR_INVALID_IMAGE);
  UOE_CHECK_RESULT(CUDA_ERROR_INVALID_CONTEXT);
  UOE_CHECK_RESULT(CUDA_ERROR_NO_BINARY_FOR_GPU);
  UOE_CHECK_RESULT(CUDA_ERROR_INVALID_PTX);
  UOE_CHECK_RESULT(CUDA_ERROR_UNSUPPORTED_PTX_VERSION);
  UOE_CHECK_RESULT(CUDA_ERROR_INVALID_HANDLE);
  UOE_CHECK_RESULT(CUDA_ERROR_NOT_FOUND);
  UOE_CHECK_RESULT(CUDA_ERROR_ILLEGAL_ADDRESS);
  UOE_CHECK_RESULT(CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES);
  UOE_CHECK_RESULT(CUDA_ERROR_LAUNCH_FAILED);
  UOE_CHECK_RESULT(CUDA_ERROR_NOT_SUPPORTED);
  UOE_CHECK_RESULT(CUDA_ERROR_SYSTEM_NOT_READY);
  UOE_CHECK_RESULT(CUDA_ERROR_SYSTEM_DRIVER_MISMATCH);
  UOE_CHECK_RESULT(CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE);
  UOE_CHECK_RESULT(CUDA_ERROR_UNKNOWN);
  EXPECT_EQ(cudaResultName(12345), nullptr);
}

TEST(CudaErrorTest, FormatsTheDriversNameAndDescription) {
  EXPECT_EQ(formatCudaError("cuInit", cuda::CUDA_ERROR_NO_DEVICE,
                            "CUDA_ERROR_NO_DEVICE",
                            "no CUDA-capable device is detected"),
            "cuInit failed: CUDA_ERROR_NO_DEVICE (no CUDA-capable device is "
            "detected)");
  EXPECT_EQ(formatCudaError("cuMemAlloc", cuda::CUDA_ERROR_OUT_OF_MEMORY,
                            "CUDA_ERROR_OUT_OF_MEMORY", "out of memory"),
            "cuMemAlloc failed: CUDA_ERROR_OUT_OF_MEMORY (out of memory)");
  EXPECT_EQ(formatCudaError("cuModuleLoadData", cuda::CUDA_ERROR_INVALID_PTX,
                            "CUDA_ERROR_INVALID_PTX",
                            "a PTX JIT compilation failed"),
            "cuModuleLoadData failed: CUDA_ERROR_INVALID_PTX (a PTX JIT "
            "compilation failed)");
}

TEST(CudaErrorTest, FallsBackToTheTableThenTheNumber) {
  // The driver could not name the error: the table does, and an empty or
  // missing description is left out.
  EXPECT_EQ(formatCudaError("cuLaunchKernel", cuda::CUDA_ERROR_LAUNCH_FAILED,
                            nullptr, nullptr),
            "cuLaunchKernel failed: CUDA_ERROR_LAUNCH_FAILED");
  EXPECT_EQ(formatCudaError("cuStreamSynchronize",
                            cuda::CUDA_ERROR_ILLEGAL_ADDRESS, nullptr, ""),
            "cuStreamSynchronize failed: CUDA_ERROR_ILLEGAL_ADDRESS");
  // A code newer than the table.
  EXPECT_EQ(formatCudaError("cuMemFree", 12345, nullptr, nullptr),
            "cuMemFree failed: CUDA error 12345");
  EXPECT_EQ(formatCudaError("cuMemFree", 12345, nullptr, "something new"),
            "cuMemFree failed: CUDA error 12345 (something new)");
}

TEST(CudaErrorTest, MapsResultsToStatusCodes) {
  EXPECT_EQ(cudaStatusCode(cuda::CUDA_SUCCESS), StatusCode::Ok);
  EXPECT_EQ(cudaStatusCode(cuda::CUDA_ERROR_NO_DEVICE),
            StatusCode::Unavailable);
  EXPECT_EQ(cudaStatusCode(cuda::CUDA_ERROR_STUB_LIBRARY),
            StatusCode::Unavailable);
  EXPECT_EQ(cudaStatusCode(cuda::CUDA_ERROR_INVALID_VALUE),
            StatusCode::InvalidArgument);
  EXPECT_EQ(cudaStatusCode(cuda::CUDA_ERROR_NOT_SUPPORTED),
            StatusCode::Unimplemented);
  EXPECT_EQ(cudaStatusCode(cuda::CUDA_ERROR_LAUNCH_FAILED),
            StatusCode::Internal);
}

TEST(CudaDeviceInfoTest, PrintsOneLine) {
  CudaDeviceInfo info;
  info.ordinal = 1;
  info.name = "NVIDIA H200";
  info.computeMajor = 9;
  info.computeMinor = 0;
  info.multiprocessors = 132;
  info.totalMemoryBytes = 150ull << 30;
  EXPECT_EQ(toString(info),
            "cuda:1: NVIDIA H200, compute capability 9.0, 132 SMs, 150.0 GiB");
}

TEST(CudaDriverTest, MissingLibraryIsNoDevice) {
  auto driver = CudaDriver::open("libuoe-no-such-driver.so.1");
  EXPECT_TRUE(hasError(driver.status(), StatusCode::Unavailable,
                       {"no CUDA device found: libuoe-no-such-driver.so.1 "
                        "could not be loaded (",
                        "cannot open shared object file"}));
}

TEST(CudaDriverTest, LibraryWithoutTheDriverApiIsNoDevice) {
  auto driver = CudaDriver::open("libm.so.6");
  EXPECT_TRUE(hasError(driver.status(), StatusCode::Unavailable,
                       {"no CUDA device found: libm.so.6 lacks cuInit"}));
}

#ifdef UOE_CUDA_STUB_LIBRARY
TEST(CudaDriverTest, ToolkitStubIsNoDevice) {
  // The toolkit's link-time stub exports every entry point, but its cuInit
  // refuses to run. Its soname is libcuda.so.1, so once loaded it would
  // answer load()'s dlopen as well: open it in a child process.
  EXPECT_EXIT(
      {
        auto driver = CudaDriver::open(UOE_CUDA_STUB_LIBRARY);
        bool expected = hasError(driver.status(), StatusCode::Unavailable,
                                 {"no CUDA device found: cuInit failed: "
                                  "CUDA_ERROR_STUB_LIBRARY"});
        std::fprintf(stderr, "%s\n", driver.status().toString().c_str());
        std::exit(expected ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "CUDA_ERROR_STUB_LIBRARY");
}
#endif

TEST(CudaDriverTest, LoadWithoutAGpuSaysNoDeviceFound) {
  auto driver = CudaDriver::load();
  if (driver.ok())
    GTEST_SKIP() << "a CUDA device is present (" << (*driver)->deviceCount()
                 << " devices); CudaDriverTest.ListsDevices checks them";
  EXPECT_TRUE(hasError(driver.status(), StatusCode::Unavailable,
                       {"no CUDA device found"}));
  EXPECT_EQ(driver.status().message().rfind("no CUDA device found", 0), 0u)
      << driver.status().toString();
  // Without the driver library at all (the usual CPU-only machine), the
  // reason is dlopen's.
  if (driver.status().message().find("could not be loaded") !=
      std::string::npos) {
    EXPECT_TRUE(hasError(driver.status(), StatusCode::Unavailable,
                         {"no CUDA device found: libcuda.so.1 could not be "
                          "loaded (libcuda.so.1: "}));
  }
  auto devices = listCudaDevices();
  EXPECT_EQ(devices.status().toString(), driver.status().toString());
}

TEST(CudaDriverTest, LoadsOnceForAllThreads) {
  // Every thread sees the one result of the one load, success or failure.
  constexpr int kThreads = 8;
  std::vector<std::string> results(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i)
    threads.emplace_back([&results, i] {
      auto driver = CudaDriver::load();
      results[i] = driver.ok() ? strCat("driver at ", *driver)
                               : driver.status().toString();
    });
  for (std::thread &thread : threads)
    thread.join();
  for (int i = 1; i < kThreads; ++i)
    EXPECT_EQ(results[i], results[0]);
}

TEST(CudaDriverTest, ListsDevices) {
  auto driver = CudaDriver::load();
  if (!driver.ok())
    GTEST_SKIP() << "no GPU here: " << driver.status().message();
  auto devices = listCudaDevices();
  ASSERT_OK(devices);
  ASSERT_GE(devices->size(), 1u);
  EXPECT_EQ(static_cast<int>(devices->size()), (*driver)->deviceCount());
  EXPECT_GT((*driver)->version(), 0);
  for (size_t i = 0; i < devices->size(); ++i) {
    const CudaDeviceInfo &info = (*devices)[i];
    EXPECT_EQ(info.ordinal, static_cast<int>(i));
    EXPECT_FALSE(info.name.empty());
    EXPECT_GE(info.computeMajor, 3) << toString(info);
    EXPECT_GT(info.multiprocessors, 0) << toString(info);
    EXPECT_GT(info.totalMemoryBytes, 0u) << toString(info);
  }
}

} // namespace
} // namespace uoe::rt
