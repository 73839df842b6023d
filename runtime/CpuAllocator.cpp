//===- CpuAllocator.cpp - the heap of compiled CPU code ------------------===//
//
// A size-keyed cache in front of aligned_alloc. Live blocks are tracked in
// a map (pointer -> size) rather than a header, so that every block is a
// plain C-heap block that std::free also accepts.
//
//===----------------------------------------------------------------------===//

#include "runtime/CpuAllocator.h"

#include <cstdlib>
#include <cstring>
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

namespace {

/// A ranked memref descriptor, read through its words.
struct StridedView {
  char *aligned;
  int64_t offset;
  const int64_t *sizes;
  const int64_t *strides;
};

StridedView viewOf(void *unranked, int64_t *rank) {
  struct Unranked {
    int64_t rank;
    void *ranked;
  };
  auto *u = static_cast<Unranked *>(unranked);
  *rank = u->rank;
  auto *words = static_cast<int64_t *>(u->ranked);
  char *aligned = nullptr;
  std::memcpy(&aligned, &words[1], sizeof(aligned));
  return {aligned, words[2], words + 3, words + 3 + u->rank};
}

} // namespace

extern "C" void memrefCopy(int64_t elementSize, void *src, void *dst) {
  int64_t rank = 0, dstRank = 0;
  StridedView from = viewOf(src, &rank), to = viewOf(dst, &dstRank);
  if (rank != dstRank)
    return;
  char *in = from.aligned + from.offset * elementSize;
  char *out = to.aligned + to.offset * elementSize;
  int64_t count = 1;
  for (int64_t d = 0; d < rank; ++d)
    count *= from.sizes[d];
  if (count == 0)
    return;
  if (rank == 0) {
    std::memcpy(out, in, static_cast<size_t>(elementSize));
    return;
  }
  // Rows along the innermost dimension; whole rows at once where both
  // sides are contiguous there.
  int64_t inner = from.sizes[rank - 1];
  bool contiguous = from.strides[rank - 1] == 1 && to.strides[rank - 1] == 1;
  std::vector<int64_t> index(static_cast<size_t>(rank - 1), 0);
  for (int64_t row = 0; row < count / inner; ++row) {
    int64_t inOffset = 0, outOffset = 0;
    for (int64_t d = 0; d + 1 < rank; ++d) {
      inOffset += index[d] * from.strides[d];
      outOffset += index[d] * to.strides[d];
    }
    char *i = in + inOffset * elementSize, *o = out + outOffset * elementSize;
    if (contiguous) {
      std::memmove(o, i, static_cast<size_t>(inner * elementSize));
    } else {
      for (int64_t j = 0; j < inner; ++j)
        std::memmove(o + j * to.strides[rank - 1] * elementSize,
                     i + j * from.strides[rank - 1] * elementSize,
                     static_cast<size_t>(elementSize));
    }
    for (int64_t d = rank - 2; d >= 0; --d) {
      if (++index[d] < from.sizes[d])
        break;
      index[d] = 0;
    }
  }
}
