//===- CpuAllocator.h - the heap of compiled CPU code -----------*- C++ -*-===//
//
// Compiled CPU code allocates its intermediate tensors and its results
// through MLIR's generic allocation functions (the CPU pipeline lowers
// memrefs with `use-generic-functions`), which the loader binds to the
// functions here (see cpuRuntimeSymbols() in runtime/CpuBlas.h). They keep
// freed blocks for reuse by size: a model runs the same allocations on
// every call, so from the second call on no memory comes from the operating
// system and no page is faulted in again. Blocks are 64-byte aligned.
//
// A block from _mlir_memref_to_llvm_alloc may be released with
// _mlir_memref_to_llvm_free (which caches it) or with std::free (which
// returns it to the C heap; this is allowed, but then call
// releaseCpuAllocation() instead, so that the cache forgets its size).
//
// Thread safety: all functions may be called from any thread.
//
//===----------------------------------------------------------------------===//

#ifndef UOE_RUNTIME_CPUALLOCATOR_H
#define UOE_RUNTIME_CPUALLOCATOR_H

#include <cstddef>
#include <cstdint>

extern "C" {

/// `size` bytes, 64-byte aligned (also for size 0: a unique block); null
/// when out of memory.
void *_mlir_memref_to_llvm_alloc(size_t size);

/// `size` bytes aligned to `alignment` (a power of two); alignments up to 64
/// come from the cache, larger ones from aligned_alloc directly.
void *_mlir_memref_to_llvm_aligned_alloc(size_t alignment, size_t size);

/// Releases a block of the two functions above into the cache (or to the C
/// heap when the cache is full); a pointer they did not return goes to
/// std::free. Null is ignored.
void _mlir_memref_to_llvm_free(void *ptr);

/// Copies the elements of one strided memref into another of the same
/// sizes, as MLIR's C runner utilities do: the lowering of `memref.copy`
/// calls it when either side is not contiguous. `src` and `dst` point to
/// unranked descriptors `{int64_t rank; void *ranked}`, the ranked ones
/// being `{allocated, aligned, offset, sizes[rank], strides[rank]}`.
void memrefCopy(int64_t elementSize, void *src, void *dst);

} // extern "C"

namespace uoe::rt {

/// Releases `ptr` (a block of _mlir_memref_to_llvm_alloc, or any
/// malloc'ed pointer) for good: to the C heap, not the cache.
void releaseCpuAllocation(void *ptr);

/// Returns every cached block to the C heap.
void trimCpuAllocatorCache();

/// The bytes held in the cache now (freed blocks kept for reuse).
size_t cpuAllocatorCachedBytes();

/// The most bytes the cache keeps; blocks freed beyond it go to the C heap.
inline constexpr size_t kCpuAllocatorCacheLimit = size_t(4) << 30;

} // namespace uoe::rt

#endif // UOE_RUNTIME_CPUALLOCATOR_H
