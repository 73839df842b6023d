//===- CpuAllocator.cpp - the heap of compiled CPU code ------------------===//
//
// A size-keyed cache in front of aligned_alloc. Live blocks are tracked in
// a map (pointer -> size) rather than a header, so that every block is a
// plain C-heap block that std::free also accepts.
//
//===----------------------------------------------------------------------===//

#include "runtime/CpuAllocator.h"

#include <cstdlib>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace {

constexpr size_t kAlignment = 64;

struct Cache {
  std::mutex mutex;
  std::unordered_map<void *, size_t> live;
  std::unordered_map<size_t, std::vector<void *>> free;
  size_t cachedBytes = 0;
};

Cache &cache() {
  // Leaked on purpose: compiled code may run during static destruction.
  static Cache *instance = new Cache();
  return *instance;
}

size_t roundUp(size_t size) {
  return (size + kAlignment - 1) / kAlignment * kAlignment;
}

} // namespace

extern "C" void *_mlir_memref_to_llvm_alloc(size_t size) {
  size_t bytes = roundUp(size == 0 ? 1 : size);
  Cache &c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  void *ptr = nullptr;
  auto it = c.free.find(bytes);
  if (it != c.free.end() && !it->second.empty()) {
    ptr = it->second.back();
    it->second.pop_back();
    c.cachedBytes -= bytes;
  } else {
    ptr = std::aligned_alloc(kAlignment, bytes);
    if (!ptr)
      return nullptr;
  }
  c.live[ptr] = bytes;
  return ptr;
}

extern "C" void *_mlir_memref_to_llvm_aligned_alloc(size_t alignment,
                                                   size_t size) {
  if (alignment <= kAlignment)
    return _mlir_memref_to_llvm_alloc(size);
  size_t bytes = (size + alignment - 1) / alignment * alignment;
  return std::aligned_alloc(alignment, bytes == 0 ? alignment : bytes);
}

extern "C" void _mlir_memref_to_llvm_free(void *ptr) {
  if (!ptr)
    return;
  Cache &c = cache();
  {
    std::lock_guard<std::mutex> lock(c.mutex);
    auto it = c.live.find(ptr);
    if (it != c.live.end()) {
      size_t bytes = it->second;
      c.live.erase(it);
      if (c.cachedBytes + bytes <= uoe::rt::kCpuAllocatorCacheLimit) {
        c.free[bytes].push_back(ptr);
        c.cachedBytes += bytes;
        return;
      }
    }
  }
  std::free(ptr);
}

void uoe::rt::releaseCpuAllocation(void *ptr) {
  if (!ptr)
    return;
  Cache &c = cache();
  {
    std::lock_guard<std::mutex> lock(c.mutex);
    c.live.erase(ptr);
  }
  std::free(ptr);
}

void uoe::rt::trimCpuAllocatorCache() {
  Cache &c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  for (auto &[bytes, blocks] : c.free)
    for (void *ptr : blocks)
      std::free(ptr);
  c.free.clear();
  c.cachedBytes = 0;
}

size_t uoe::rt::cpuAllocatorCachedBytes() {
  Cache &c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  return c.cachedBytes;
}
