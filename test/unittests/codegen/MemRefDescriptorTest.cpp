//===- MemRefDescriptorTest.cpp - descriptors and packed arguments -------===//
//
// The runtime side of the calling convention: descriptor words, row-major
// strides, reading a result back, and PackedArguments' pointer slots.
//
//===----------------------------------------------------------------------===//

#include "runtime/MemRefDescriptor.h"

#include "gtest/gtest.h"

#include <cstring>

using ::uoe::rt::MemRefDescriptor;
using ::uoe::rt::PackedArguments;

namespace {

// Tests the word layout {allocated, aligned, offset, sizes, strides}.
TEST(MemRefDescriptorTest, RowMajorLayout) {
  float data[2 * 3 * 4];
  auto d = MemRefDescriptor::rowMajor(data, {2, 3, 4});
  EXPECT_EQ(d.rank(), 3);
  EXPECT_EQ(MemRefDescriptor::sizeInBytes(3), 72u);
  int64_t words[9];
  std::memcpy(words, d.data(), sizeof(words));
  EXPECT_EQ(words[0], reinterpret_cast<intptr_t>(data));
  EXPECT_EQ(words[1], reinterpret_cast<intptr_t>(data));
  EXPECT_EQ(words[2], 0);
  EXPECT_EQ((std::vector<int64_t>(words + 3, words + 9)),
            (std::vector<int64_t>{2, 3, 4, 12, 4, 1}));
  EXPECT_TRUE(d.isRowMajor());
  EXPECT_EQ(d.firstElement(4), static_cast<void *>(data));

  auto scalar = MemRefDescriptor::rowMajor(data, {});
  EXPECT_EQ(scalar.rank(), 0);
  EXPECT_EQ(MemRefDescriptor::sizeInBytes(0), 24u);
}

// Tests strided views, reading words back and the row-major check.
TEST(MemRefDescriptorTest, StridedViewsAndResults) {
  float data[64];
  MemRefDescriptor view(data, data + 1, 5, {3, 4}, {10, 1});
  EXPECT_EQ(view.allocated(), static_cast<void *>(data));
  EXPECT_EQ(view.aligned(), static_cast<void *>(data + 1));
  EXPECT_EQ(view.offset(), 5);
  EXPECT_EQ(view.firstElement(4), static_cast<void *>(data + 6));
  EXPECT_FALSE(view.isRowMajor());

  // A unit dimension may have any stride.
  MemRefDescriptor unit(data, data, 0, {1, 4}, {99, 1});
  EXPECT_TRUE(unit.isRowMajor());

  auto copy =
      MemRefDescriptor::fromWords(static_cast<const int64_t *>(view.data()), 2);
  EXPECT_EQ(copy.sizes(), (std::vector<int64_t>{3, 4}));
  EXPECT_EQ(copy.strides(), (std::vector<int64_t>{10, 1}));

  auto empty = MemRefDescriptor::empty(2);
  EXPECT_EQ(empty.allocated(), nullptr);
  EXPECT_EQ(empty.sizes(), (std::vector<int64_t>{0, 0}));
}

// Tests that args[i] points to a slot holding the descriptor address for
// memrefs, and is the value's address for scalars, across many additions.
TEST(MemRefDescriptorTest, PackedArgumentSlotsStayValid) {
  std::vector<MemRefDescriptor> descriptors;
  float data[4];
  for (int i = 0; i < 100; ++i)
    descriptors.push_back(MemRefDescriptor::rowMajor(data, {4}));
  int64_t scalar = 42;
  PackedArguments args;
  for (MemRefDescriptor &d : descriptors)
    args.addMemRef(d);
  args.addScalar(&scalar);
  ASSERT_EQ(args.size(), 101u);
  for (int i = 0; i < 100; ++i)
    EXPECT_EQ(*static_cast<void **>(args.data()[i]), descriptors[i].data());
  EXPECT_EQ(*static_cast<int64_t *>(args.data()[100]), 42);
}

} // namespace
