//===- CudaRuntimeTest.cpp - tests of the cuda device's runtime -----------===//
//
// Runs on every machine. Without a GPU: target parsing and the
// target/device compatibility rules, CudaProgram refusing a cpu executable
// before it looks for a driver and passing the driver's "no CUDA device
// found" through otherwise, the GEMM argument checks both BLAS bindings
// share, the failure record of the runtime functions, their symbol map
// (bound, never exported), and CpuProgram's ProgramMemory hooks, with the
// committed x86-64 Executable and a memory that stages copies. On a fake
// driver library (FakeCudaDriver.cpp): the context's managed-memory cache,
// module loading, lookup and launches through the symbol map with their
// errors, and CudaProgram's checks and staging. With a GPU (skipped
// otherwise): the managed-memory cache, a hand-written PTX kernel
// JIT-compiled and launched through the symbol map as compiled code calls
// it, a JIT failure's log, and cuBLAS GEMMs against a float64 reference.
//
//===----------------------------------------------------------------------===//

#include "runtime/CudaRuntime.h"
#include "runtime/CudaDevice.h"

#include "SavedExecutable.h"
#include "TestUtil.h"

#include "runtime/CpuAllocator.h"
#include "runtime/CpuBlas.h"
#include "runtime/ElfObjectLoader.h"
#include "formats/Executable.h"
#include "formats/Npy.h"

#include "gtest/gtest.h"

#include <dlfcn.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <random>
#include <set>
#include <string>
#include <vector>

#ifdef UOE_HAVE_CUDA_HEADERS
#include <cublas_api.h>
#endif

namespace uoe::rt {
namespace {

using test::hasError;

//===----------------------------------------------------------------------===//
// Targets
//===----------------------------------------------------------------------===//

TEST(CudaTargetTest, ParsesComputeCapabilities) {
  struct Case {
    const char *target;
    const char *arch;
    int major, minor;
    char variant;
  } cases[] = {
      {"cuda:sm_80", "sm_80", 8, 0, 0},
      {"cuda:sm_86:nvptx64-nvidia-cuda", "sm_86", 8, 6, 0},
      {"cuda:sm_90a", "sm_90a", 9, 0, 'a'},
      {"cuda:sm_100f", "sm_100f", 10, 0, 'f'},
      {"cuda:sm_121", "sm_121", 12, 1, 0},
  };
  for (const Case &c : cases) {
    auto target = parseCudaTarget(c.target);
    ASSERT_OK(target);
    EXPECT_EQ(target->arch, c.arch) << c.target;
    EXPECT_EQ(target->major, c.major) << c.target;
    EXPECT_EQ(target->minor, c.minor) << c.target;
    EXPECT_EQ(target->variant, c.variant) << c.target;
  }
}

TEST(CudaTargetTest, RefusesOtherDevicesWithHowToCompile) {
  auto target = parseCudaTarget("cpu:x86_64-unknown-linux-gnu:znver4");
  EXPECT_TRUE(
      hasError(target.status(), StatusCode::FailedPrecondition,
               {"compiled for 'cpu:x86_64-unknown-linux-gnu:znver4'",
                "not for a CUDA GPU", "--device cuda", "--target sm_NN"}));
  EXPECT_TRUE(hasError(parseCudaTarget("").status(),
                       StatusCode::FailedPrecondition, {"compiled for ''"}));
}

TEST(CudaTargetTest, RefusesMalformedCudaTargets) {
  for (const char *bad : {"cuda:", "cuda:gfx90a", "cuda:sm_", "cuda:sm_9",
                          "cuda:sm_90x", "cuda:sm_12345", "cuda:sm_05"})
    EXPECT_TRUE(hasError(parseCudaTarget(bad).status(),
                         StatusCode::InvalidArgument,
                         {"names no GPU architecture", "--target sm_NN"}))
        << bad;
}

CudaDeviceInfo deviceWith(int major, int minor) {
  CudaDeviceInfo device;
  device.ordinal = 0;
  device.name = "NVIDIA Test";
  device.computeMajor = major;
  device.computeMinor = minor;
  return device;
}

Status check(const char *target, int major, int minor) {
  auto parsed = parseCudaTarget(target);
  if (!parsed.ok())
    return parsed.status();
  return checkCudaTarget(*parsed, deviceWith(major, minor));
}

TEST(CudaTargetTest, PtxRunsOnItsCapabilityAndLater) {
  EXPECT_OK(check("cuda:sm_80", 8, 0));
  EXPECT_OK(check("cuda:sm_80", 9, 0));
  EXPECT_OK(check("cuda:sm_86", 8, 9));
  EXPECT_OK(check("cuda:sm_90", 12, 0));
  Status tooOld = check("cuda:sm_90", 8, 0);
  EXPECT_TRUE(hasError(tooOld, StatusCode::FailedPrecondition, {}));
  EXPECT_EQ(tooOld.message(), "compiled for sm_90 but cuda:0 (NVIDIA Test) "
                              "is sm_80; compile with --target sm_80");
  EXPECT_TRUE(hasError(check("cuda:sm_89", 8, 6),
                       StatusCode::FailedPrecondition, {"--target sm_86"}));
}

TEST(CudaTargetTest, ArchitectureAndFamilyVariants) {
  EXPECT_OK(check("cuda:sm_90a", 9, 0));
  EXPECT_TRUE(hasError(check("cuda:sm_90a", 10, 0),
                       StatusCode::FailedPrecondition,
                       {"compiled for sm_90a, which runs only on sm_90 GPUs",
                        "is sm_100", "--target sm_100"}));
  EXPECT_OK(check("cuda:sm_100f", 10, 3));
  EXPECT_TRUE(hasError(check("cuda:sm_100f", 12, 0),
                       StatusCode::FailedPrecondition,
                       {"compiled for sm_100f", "is sm_120"}));
  EXPECT_TRUE(hasError(check("cuda:sm_103f", 10, 0),
                       StatusCode::FailedPrecondition, {"is sm_100"}));
}

//===----------------------------------------------------------------------===//
// CudaProgram without a GPU
//===----------------------------------------------------------------------===//

proto::Executable executableFor(const std::string &target) {
  proto::Executable executable;
  executable.set_format_version(kFormatVersion);
  executable.set_target(target);
  executable.set_model_name("empty");
  return executable;
}

TEST(CudaProgramTest, RefusesACpuExecutableBeforeLookingForAGpu) {
  ElfObjectLoader loader;
  auto program = CudaProgram::load(
      executableFor("cpu:x86_64-unknown-linux-gnu:znver4"), loader);
  EXPECT_TRUE(hasError(
      program.status(), StatusCode::FailedPrecondition,
      {"compiled for 'cpu:x86_64-unknown-linux-gnu:znver4'", "--device cuda"}));
}

TEST(CudaProgramTest, WithoutAGpuSaysNoDeviceFound) {
  auto driver = CudaDriver::load();
  if (driver.ok())
    GTEST_SKIP() << "a CUDA device is present";
  ElfObjectLoader loader;
  auto program = CudaProgram::load(executableFor("cuda:sm_80"), loader);
  EXPECT_TRUE(hasError(program.status(), StatusCode::Unavailable,
                       {"no CUDA device found"}));
  // The driver's error, unchanged.
  EXPECT_EQ(program.status().toString(), driver.status().toString());
}

TEST(CudaProgramTest, CpuProgramRefusesACudaExecutable) {
  ElfObjectLoader loader;
  auto program = CpuProgram::load(executableFor("cuda:sm_90"), loader);
  EXPECT_TRUE(hasError(program.status(), StatusCode::FailedPrecondition,
                       {"compiled for 'cuda:sm_90'", "--device cuda"}));
}

//===----------------------------------------------------------------------===//
// GEMM arguments (shared by the CPU and cuBLAS bindings)
//===----------------------------------------------------------------------===//

TEST(SgemmPlanTest, RejectsWhatTheAbiForbids) {
  EXPECT_TRUE(hasError(planSgemmBatched(1, -1, 4, 4, 4, 0, 4, 0, 4).status(),
                       StatusCode::InvalidArgument,
                       {"uoe_sgemm_batched: negative size (batch 1, m -1, "
                        "n 4, k 4)"}));
  EXPECT_TRUE(hasError(planSgemmBatched(1, 4, 4, 4, 4, 2, 4, 0, 4).status(),
                       StatusCode::InvalidArgument,
                       {"transposition flags must be 0 or 1, got transA 2"}));
  // A plain 3 x 5 A needs lda >= 5; a transposed one (stored 5 x 3) >= 3.
  EXPECT_TRUE(hasError(planSgemmBatched(1, 3, 2, 5, 4, 0, 2, 0, 2).status(),
                       StatusCode::InvalidArgument,
                       {"lda = 4 is less than the 5 columns"}));
  EXPECT_OK(planSgemmBatched(1, 3, 2, 5, 3, 1, 2, 0, 2));
  EXPECT_TRUE(hasError(planSgemmBatched(1, 3, 2, 5, 5, 0, 5, 1, 1).status(),
                       StatusCode::InvalidArgument,
                       {"ldc = 1 is less than the 2 columns"}));
  EXPECT_TRUE(hasError(planSgemmBatched(1, 3, 2, 5, 5, 0, 4, 1, 2).status(),
                       StatusCode::InvalidArgument,
                       {"ldb = 4 is less than the 5 columns"}));
}

TEST(SgemmPlanTest, SaysWhatToDo) {
  auto empty = planSgemmBatched(0, 3, 2, 5, 0, 0, 0, 0, 0);
  ASSERT_OK(empty);
  EXPECT_EQ(empty->work, SgemmPlan::Nothing);
  // k == 0 scales C and ignores lda and ldb.
  auto scale = planSgemmBatched(2, 3, 2, 0, -7, 0, -7, 0, 2);
  ASSERT_OK(scale);
  EXPECT_EQ(scale->work, SgemmPlan::ScaleC);
  EXPECT_EQ(scale->ldc, 2);
  // One-row matrices may have any leading dimension; BLAS gets max(1, cols).
  auto row = planSgemmBatched(1, 1, 4, 3, 0, 0, 4, 0, 0);
  ASSERT_OK(row);
  EXPECT_EQ(row->work, SgemmPlan::Multiply);
  EXPECT_EQ(row->lda, 3);
  EXPECT_EQ(row->ldb, 4);
  EXPECT_EQ(row->ldc, 4);
}

using SgemmFn = void (*)(int64_t, int64_t, int64_t, int64_t, int64_t, int64_t,
                         int64_t, int64_t, int64_t, int64_t, int64_t, int64_t,
                         int64_t, int64_t, int64_t, float);

int64_t address(const void *p) {
  return static_cast<int64_t>(reinterpret_cast<intptr_t>(p));
}

TEST(SgemmPlanTest, BothBindingsRejectTheSameCall) {
  std::vector<float> a(16, 1.0f), b(16, 1.0f), c(16, 7.0f);
  auto cuda =
      reinterpret_cast<SgemmFn>(cudaRuntimeSymbols().at("uoe_sgemm_batched"));
  (void)takeCpuBlasError();
  (void)takeCudaRuntimeError();
  for (SgemmFn sgemm : {&uoe_sgemm_batched, cuda})
    sgemm(1, 4, 4, 4, address(a.data()), 2, 0, 0, address(b.data()), 4, 0, 0,
          address(c.data()), 4, 0, 0.0f);
  Status cpuError = takeCpuBlasError();
  Status cudaError = takeCudaRuntimeError();
  EXPECT_TRUE(hasError(cpuError, StatusCode::Internal,
                       {"uoe_sgemm_batched: lda = 2 is less than the 4 "
                        "columns of the stored matrix"}));
  EXPECT_TRUE(hasError(cudaError, StatusCode::Internal,
                       {"uoe_sgemm_batched: lda = 2 is less than the 4 "
                        "columns of the stored matrix"}));
  for (float v : c)
    EXPECT_EQ(v, 7.0f);
}

//===----------------------------------------------------------------------===//
// The runtime functions
//===----------------------------------------------------------------------===//

TEST(CudaRuntimeTest, BindsEveryFunctionWithoutExportingIt) {
  const SymbolMap &symbols = cudaRuntimeSymbols();
  for (const char *name :
       {"mgpuModuleLoad", "mgpuModuleLoadJIT", "mgpuModuleUnload",
        "mgpuModuleGetFunction", "mgpuStreamCreate", "mgpuStreamDestroy",
        "mgpuStreamSynchronize", "mgpuLaunchKernel",
        "_mlir_memref_to_llvm_alloc", "_mlir_memref_to_llvm_aligned_alloc",
        "_mlir_memref_to_llvm_free", "memrefCopy", "uoe_sgemm_batched"}) {
    auto it = symbols.find(name);
    ASSERT_NE(it, symbols.end()) << name;
    EXPECT_NE(it->second, nullptr) << name;
  }
  EXPECT_EQ(symbols.size(), 13u);
  // memrefCopy is the host's; the allocation functions and the GEMM are not.
  EXPECT_EQ(symbols.at("memrefCopy"), reinterpret_cast<void *>(&memrefCopy));
  EXPECT_NE(symbols.at("_mlir_memref_to_llvm_alloc"),
            reinterpret_cast<void *>(&_mlir_memref_to_llvm_alloc));
  EXPECT_NE(symbols.at("uoe_sgemm_batched"),
            reinterpret_cast<void *>(&uoe_sgemm_batched));
  // Nothing in the process answers to MLIR's GPU runtime names.
  EXPECT_EQ(dlsym(RTLD_DEFAULT, "mgpuLaunchKernel"), nullptr);
  EXPECT_EQ(dlsym(RTLD_DEFAULT, "mgpuModuleLoadJIT"), nullptr);
}

TEST(CudaRuntimeTest, CallsOutsideAProgramAreRecordedFailures) {
  const SymbolMap &symbols = cudaRuntimeSymbols();
  (void)takeCudaRuntimeError();
  auto streamCreate =
      reinterpret_cast<void *(*)()>(symbols.at("mgpuStreamCreate"));
  auto alloc = reinterpret_cast<void *(*)(size_t)>(
      symbols.at("_mlir_memref_to_llvm_alloc"));
  auto free = reinterpret_cast<void (*)(void *)>(
      symbols.at("_mlir_memref_to_llvm_free"));
  free(nullptr); // always fine
  EXPECT_OK(takeCudaRuntimeError());
  EXPECT_EQ(streamCreate(), nullptr);
  EXPECT_EQ(alloc(64), nullptr);
  Status status = takeCudaRuntimeError();
  EXPECT_TRUE(hasError(status, StatusCode::FailedPrecondition,
                       {"mgpuStreamCreate called with no CUDA context current",
                        "(and 1 more failure(s))"}));
  // Taking the error resets the record.
  EXPECT_OK(takeCudaRuntimeError());
}

TEST(CudaRuntimeTest, NamesCublasStatuses) {
#ifdef UOE_HAVE_CUDA_HEADERS
#define UOE_CHECK_CUBLAS(code) EXPECT_EQ(cublasStatusName(code), #code)
#else
#define UOE_CHECK_CUBLAS(code)
#endif
  UOE_CHECK_CUBLAS(CUBLAS_STATUS_SUCCESS);
  UOE_CHECK_CUBLAS(CUBLAS_STATUS_NOT_INITIALIZED);
  UOE_CHECK_CUBLAS(CUBLAS_STATUS_ALLOC_FAILED);
  UOE_CHECK_CUBLAS(CUBLAS_STATUS_INVALID_VALUE);
  UOE_CHECK_CUBLAS(CUBLAS_STATUS_ARCH_MISMATCH);
  UOE_CHECK_CUBLAS(CUBLAS_STATUS_MAPPING_ERROR);
  UOE_CHECK_CUBLAS(CUBLAS_STATUS_EXECUTION_FAILED);
  UOE_CHECK_CUBLAS(CUBLAS_STATUS_INTERNAL_ERROR);
  UOE_CHECK_CUBLAS(CUBLAS_STATUS_NOT_SUPPORTED);
  UOE_CHECK_CUBLAS(CUBLAS_STATUS_LICENSE_ERROR);
#undef UOE_CHECK_CUBLAS
  EXPECT_EQ(cublasStatusName(13), "CUBLAS_STATUS_EXECUTION_FAILED");
  EXPECT_EQ(cublasStatusName(4242), "CUBLAS_STATUS_4242");
}

//===----------------------------------------------------------------------===//
// CpuProgram's memory hooks (what CudaProgram runs on), with the committed
// x86-64 Executable
//===----------------------------------------------------------------------===//

std::string inputPath(const char *name) {
  return std::string(UOE_RUNTIME_TEST_INPUTS) + "/" + name;
}

/// Stages copies in its own buffers and counts every hook; the copies are
/// poisoned when given back, so that a buffer used after unstage() shows.
class CopyingMemory final : public ProgramMemory {
public:
  StatusOr<void *> stage(const HostTensor &tensor) override {
    if (failStage == ++stages)
      return internalError("no room");
    void *buffer = std::malloc(std::max<size_t>(tensor.sizeInBytes(), 1));
    std::memcpy(buffer, tensor.rawData(), tensor.sizeInBytes());
    sizes[buffer] = tensor.sizeInBytes();
    originals.insert(tensor.rawData());
    return buffer;
  }
  Status restage(void *buffer, const HostTensor &tensor) override {
    ++restages;
    std::memcpy(buffer, tensor.rawData(), tensor.sizeInBytes());
    return okStatus();
  }
  void unstage(void *buffer) override {
    EXPECT_EQ(sizes.count(buffer), 1u);
    std::memset(buffer, 0xff, sizes[buffer]);
    sizes.erase(buffer);
    std::free(buffer);
  }
  void beginRun() override { ++begins; }
  Status endRun() override {
    ++ends;
    return okStatus();
  }
  void releaseResult(void *allocated) override {
    EXPECT_EQ(sizes.count(allocated), 0u) << "a staged buffer came back";
    ++releases;
    _mlir_memref_to_llvm_free(allocated);
  }

  int stages = 0, restages = 0, begins = 0, ends = 0, releases = 0;
  int failStage = -1;
  std::map<void *, size_t> sizes; ///< live staged buffers
  std::set<const void *> originals;
};

TEST(ProgramMemoryTest, StagedCopiesRunLikeTheHostTensors) {
#if !defined(__x86_64__)
  GTEST_SKIP() << "the committed Executable holds x86-64 code";
#endif
  auto executable = loadExecutable(inputPath(test::kSavedExecutableFile));
  ASSERT_OK(executable);
  auto entry = findEntryPoint(*executable, "forward");
  ASSERT_OK(entry);
  std::vector<HostTensor> inputs = test::savedInputs(**entry);
  auto expected = readNpy(inputPath(test::kSavedExpectedFile));
  ASSERT_OK(expected);

  ElfObjectLoader loader;
  CopyingMemory memory;
  {
    auto program =
        CpuProgram::load(*executable, loader, cpuRuntimeSymbols(), memory);
    ASSERT_OK(program);
    ASSERT_OK(
        (*program)->bindParameters("forward", test::savedParameters(**entry)));
    int parameters = (*entry)->parameters_size();
    EXPECT_EQ(memory.stages, parameters);
    for (int run = 1; run <= 2; ++run) {
      auto results = (*program)->run("forward", inputs);
      ASSERT_OK(results);
      EXPECT_EQ(test::compareWithExpected((*results)[0], *expected), "");
      // Each input was staged for the run and given back after it.
      EXPECT_EQ(memory.stages, parameters + run * (*entry)->inputs_size());
      EXPECT_EQ(static_cast<int>(memory.sizes.size()), parameters);
      EXPECT_EQ(memory.begins, run);
      EXPECT_EQ(memory.ends, run);
      EXPECT_EQ(memory.releases, run * (*entry)->results_size());
    }
    EXPECT_EQ(memory.restages, 0); // a forward pass updates nothing
    // Binding again gives the old buffers back.
    ASSERT_OK(
        (*program)->bindParameters("forward", test::savedParameters(**entry)));
    EXPECT_EQ(static_cast<int>(memory.sizes.size()), parameters);
  }
  // The program gave every staged buffer back.
  EXPECT_TRUE(memory.sizes.empty());
}

TEST(ProgramMemoryTest, AStagingFailureNamesTheTensorAndLeaksNothing) {
#if !defined(__x86_64__)
  GTEST_SKIP() << "the committed Executable holds x86-64 code";
#endif
  auto executable = loadExecutable(inputPath(test::kSavedExecutableFile));
  ASSERT_OK(executable);
  auto entry = findEntryPoint(*executable, "forward");
  ASSERT_OK(entry);
  ElfObjectLoader loader;
  CopyingMemory memory;
  auto program =
      CpuProgram::load(*executable, loader, cpuRuntimeSymbols(), memory);
  ASSERT_OK(program);
  // The second parameter (in name order) cannot be staged.
  memory.failStage = 2;
  Status bind =
      (*program)->bindParameters("forward", test::savedParameters(**entry));
  EXPECT_TRUE(hasError(bind, StatusCode::Internal, {"weight '", "no room"}));
  EXPECT_TRUE(memory.sizes.empty());
  auto noWeights = (*program)->run("forward", test::savedInputs(**entry));
  EXPECT_TRUE(hasError(noWeights.status(), StatusCode::FailedPrecondition,
                       {"no weights are bound"}));

  memory.failStage = -1;
  ASSERT_OK(
      (*program)->bindParameters("forward", test::savedParameters(**entry)));
  memory.failStage = memory.stages + 1;
  auto run = (*program)->run("forward", test::savedInputs(**entry));
  EXPECT_TRUE(
      hasError(run.status(), StatusCode::Internal, {"input '", "no room"}));
  EXPECT_EQ(static_cast<int>(memory.sizes.size()), (*entry)->parameters_size());
  EXPECT_EQ(memory.begins, 0); // nothing ran
}

//===----------------------------------------------------------------------===//
// On the fake driver (FakeCudaDriver.cpp: one "Fake GPU", sm_80, host memory)
//===----------------------------------------------------------------------===//

/// The fake driver, opened once for the process, and its count of blocks
/// not freed.
struct FakeDriver {
  std::unique_ptr<CudaDriver> driver;
  int (*liveAllocations)() = nullptr;
  void (*setTotalMemory)(size_t) = nullptr;
};

const FakeDriver &fakeDriver() {
  static const FakeDriver *fake = [] {
    auto *f = new FakeDriver();
    auto driver = CudaDriver::open(UOE_FAKE_CUDA_DRIVER);
    EXPECT_OK(driver);
    if (driver.ok())
      f->driver = std::move(*driver);
    void *handle = dlopen(UOE_FAKE_CUDA_DRIVER, RTLD_NOW | RTLD_LOCAL);
    f->liveAllocations = reinterpret_cast<int (*)()>(
        handle ? dlsym(handle, "fakeCudaLiveAllocations") : nullptr);
    f->setTotalMemory = reinterpret_cast<void (*)(size_t)>(
        handle ? dlsym(handle, "fakeCudaSetTotalMemory") : nullptr);
    return f;
  }();
  return *fake;
}

TEST(FakeCudaTest, ContextAllocatesManagedMemoryAndCachesIt) {
  const FakeDriver &fake = fakeDriver();
  ASSERT_TRUE(fake.driver && fake.liveAllocations);
  int before = fake.liveAllocations();
  {
    auto context = CudaContext::create(*fake.driver, 0);
    ASSERT_OK(context);
    CudaContextScope scope(**context);
    ASSERT_OK(scope.status());
    auto a = (*context)->allocate(1000);
    ASSERT_OK(a);
    EXPECT_EQ(fake.liveAllocations(), before + 1);
    ASSERT_OK((*context)->release(*a));
    EXPECT_EQ((*context)->cachedBytes(), 1024u);
    auto b = (*context)->allocate(1024);
    ASSERT_OK(b);
    EXPECT_EQ(*b, *a);
    EXPECT_EQ(fake.liveAllocations(), before + 1); // from the cache
    auto wide = (*context)->allocate(10, 4096);
    ASSERT_OK(wide);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(*wide) % 4096, 0u);
    ASSERT_OK((*context)->release(*wide));
    EXPECT_EQ(fake.liveAllocations(), before + 1); // not cached
    EXPECT_TRUE(hasError((*context)->release(*wide),
                         StatusCode::InvalidArgument, {"not a live block"}));
    EXPECT_TRUE(hasError((*context)->allocate(8, 24).status(),
                         StatusCode::InvalidArgument, {"not a power of two"}));
    // A live block is freed with the context.
  }
  EXPECT_EQ(fake.liveAllocations(), before);
}

TEST(FakeCudaTest, NeverAsksForMoreThanTheDeviceHasFree) {
  const FakeDriver &fake = fakeDriver();
  ASSERT_TRUE(fake.driver && fake.liveAllocations && fake.setTotalMemory);
  fake.setTotalMemory(size_t(1) << 20); // a 1 MiB device
  {
    auto context = CudaContext::create(*fake.driver, 0);
    ASSERT_OK(context);
    CudaContextScope scope(**context);
    ASSERT_OK(scope.status());
    int before = fake.liveAllocations();
    // More than the device has: a clear error, and no driver allocation.
    EXPECT_TRUE(hasError((*context)->allocate(size_t(2) << 20).status(),
                         StatusCode::Unavailable,
                         {"out of GPU memory", "allocating 2097152 bytes",
                          "cuda:0 has 1048576 of 1048576 bytes free"}));
    EXPECT_EQ(fake.liveAllocations(), before);
    // What fits is allocated; released, it stays in the cache.
    auto half = (*context)->allocate(size_t(512) << 10);
    ASSERT_OK(half);
    ASSERT_OK((*context)->release(*half));
    EXPECT_EQ((*context)->cachedBytes(), size_t(512) << 10);
    // 768 KiB fits only once the cached block is given back.
    auto most = (*context)->allocate(size_t(768) << 10);
    ASSERT_OK(most);
    EXPECT_EQ((*context)->cachedBytes(), 0u);
    // The rest of the device is not enough for another 512 KiB.
    EXPECT_TRUE(hasError((*context)->allocate(size_t(512) << 10).status(),
                         StatusCode::Unavailable,
                         {"out of GPU memory", "262144 of 1048576 bytes"}));
    ASSERT_OK((*context)->release(*most));
  }
  fake.setTotalMemory(size_t(80) << 30);
}

/// The runtime functions of cudaRuntimeSymbols() that compiled code calls,
/// with the types it calls them with.
struct RuntimeFunctions {
  using LaunchKernel = void (*)(void *, intptr_t, intptr_t, intptr_t, intptr_t,
                                intptr_t, intptr_t, int32_t, void *, void **,
                                void **, size_t);
  template <typename F> static F get(const char *name) {
    return reinterpret_cast<F>(cudaRuntimeSymbols().at(name));
  }
  void *(*moduleLoadJit)(void *, int) =
      get<void *(*)(void *, int)>("mgpuModuleLoadJIT");
  void *(*moduleGetFunction)(void *, const char *) =
      get<void *(*)(void *, const char *)>("mgpuModuleGetFunction");
  void (*moduleUnload)(void *) = get<void (*)(void *)>("mgpuModuleUnload");
  void *(*streamCreate)() = get<void *(*)()>("mgpuStreamCreate");
  void (*streamSynchronize)(void *) =
      get<void (*)(void *)>("mgpuStreamSynchronize");
  void (*streamDestroy)(void *) = get<void (*)(void *)>("mgpuStreamDestroy");
  LaunchKernel launchKernel = get<LaunchKernel>("mgpuLaunchKernel");
  void *(*alloc)(size_t) = get<void *(*)(size_t)>("_mlir_memref_to_llvm_alloc");
  void (*free)(void *) = get<void (*)(void *)>("_mlir_memref_to_llvm_free");
};

TEST(FakeCudaTest, RuntimeFunctionsLoadLookUpAndLaunch) {
  const FakeDriver &fake = fakeDriver();
  ASSERT_TRUE(fake.driver);
  const RuntimeFunctions fn;

  auto context = CudaContext::create(*fake.driver, 0);
  ASSERT_OK(context);
  CudaContextScope scope(**context);
  ASSERT_OK(scope.status());
  (void)takeCudaRuntimeError();

  // A JIT failure carries the JIT's log.
  std::string bad = "garbage";
  EXPECT_EQ(fn.moduleLoadJit(bad.data(), 3), nullptr);
  EXPECT_TRUE(hasError(takeCudaRuntimeError(), StatusCode::Internal,
                       {"cuModuleLoadDataEx failed: CUDA_ERROR_INVALID_PTX "
                        "(fake driver error) JIT-compiling PTX: ptxas fatal   "
                        ": fake syntax error"}));

  std::string ptx = ".version 7.0";
  void *module = fn.moduleLoadJit(ptx.data(), 3);
  ASSERT_NE(module, nullptr);
  void *function = fn.moduleGetFunction(module, "add_f32");
  ASSERT_NE(function, nullptr);
  EXPECT_EQ(fn.moduleGetFunction(module, "add_f32"), function);
  EXPECT_EQ(fn.moduleGetFunction(module, "missing"), nullptr);
  EXPECT_TRUE(hasError(takeCudaRuntimeError(), StatusCode::Internal,
                       {"cuModuleGetFunction failed: CUDA_ERROR_NOT_FOUND",
                        "looking up kernel missing"}));

  constexpr uint32_t n = 300;
  auto *a = static_cast<float *>(fn.alloc(n * 4));
  auto *b = static_cast<float *>(fn.alloc(n * 4));
  auto *out = static_cast<float *>(fn.alloc(n * 4));
  ASSERT_TRUE(a && b && out);
  for (uint32_t i = 0; i < n; ++i) {
    a[i] = float(i);
    b[i] = 0.25f;
  }
  uint32_t count = n;
  void *params[] = {&a, &b, &out, &count};
  void *stream = fn.streamCreate();
  ASSERT_EQ(stream, (*context)->stream());
  fn.launchKernel(function, 3, 1, 1, 128, 1, 1, 0, stream, params, nullptr, 4);
  fn.streamSynchronize(stream);
  ASSERT_OK(takeCudaRuntimeError());
  for (uint32_t i = 0; i < n; ++i)
    ASSERT_EQ(out[i], float(i) + 0.25f);

  // The first failure names the kernel; the launch after it is skipped.
  out[0] = -1.0f;
  fn.launchKernel(function, 1, 1, 1, 2048, 1, 1, 0, stream, params, nullptr, 4);
  fn.launchKernel(function, 3, 1, 1, 128, 1, 1, 0, stream, params, nullptr, 4);
  EXPECT_EQ(out[0], -1.0f);
  fn.launchKernel(function, -1, 1, 1, 1, 1, 1, 0, stream, params, nullptr, 4);
  Status status = takeCudaRuntimeError();
  EXPECT_TRUE(hasError(status, StatusCode::InvalidArgument,
                       {"cuLaunchKernel failed: CUDA_ERROR_INVALID_VALUE "
                        "(fake driver error) launching kernel add_f32"}));
  EXPECT_EQ(status.message().find("more failure"), std::string::npos);
  fn.launchKernel(function, -1, 1, 1, 1, 1, 1, 0, stream, params, nullptr, 4);
  EXPECT_TRUE(hasError(takeCudaRuntimeError(), StatusCode::InvalidArgument,
                       {"grid (-1, 1, 1)", "out of range for kernel add_f32"}));

  fn.free(a);
  fn.free(b);
  fn.free(out);
  int bogus = 0;
  fn.free(&bogus);
  EXPECT_TRUE(hasError(
      takeCudaRuntimeError(), StatusCode::InvalidArgument,
      {"_mlir_memref_to_llvm_free: cannot release", "not a live block"}));
  fn.moduleUnload(module);
  EXPECT_OK(takeCudaRuntimeError());
}

/// The committed Executable, relabelled as compiled for `target`.
StatusOr<proto::Executable> savedExecutableFor(const std::string &target) {
  UOE_ASSIGN_OR_RETURN(proto::Executable executable,
                       loadExecutable(inputPath(test::kSavedExecutableFile)));
  executable.set_target(target);
  return executable;
}

TEST(FakeCudaTest, CudaProgramChecksTheDevice) {
  const FakeDriver &fake = fakeDriver();
  ASSERT_TRUE(fake.driver);
  auto newer = savedExecutableFor("cuda:sm_90");
  ASSERT_OK(newer);
  ElfObjectLoader loader;
  EXPECT_TRUE(hasError(
      CudaProgram::load(*newer, loader, *fake.driver, 0).status(),
      StatusCode::FailedPrecondition,
      {"compiled for sm_90 but cuda:0 (Fake GPU) is sm_80; compile with "
       "--target sm_80"}));
  auto ok = savedExecutableFor("cuda:sm_80");
  ASSERT_OK(ok);
  EXPECT_TRUE(hasError(CudaProgram::load(*ok, loader, *fake.driver, 1).status(),
                       StatusCode::InvalidArgument,
                       {"there is no device cuda:1; this machine has 1 CUDA "
                        "device(s)"}));
}

TEST(FakeCudaTest, CudaProgramStagesIntoManagedMemory) {
#if !defined(__x86_64__)
  GTEST_SKIP() << "the committed Executable holds x86-64 code";
#endif
  // The model's GEMMs go to cuBLAS, which runs on the real driver: with a
  // GPU present it would get the fake driver's streams and host memory.
  if (CudaDriver::load().ok())
    GTEST_SKIP() << "a real CUDA driver is present; CudaGpuTest runs there";
  const FakeDriver &fake = fakeDriver();
  ASSERT_TRUE(fake.driver && fake.liveAllocations);
  auto executable = savedExecutableFor("cuda:sm_80");
  ASSERT_OK(executable);
  auto entry = findEntryPoint(*executable, "forward");
  ASSERT_OK(entry);
  int before = fake.liveAllocations();
  ElfObjectLoader loader;
  {
    auto program = CudaProgram::load(*executable, loader, *fake.driver, 0);
    ASSERT_OK(program);
    EXPECT_EQ((*program)->device().name, "Fake GPU");
    EXPECT_EQ((*program)->executable().target(), "cuda:sm_80");
    ASSERT_OK(
        (*program)->bindParameters("forward", test::savedParameters(**entry)));
    // One block of managed memory per parameter.
    EXPECT_EQ(fake.liveAllocations(), before + (*entry)->parameters_size());
    auto bound =
        (*program)->boundParameter("forward", (*entry)->parameters(0).name());
    ASSERT_OK(bound);
    // cuBLAS cannot run on the fake driver (or is not installed): the run
    // fails with cuBLAS's error, and gives its buffers back.
    auto results = (*program)->run("forward", test::savedInputs(**entry));
    ASSERT_FALSE(results.ok());
    EXPECT_NE(results.status().message().find("ublas"), std::string::npos)
        << results.status().toString();
    // Later runs fail the same way (the failure does not stick).
    auto again = (*program)->run("forward", test::savedInputs(**entry));
    EXPECT_EQ(again.status().toString(), results.status().toString());
  }
  // Everything went back to the driver with the program.
  EXPECT_EQ(fake.liveAllocations(), before);
}

//===----------------------------------------------------------------------===//
// With a GPU
//===----------------------------------------------------------------------===//

/// The driver and a context on cuda:0, or a skip.
#define UOE_REQUIRE_GPU(context)                                               \
  auto uoeDriver = CudaDriver::load();                                         \
  if (!uoeDriver.ok())                                                         \
    GTEST_SKIP() << "no CUDA device: " << uoeDriver.status().message();        \
  auto context##OrError = CudaContext::create(**uoeDriver, 0);                 \
  ASSERT_OK(context##OrError);                                                 \
  CudaContext &context = **context##OrError

TEST(CudaGpuTest, ManagedMemoryIsCachedBySize) {
  UOE_REQUIRE_GPU(context);
  CudaContextScope scope(context);
  ASSERT_OK(scope.status());
  auto a = context.allocate(1000);
  ASSERT_OK(a);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(*a) % CudaContext::kAlignment, 0u);
  // The host may use managed memory directly.
  std::memset(*a, 1, 1000);
  EXPECT_EQ(context.liveBlocks(), 1u);
  ASSERT_OK(context.release(*a));
  EXPECT_EQ(context.cachedBytes(), 1024u);
  // The same rounded size reuses the block; another size does not.
  auto b = context.allocate(1024);
  ASSERT_OK(b);
  EXPECT_EQ(*b, *a);
  EXPECT_EQ(context.cachedBytes(), 0u);
  auto c = context.allocate(0);
  ASSERT_OK(c);
  EXPECT_NE(*c, *b);
  auto wide = context.allocate(100, 4096);
  ASSERT_OK(wide);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(*wide) % 4096, 0u);
  ASSERT_OK(context.release(*wide));
  EXPECT_EQ(context.cachedBytes(), 0u); // over-aligned blocks are not cached
  EXPECT_TRUE(hasError(context.release(*wide), StatusCode::InvalidArgument,
                       {"not a live block"}));
  ASSERT_OK(context.release(*b));
  ASSERT_OK(context.release(*c));
  EXPECT_EQ(context.liveBlocks(), 0u);
  ASSERT_OK(context.trimCache());
  EXPECT_EQ(context.cachedBytes(), 0u);

  // Through the symbol map, as compiled code allocates.
  auto alloc = reinterpret_cast<void *(*)(size_t)>(
      cudaRuntimeSymbols().at("_mlir_memref_to_llvm_alloc"));
  auto alignedAlloc = reinterpret_cast<void *(*)(size_t, size_t)>(
      cudaRuntimeSymbols().at("_mlir_memref_to_llvm_aligned_alloc"));
  auto free = reinterpret_cast<void (*)(void *)>(
      cudaRuntimeSymbols().at("_mlir_memref_to_llvm_free"));
  void *p = alloc(4000);
  ASSERT_NE(p, nullptr);
  free(p);
  EXPECT_EQ(alignedAlloc(64, 4096), p);
  free(p);
  free(nullptr);
  EXPECT_OK(takeCudaRuntimeError());
}

/// out[i] = a[i] + b[i] for i < n, one thread per element (PTX ISA 7.0,
/// sm_80; checked with ptxas).
constexpr const char *kAddPtx = R"(
.version 7.0
.target sm_80
.address_size 64

.visible .entry add_f32(
    .param .u64 add_f32_a,
    .param .u64 add_f32_b,
    .param .u64 add_f32_c,
    .param .u32 add_f32_n)
{
    .reg .pred %p<2>;
    .reg .b32 %r<6>;
    .reg .f32 %f<4>;
    .reg .b64 %rd<11>;

    ld.param.u64 %rd1, [add_f32_a];
    ld.param.u64 %rd2, [add_f32_b];
    ld.param.u64 %rd3, [add_f32_c];
    ld.param.u32 %r1, [add_f32_n];
    mov.u32 %r2, %ctaid.x;
    mov.u32 %r3, %ntid.x;
    mov.u32 %r4, %tid.x;
    mad.lo.s32 %r5, %r2, %r3, %r4;
    setp.ge.u32 %p1, %r5, %r1;
    @%p1 bra DONE;
    cvta.to.global.u64 %rd4, %rd1;
    cvta.to.global.u64 %rd5, %rd2;
    cvta.to.global.u64 %rd6, %rd3;
    mul.wide.u32 %rd7, %r5, 4;
    add.s64 %rd8, %rd4, %rd7;
    add.s64 %rd9, %rd5, %rd7;
    add.s64 %rd10, %rd6, %rd7;
    ld.global.f32 %f1, [%rd8];
    ld.global.f32 %f2, [%rd9];
    add.f32 %f3, %f1, %f2;
    st.global.f32 [%rd10], %f3;
DONE:
    ret;
}
)";

TEST(CudaGpuTest, LaunchesAJitCompiledKernelAsCompiledCodeDoes) {
  UOE_REQUIRE_GPU(context);
  const RuntimeFunctions fn;

  CudaContextScope scope(context);
  ASSERT_OK(scope.status());
  (void)takeCudaRuntimeError();
  std::string ptx = kAddPtx;
  void *module = fn.moduleLoadJit(ptx.data(), 2);
  ASSERT_OK(takeCudaRuntimeError());
  ASSERT_NE(module, nullptr);
  void *function = fn.moduleGetFunction(module, "add_f32");
  ASSERT_NE(function, nullptr);
  // The lookup before every launch is served from the cache.
  EXPECT_EQ(fn.moduleGetFunction(module, "add_f32"), function);

  constexpr uint32_t n = 1000;
  auto *a = static_cast<float *>(fn.alloc(n * sizeof(float)));
  auto *b = static_cast<float *>(fn.alloc(n * sizeof(float)));
  auto *out = static_cast<float *>(fn.alloc(n * sizeof(float)));
  ASSERT_TRUE(a && b && out);
  for (uint32_t i = 0; i < n; ++i) {
    a[i] = 0.5f * i;
    b[i] = 1000.0f - i;
    out[i] = -1.0f;
  }
  for (int launch = 0; launch < 2; ++launch) {
    void *stream = fn.streamCreate();
    ASSERT_NE(stream, nullptr);
    uint32_t count = n;
    void *params[] = {&a, &b, &out, &count};
    fn.launchKernel(function, (n + 127) / 128, 1, 1, 128, 1, 1, 0, stream,
                    params, nullptr, 4);
    fn.streamSynchronize(stream);
    fn.streamDestroy(stream);
    // One stream for every launch.
    EXPECT_EQ(fn.streamCreate(), stream);
  }
  ASSERT_OK(takeCudaRuntimeError());
  for (uint32_t i = 0; i < n; ++i)
    ASSERT_EQ(out[i], 0.5f * i + (1000.0f - i)) << i;

  // A failed launch names the call and the kernel, and later launches are
  // skipped until the error is taken.
  uint32_t count = n;
  void *params[] = {&a, &b, &out, &count};
  fn.launchKernel(function, 1, 1, 1, 4096, 1, 1, 0, fn.streamCreate(), params,
                  nullptr, 4);
  fn.launchKernel(function, 1, 1, 1, 128, 1, 1, 0, fn.streamCreate(), params,
                  nullptr, 4);
  EXPECT_TRUE(hasError(takeCudaRuntimeError(), StatusCode::InvalidArgument,
                       {"cuLaunchKernel failed: CUDA_ERROR_INVALID_VALUE",
                        "launching kernel add_f32"}));
  fn.free(a);
  fn.free(b);
  fn.free(out);
  fn.moduleUnload(module);
  EXPECT_OK(takeCudaRuntimeError());
}

TEST(CudaGpuTest, APtxErrorReportsTheJitLog) {
  UOE_REQUIRE_GPU(context);
  auto moduleLoadJit = reinterpret_cast<void *(*)(void *, int)>(
      cudaRuntimeSymbols().at("mgpuModuleLoadJIT"));
  CudaContextScope scope(context);
  ASSERT_OK(scope.status());
  (void)takeCudaRuntimeError();
  std::string ptx = kAddPtx;
  ptx.replace(ptx.find("add.f32 %f3"), 7, "frob.f32");
  EXPECT_EQ(moduleLoadJit(ptx.data(), 2), nullptr);
  Status status = takeCudaRuntimeError();
  EXPECT_TRUE(hasError(status, StatusCode::Internal,
                       {"cuModuleLoadDataEx failed: CUDA_ERROR_INVALID_PTX",
                        "JIT-compiling PTX: ", "frob"}));
}

/// C = op(A) op(B) + beta C for row-major matrices, in float64.
std::vector<double> referenceGemm(int64_t m, int64_t n, int64_t k,
                                  const float *a, int64_t lda, bool transA,
                                  const float *b, int64_t ldb, bool transB,
                                  const float *c, int64_t ldc, float beta) {
  std::vector<double> out(m * n);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double sum = 0.0;
      for (int64_t p = 0; p < k; ++p)
        sum += double(transA ? a[p * lda + i] : a[i * lda + p]) *
               double(transB ? b[j * ldb + p] : b[p * ldb + j]);
      out[i * n + j] = sum + (beta == 0.0f ? 0.0 : beta * c[i * ldc + j]);
    }
  return out;
}

TEST(CudaGpuTest, SgemmOnCublasMatchesAFloat64Reference) {
  UOE_REQUIRE_GPU(context);
  auto sgemm =
      reinterpret_cast<SgemmFn>(cudaRuntimeSymbols().at("uoe_sgemm_batched"));
  CudaContextScope scope(context);
  ASSERT_OK(scope.status());
  (void)takeCudaRuntimeError();
  std::mt19937 random(42);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  struct Case {
    int64_t batch, m, n, k;
    bool transA, transB;
    float beta;
    int64_t pad; ///< extra elements per stored row
  } cases[] = {
      {1, 1, 1, 1, false, false, 0.0f, 0},
      {3, 7, 5, 13, false, false, 0.0f, 0},
      {2, 17, 31, 9, true, false, 1.0f, 3},
      {2, 33, 3, 65, false, true, 0.5f, 1},
      {5, 1, 19, 7, true, true, 0.0f, 2},
      {1, 129, 67, 257, true, true, 1.0f, 0},
      {4, 6, 5, 0, false, false, 0.5f, 0},
  };
  for (const Case &t : cases) {
    int64_t aRows = t.transA ? t.k : t.m, aCols = t.transA ? t.m : t.k;
    int64_t bRows = t.transB ? t.n : t.k, bCols = t.transB ? t.k : t.n;
    int64_t lda = aCols + t.pad, ldb = bCols + t.pad, ldc = t.n + t.pad;
    int64_t strideA = aRows * lda, strideB = bRows * ldb, strideC = t.m * ldc;
    auto make = [&](int64_t count) {
      auto buffer = context.allocate(std::max<int64_t>(count, 1) * 4);
      EXPECT_OK(buffer);
      auto *data = static_cast<float *>(*buffer);
      for (int64_t i = 0; i < count; ++i)
        data[i] = uniform(random);
      return data;
    };
    float *a = make(t.batch * strideA), *b = make(t.batch * strideB),
          *c = make(t.batch * strideC);
    std::vector<float> oldC(c, c + t.batch * strideC);
    sgemm(t.batch, t.m, t.n, t.k, address(a), lda, strideA, t.transA,
          address(b), ldb, strideB, t.transB, address(c), ldc, strideC, t.beta);
    ASSERT_OK(takeCudaRuntimeError());
    for (int64_t i = 0; i < t.batch; ++i) {
      std::vector<double> want = referenceGemm(
          t.m, t.n, t.k, a + i * strideA, lda, t.transA, b + i * strideB, ldb,
          t.transB, oldC.data() + i * strideC, ldc, t.beta);
      for (int64_t r = 0; r < t.m; ++r)
        for (int64_t j = 0; j < t.n; ++j) {
          double got = c[i * strideC + r * ldc + j];
          double expected = want[r * t.n + j];
          ASSERT_LE(std::fabs(got - expected), 1e-4 * (1 + std::fabs(expected)))
              << "batch " << i << " (" << r << ", " << j << ") of " << t.m
              << "x" << t.n << "x" << t.k << " transA " << t.transA
              << " transB " << t.transB;
        }
      // The padding between rows is left alone.
      for (int64_t r = 0; r < t.m; ++r)
        for (int64_t j = t.n; j < ldc; ++j)
          ASSERT_EQ(c[i * strideC + r * ldc + j],
                    oldC[i * strideC + r * ldc + j]);
    }
    ASSERT_OK(context.release(a));
    ASSERT_OK(context.release(b));
    ASSERT_OK(context.release(c));
  }
}

} // namespace
} // namespace uoe::rt
