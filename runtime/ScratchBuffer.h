//===- ScratchBuffer.h - a thread's growing scratch buffer ------*- C++ -*-===//
//
// The per-thread buffers of the CPU kernels (GEMM panels, fused tiles):
// 64-byte aligned, grown on demand, never shrunk; `get` returns null when
// memory runs out, so that a kernel can record an error instead of
// aborting. Declare them thread_local.
//
//===----------------------------------------------------------------------===//

#ifndef UOE_RUNTIME_SCRATCHBUFFER_H
#define UOE_RUNTIME_SCRATCHBUFFER_H

#include <cstddef>
#include <cstdlib>

namespace uoe::rt {

template <typename T> struct ScratchBuffer {
  T *data = nullptr;
  size_t size = 0;
  ~ScratchBuffer() { std::free(data); }
  /// At least `count` values (the old contents are lost when it grows).
  T *get(size_t count) {
    if (count > size) {
      std::free(data);
      size_t bytes = (count * sizeof(T) + 63) / 64 * 64;
      data = static_cast<T *>(std::aligned_alloc(64, bytes));
      size = data ? count : 0;
    }
    return data;
  }
};

} // namespace uoe::rt

#endif // UOE_RUNTIME_SCRATCHBUFFER_H
