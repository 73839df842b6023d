//===- MemRefDescriptor.h - calling compiled CPU entry points ---*- C++ -*-===//
//
// The calling convention of compiled CPU code, as the runtime sees it
// (codegen/cpu/ObjectEmitter.h makes the code side of it):
//
// * A tensor crosses the boundary as MLIR's ranked memref descriptor: the
//   8-byte words {allocated pointer, aligned pointer, offset, sizes[rank],
//   strides[rank]}, offset and strides in elements. The element at
//   (i0, ..., in) is aligned[offset + sum(ik * strides[k])]. `allocated` is
//   what must be passed to free() when the callee allocated the buffer.
// * Every entry point is `void uoe_packed_<name>(void **args)`. args[i]
//   points to the i-th argument of the function's C interface: for a memref
//   that argument is a *pointer to* its descriptor, so args[i] points to a
//   pointer to the descriptor. When the function returns memrefs, the C
//   interface's first argument is a pointer to the result descriptors (laid
//   out one after the other, each 8-byte aligned), which the callee fills;
//   args[0] then points to that pointer and the inputs follow. A function
//   returning one scalar instead stores it to where args[n] points.
//
// MemRefDescriptor builds descriptors; PackedArguments builds `args`. Both
// only hold addresses: the buffers described must outlive the call.
//
//===----------------------------------------------------------------------===//

#ifndef UOE_RUNTIME_MEMREFDESCRIPTOR_H
#define UOE_RUNTIME_MEMREFDESCRIPTOR_H

#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

namespace uoe::rt {

/// A ranked memref descriptor in the memory layout compiled code uses.
/// Owns the descriptor words, not the buffer they describe. Movable; moving
/// keeps data() stable (the words live on the heap).
class MemRefDescriptor {
public:
  /// The size in bytes of a descriptor of `rank`: 8 * (3 + 2 * rank).
  static constexpr size_t sizeInBytes(int64_t rank) {
    return 8 * (3 + 2 * static_cast<size_t>(rank));
  }

  /// Describes the dense row-major (C order) buffer `data` of `shape`
  /// (non-negative sizes): allocated = aligned = data, offset 0, strides
  /// the suffix products of `shape`. Rank 0 describes a scalar.
  static MemRefDescriptor rowMajor(void *data, std::vector<int64_t> shape);

  /// Describes a strided view; `sizes` and `strides` have the same length.
  MemRefDescriptor(void *allocated, void *aligned, int64_t offset,
                   const std::vector<int64_t> &sizes,
                   const std::vector<int64_t> &strides);

  /// An all-zero descriptor of `rank`, for the callee to fill (a result).
  static MemRefDescriptor empty(int64_t rank);

  /// Reads a descriptor of `rank` from `words` (e.g. a result the callee
  /// wrote); `words` must hold 3 + 2 * rank int64 values.
  static MemRefDescriptor fromWords(const int64_t *words, int64_t rank);

  int64_t rank() const { return rank_; }
  void *allocated() const;
  void *aligned() const;
  int64_t offset() const { return words_[2]; }
  std::vector<int64_t> sizes() const;
  std::vector<int64_t> strides() const;
  /// aligned() advanced by offset() elements of `elementBytes` bytes.
  void *firstElement(size_t elementBytes) const;
  /// True for the row-major strides of sizes() (size-1 dimensions may have
  /// any stride).
  bool isRowMajor() const;

  /// The descriptor words, sizeInBytes(rank()) bytes; what a C-interface
  /// function takes a pointer to.
  void *data() { return words_.data(); }
  const void *data() const { return words_.data(); }

private:
  MemRefDescriptor() = default;
  int64_t rank_ = 0;
  std::vector<int64_t> words_;
};

/// The `void **args` array of a packed entry point. Push the C-interface
/// arguments in order, then call `entry(args.data())`. Owns the pointer
/// slots (their addresses stay stable as arguments are added), not what
/// they point to.
class PackedArguments {
public:
  /// Adds a memref (or result-struct) argument: args[i] points to a slot
  /// holding `descriptor`, the address of the descriptor words.
  void addPointer(void *descriptor);
  /// Adds `descriptor.data()`; the descriptor must outlive the call.
  void addMemRef(MemRefDescriptor &descriptor) {
    addPointer(descriptor.data());
  }
  /// Adds a scalar argument (or the slot of a scalar result): args[i] is
  /// `value`, which points to the scalar, suitably aligned for its type.
  void addScalar(void *value);

  /// The array to pass; valid until the next add.
  void **data() { return args_.data(); }
  size_t size() const { return args_.size(); }

private:
  std::deque<void *> slots_;
  std::vector<void *> args_;
};

} // namespace uoe::rt

#endif // UOE_RUNTIME_MEMREFDESCRIPTOR_H
