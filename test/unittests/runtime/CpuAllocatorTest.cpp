//===- CpuAllocatorTest.cpp - the heap of compiled CPU code --------------===//

#include "runtime/CpuAllocator.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <set>
#include <thread>
#include <vector>

using namespace uoe::rt;

namespace {

bool aligned(const void *p, size_t alignment) {
  return reinterpret_cast<uintptr_t>(p) % alignment == 0;
}

class CpuAllocatorTest : public ::testing::Test {
protected:
  void SetUp() override { trimCpuAllocatorCache(); }
  void TearDown() override { trimCpuAllocatorCache(); }
};

TEST_F(CpuAllocatorTest, BlocksAreAlignedAndWritable) {
  for (size_t size : {size_t(0), size_t(1), size_t(63), size_t(64),
                      size_t(1000), size_t(1) << 20}) {
    void *p = _mlir_memref_to_llvm_alloc(size);
    ASSERT_NE(p, nullptr) << size;
    EXPECT_TRUE(aligned(p, 64)) << size;
    std::memset(p, 0xab, size);
    _mlir_memref_to_llvm_free(p);
  }
}

TEST_F(CpuAllocatorTest, FreedBlocksAreReusedBySize) {
  void *a = _mlir_memref_to_llvm_alloc(4096);
  _mlir_memref_to_llvm_free(a);
  EXPECT_EQ(cpuAllocatorCachedBytes(), 4096u);
  // Sizes that round to the same 64-byte multiple share blocks.
  void *b = _mlir_memref_to_llvm_alloc(4090);
  EXPECT_EQ(a, b);
  EXPECT_EQ(cpuAllocatorCachedBytes(), 0u);
  void *c = _mlir_memref_to_llvm_alloc(4096);
  EXPECT_NE(b, c);
  _mlir_memref_to_llvm_free(b);
  _mlir_memref_to_llvm_free(c);
  EXPECT_EQ(cpuAllocatorCachedBytes(), 8192u);
  trimCpuAllocatorCache();
  EXPECT_EQ(cpuAllocatorCachedBytes(), 0u);
}

TEST_F(CpuAllocatorTest, LiveBlocksAreDistinct) {
  std::set<void *> seen;
  std::vector<void *> blocks;
  for (int i = 0; i < 100; ++i) {
    void *p = _mlir_memref_to_llvm_alloc(256);
    EXPECT_TRUE(seen.insert(p).second);
    blocks.push_back(p);
  }
  for (void *p : blocks)
    _mlir_memref_to_llvm_free(p);
  EXPECT_EQ(cpuAllocatorCachedBytes(), 100u * 256);
}

TEST_F(CpuAllocatorTest, LargeAlignmentsAndForeignPointers) {
  void *p = _mlir_memref_to_llvm_aligned_alloc(4096, 100);
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(aligned(p, 4096));
  _mlir_memref_to_llvm_free(p); // not from the cache: goes to std::free
  void *q = _mlir_memref_to_llvm_aligned_alloc(16, 100);
  EXPECT_TRUE(aligned(q, 64));
  _mlir_memref_to_llvm_free(q);
  void *foreign = std::malloc(32);
  _mlir_memref_to_llvm_free(foreign);
  _mlir_memref_to_llvm_free(nullptr);
  EXPECT_EQ(cpuAllocatorCachedBytes(), 128u); // only q, rounded up
}

TEST_F(CpuAllocatorTest, ReleasedBlocksLeaveTheCache) {
  void *p = _mlir_memref_to_llvm_alloc(512);
  releaseCpuAllocation(p);
  EXPECT_EQ(cpuAllocatorCachedBytes(), 0u);
}

TEST_F(CpuAllocatorTest, ConcurrentUse) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([t] {
      for (int i = 0; i < 1000; ++i) {
        size_t size = 64 * (1 + (i + t) % 7);
        auto *p = static_cast<unsigned char *>(_mlir_memref_to_llvm_alloc(size));
        std::memset(p, t, size);
        for (size_t j = 0; j < size; j += 61)
          ASSERT_EQ(p[j], t);
        _mlir_memref_to_llvm_free(p);
      }
    });
  for (std::thread &t : threads)
    t.join();
  EXPECT_LE(cpuAllocatorCachedBytes(), 4u * 7 * 64 * 7);
}

} // namespace
