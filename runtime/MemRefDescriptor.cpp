//===- MemRefDescriptor.cpp - calling compiled CPU entry points -----------===//
//
// See MemRefDescriptor.h. Descriptors are kept as int64 words, the layout
// MLIR's LLVM lowering gives `!llvm.struct<(ptr, ptr, i64, array<N x i64>,
// array<N x i64>)>` on 64-bit hosts (pointers and i64 are both 8 bytes, so
// there is no padding).
//
//===----------------------------------------------------------------------===//

#include "runtime/MemRefDescriptor.h"

using namespace uoe::rt;

static_assert(sizeof(void *) == 8, "descriptors assume 64-bit pointers");

static int64_t addressOf(void *pointer) {
  return static_cast<int64_t>(reinterpret_cast<intptr_t>(pointer));
}

MemRefDescriptor MemRefDescriptor::rowMajor(void *data,
                                            std::vector<int64_t> shape) {
  std::vector<int64_t> strides(shape.size(), 1);
  for (size_t i = shape.size(); i > 1; --i)
    strides[i - 2] = strides[i - 1] * shape[i - 1];
  return MemRefDescriptor(data, data, 0, shape, strides);
}

MemRefDescriptor::MemRefDescriptor(void *allocated, void *aligned,
                                   int64_t offset,
                                   const std::vector<int64_t> &sizes,
                                   const std::vector<int64_t> &strides)
    : rank_(static_cast<int64_t>(sizes.size())) {
  words_.reserve(3 + 2 * sizes.size());
  words_.push_back(addressOf(allocated));
  words_.push_back(addressOf(aligned));
  words_.push_back(offset);
  words_.insert(words_.end(), sizes.begin(), sizes.end());
  words_.insert(words_.end(), strides.begin(), strides.end());
  // A shorter strides vector (a caller bug) still gives a full descriptor.
  words_.resize(3 + 2 * sizes.size(), 0);
}

MemRefDescriptor MemRefDescriptor::empty(int64_t rank) {
  MemRefDescriptor descriptor;
  descriptor.rank_ = rank;
  descriptor.words_.assign(3 + 2 * rank, 0);
  return descriptor;
}

MemRefDescriptor MemRefDescriptor::fromWords(const int64_t *words,
                                             int64_t rank) {
  MemRefDescriptor descriptor;
  descriptor.rank_ = rank;
  descriptor.words_.assign(words, words + 3 + 2 * rank);
  return descriptor;
}

void *MemRefDescriptor::allocated() const {
  return reinterpret_cast<void *>(static_cast<intptr_t>(words_[0]));
}

void *MemRefDescriptor::aligned() const {
  return reinterpret_cast<void *>(static_cast<intptr_t>(words_[1]));
}

std::vector<int64_t> MemRefDescriptor::sizes() const {
  return {words_.begin() + 3, words_.begin() + 3 + rank_};
}

std::vector<int64_t> MemRefDescriptor::strides() const {
  return {words_.begin() + 3 + rank_, words_.end()};
}

void *MemRefDescriptor::firstElement(size_t elementBytes) const {
  return static_cast<char *>(aligned()) +
         offset() * static_cast<int64_t>(elementBytes);
}

bool MemRefDescriptor::isRowMajor() const {
  int64_t expected = 1;
  for (int64_t i = rank_ - 1; i >= 0; --i) {
    int64_t size = words_[3 + i], stride = words_[3 + rank_ + i];
    if (size != 1 && stride != expected)
      return false;
    expected *= size;
  }
  return true;
}

void PackedArguments::addPointer(void *descriptor) {
  slots_.push_back(descriptor);
  args_.push_back(&slots_.back());
}

void PackedArguments::addScalar(void *value) { args_.push_back(value); }
