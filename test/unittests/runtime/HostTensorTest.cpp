//===- HostTensorTest.cpp - tests of HostTensor ---------------------------===//
//
// Allocation (zero fill, alignment, scalars and empty tensors, size
// overflow), construction from bytes, deep copies, and the conversions to
// and from f32 including their range errors.
//
//===----------------------------------------------------------------------===//

#include "support/HostTensor.h"

#include "TestUtil.h"

#include "gtest/gtest.h"

#include <cmath>
#include <cstring>
#include <limits>

namespace uoe::rt {
namespace {

using test::hasError;

bool isAligned(const void *pointer) {
  return reinterpret_cast<uintptr_t>(pointer) % kHostTensorAlignment == 0;
}

TEST(HostTensorTest, DefaultIsEmptyF32) {
  HostTensor tensor;
  EXPECT_EQ(tensor.dtype(), DType::F32);
  EXPECT_EQ(tensor.shape(), std::vector<int64_t>{0});
  EXPECT_EQ(tensor.numElements(), 0);
  EXPECT_EQ(tensor.sizeInBytes(), 0u);
  ASSERT_NE(tensor.rawData(), nullptr);
  EXPECT_TRUE(isAligned(tensor.rawData()));
}

TEST(HostTensorTest, CreateIsZeroFilledAndAligned) {
  for (DType dtype : kAllDTypes) {
    SCOPED_TRACE(dtypeName(dtype));
    StatusOr<HostTensor> tensor = HostTensor::create(dtype, {3, 5});
    ASSERT_OK(tensor);
    EXPECT_EQ(tensor->dtype(), dtype);
    EXPECT_EQ(tensor->rank(), 2);
    EXPECT_EQ(tensor->numElements(), 15);
    EXPECT_EQ(tensor->sizeInBytes(), 15 * dtypeSize(dtype));
    EXPECT_TRUE(isAligned(tensor->rawData()));
    const uint8_t *bytes = static_cast<const uint8_t *>(tensor->rawData());
    for (size_t i = 0; i < tensor->sizeInBytes(); ++i)
      ASSERT_EQ(bytes[i], 0) << i;
  }
}

TEST(HostTensorTest, ScalarAndEmptyShapes) {
  StatusOr<HostTensor> scalar = HostTensor::create(DType::I64, {});
  ASSERT_OK(scalar);
  EXPECT_EQ(scalar->rank(), 0);
  EXPECT_EQ(scalar->numElements(), 1);
  EXPECT_EQ(scalar->sizeInBytes(), 8u);

  StatusOr<HostTensor> empty = HostTensor::create(DType::F16, {4, 0, 3});
  ASSERT_OK(empty);
  EXPECT_EQ(empty->numElements(), 0);
  EXPECT_EQ(empty->sizeInBytes(), 0u);
  EXPECT_NE(empty->rawData(), nullptr);

  // A zero dimension makes any other size acceptable.
  StatusOr<HostTensor> hugeButEmpty =
      HostTensor::create(DType::F64, {0, int64_t(1) << 62, int64_t(1) << 62});
  ASSERT_OK(hugeButEmpty);
  EXPECT_EQ(hugeButEmpty->numElements(), 0);
}

TEST(HostTensorTest, BadShapes) {
  EXPECT_TRUE(hasError(HostTensor::create(DType::F32, {2, -1}).status(),
                       StatusCode::InvalidArgument,
                       {"dimension 1", "[2, -1]", "negative"}));
  EXPECT_TRUE(hasError(
      HostTensor::create(DType::F32, {int64_t(1) << 31, int64_t(1) << 31})
          .status(),
      StatusCode::OutOfRange, {"too many elements"}));
  // 2^61 elements fit in int64 but their bytes (2^64) do not.
  EXPECT_TRUE(
      hasError(HostTensor::create(DType::F64, {int64_t(1) << 61}).status(),
               StatusCode::OutOfRange, {"too many elements"}));
  StatusOr<int64_t> count = checkedNumElements({int64_t(1) << 60}, DType::I8);
  ASSERT_OK(count);
  EXPECT_EQ(*count, int64_t(1) << 60);
}

TEST(HostTensorTest, FromBytesAndFromVector) {
  std::vector<int32_t> values = {1, -2, 3, -4, 5, -6};
  StatusOr<HostTensor> tensor =
      HostTensor::fromVector(DType::I32, {2, 3}, values);
  ASSERT_OK(tensor);
  const int32_t *data = tensor->data<int32_t>();
  for (size_t i = 0; i < values.size(); ++i)
    EXPECT_EQ(data[i], values[i]);
  EXPECT_EQ(tensor->typeString(), "i32[2, 3]");

  EXPECT_TRUE(hasError(
      HostTensor::fromBytes(DType::I32, {2, 3}, values.data(), 20).status(),
      StatusCode::InvalidArgument, {"20 bytes", "i32[2, 3]", "24 bytes"}));
  EXPECT_TRUE(hasError(HostTensor::fromVector(DType::F32, {6}, values).status(),
                       StatusCode::InvalidArgument, {"f32"}));
  EXPECT_TRUE(hasError(HostTensor::fromVector(DType::I32, {7}, values).status(),
                       StatusCode::InvalidArgument, {"24 bytes given"}));

  StatusOr<HostTensor> flags = HostTensor::fromVector(
      DType::Bool, {3}, std::vector<bool>{true, false, true});
  ASSERT_OK(flags);
  EXPECT_TRUE(flags->data<bool>()[0]);
  EXPECT_FALSE(flags->data<bool>()[1]);
  EXPECT_TRUE(flags->data<bool>()[2]);

  uint8_t badBool[] = {0, 1, 2};
  EXPECT_TRUE(
      hasError(HostTensor::fromBytes(DType::Bool, {3}, badBool, 3).status(),
               StatusCode::DataLoss, {"bool element 2", "byte value 2"}));
}

TEST(HostTensorTest, CloneIsDeepAndBitwiseEqualCompares) {
  StatusOr<HostTensor> original =
      HostTensor::fromVector(DType::F32, {2}, std::vector<float>{1.5f, -0.0f});
  ASSERT_OK(original);
  StatusOr<HostTensor> copy = original->clone();
  ASSERT_OK(copy);
  EXPECT_NE(copy->rawData(), original->rawData());
  EXPECT_TRUE(copy->bitwiseEqual(*original));
  copy->data<float>()[1] = 0.0f; // Equal as a float, not bitwise.
  EXPECT_FALSE(copy->bitwiseEqual(*original));
  EXPECT_EQ(original->data<float>()[1], -0.0f);
  EXPECT_TRUE(std::signbit(original->data<float>()[1]));

  StatusOr<HostTensor> reshaped = HostTensor::fromVector(
      DType::F32, {1, 2}, std::vector<float>{1.5f, -0.0f});
  ASSERT_OK(reshaped);
  EXPECT_FALSE(reshaped->bitwiseEqual(*original));
}

TEST(HostTensorTest, MoveKeepsStorage) {
  StatusOr<HostTensor> tensor = HostTensor::create(DType::U8, {16});
  ASSERT_OK(tensor);
  void *storage = tensor->rawData();
  HostTensor moved = std::move(*tensor);
  EXPECT_EQ(moved.rawData(), storage);
  EXPECT_EQ(moved.numElements(), 16);
}

TEST(HostTensorTest, ToF32FromEveryDType) {
  auto toF32 = [](const HostTensor &tensor) {
    StatusOr<HostTensor> result = tensor.toF32();
    EXPECT_OK(result);
    EXPECT_EQ(result->dtype(), DType::F32);
    EXPECT_EQ(result->shape(), tensor.shape());
    const float *data = result->data<float>();
    return std::vector<float>(data, data + result->numElements());
  };
  using V = std::vector<float>;
  EXPECT_EQ(toF32(*HostTensor::fromVector(DType::F64, {3},
                                          std::vector<double>{0.1, -2, 1e300})),
            (V{0.1f, -2.0f, std::numeric_limits<float>::infinity()}));
  EXPECT_EQ(
      toF32(*HostTensor::fromVector(
          DType::F16, {3}, std::vector<uint16_t>{0x3c00, 0xc000, 0x0001})),
      (V{1.0f, -2.0f, std::ldexp(1.0f, -24)}));
  EXPECT_EQ(toF32(*HostTensor::fromVector(
                DType::BF16, {2}, std::vector<uint16_t>{0x3f80, 0x4049})),
            (V{1.0f, 3.140625f}));
  EXPECT_EQ(
      toF32(*HostTensor::fromVector(
          DType::I64, {2}, std::vector<int64_t>{-7, (int64_t(1) << 40) + 1})),
      (V{-7.0f, std::ldexp(1.0f, 40)}));
  EXPECT_EQ(toF32(*HostTensor::fromVector(DType::I32, {2},
                                          std::vector<int32_t>{-5, 123456})),
            (V{-5.0f, 123456.0f}));
  EXPECT_EQ(toF32(*HostTensor::fromVector(DType::I8, {2},
                                          std::vector<int8_t>{-128, 127})),
            (V{-128.0f, 127.0f}));
  EXPECT_EQ(toF32(*HostTensor::fromVector(DType::U8, {2},
                                          std::vector<uint8_t>{0, 255})),
            (V{0.0f, 255.0f}));
  EXPECT_EQ(toF32(*HostTensor::fromVector(DType::Bool, {2},
                                          std::vector<bool>{true, false})),
            (V{1.0f, 0.0f}));
  EXPECT_EQ(toF32(*HostTensor::fromVector(DType::F32, {1}, V{2.5f})), V{2.5f});
  EXPECT_EQ(toF32(*HostTensor::create(DType::I8, {0})), V{});
}

TEST(HostTensorTest, FromF32RoundsAndChecksRanges) {
  StatusOr<HostTensor> source = HostTensor::fromVector(
      DType::F32, {5}, std::vector<float>{2.7f, -2.7f, 0.0f, 255.9f, -0.5f});
  ASSERT_OK(source);

  StatusOr<HostTensor> asI32 = HostTensor::fromF32(*source, DType::I32);
  ASSERT_OK(asI32);
  const int32_t *i32 = asI32->data<int32_t>();
  EXPECT_EQ(std::vector<int32_t>(i32, i32 + 5),
            (std::vector<int32_t>{2, -2, 0, 255, 0}));

  StatusOr<HostTensor> asBool = HostTensor::fromF32(*source, DType::Bool);
  ASSERT_OK(asBool);
  EXPECT_TRUE(asBool->data<bool>()[0]);
  EXPECT_FALSE(asBool->data<bool>()[2]);

  // -2.7 truncates to -2, outside u8.
  EXPECT_TRUE(hasError(HostTensor::fromF32(*source, DType::U8).status(),
                       StatusCode::OutOfRange, {"element 1", "u8"}));
  EXPECT_TRUE(hasError(HostTensor::fromF32(*source, DType::I8).status(),
                       StatusCode::OutOfRange, {"element 3", "i8"}));

  StatusOr<HostTensor> limits = HostTensor::fromVector(
      DType::F32, {3},
      std::vector<float>{-9223372036854775808.0f, std::nanf(""), 1.0f});
  ASSERT_OK(limits);
  EXPECT_TRUE(hasError(HostTensor::fromF32(*limits, DType::I64).status(),
                       StatusCode::OutOfRange, {"element 1"}));
  StatusOr<HostTensor> pastI64 = HostTensor::fromVector(
      DType::F32, {1}, std::vector<float>{9223372036854775808.0f});
  ASSERT_OK(pastI64);
  EXPECT_TRUE(hasError(HostTensor::fromF32(*pastI64, DType::I64).status(),
                       StatusCode::OutOfRange, {"element 0", "i64"}));
  StatusOr<HostTensor> pastI32 = HostTensor::fromVector(
      DType::F32, {2}, std::vector<float>{-2147483648.0f, 2147483648.0f});
  ASSERT_OK(pastI32);
  EXPECT_TRUE(hasError(HostTensor::fromF32(*pastI32, DType::I32).status(),
                       StatusCode::OutOfRange, {"element 1"}));

  StatusOr<HostTensor> floats = HostTensor::fromVector(
      DType::F32, {2}, std::vector<float>{1.0f + std::ldexp(1.0f, -11), 0.1f});
  ASSERT_OK(floats);
  StatusOr<HostTensor> asF16 = HostTensor::fromF32(*floats, DType::F16);
  ASSERT_OK(asF16);
  EXPECT_EQ(asF16->data<uint16_t>()[0], 0x3c00); // Tie to even.
  EXPECT_EQ(asF16->data<uint16_t>()[1], 0x2e66);
  StatusOr<HostTensor> asBf16 = HostTensor::fromF32(*floats, DType::BF16);
  ASSERT_OK(asBf16);
  EXPECT_EQ(asBf16->data<uint16_t>()[0], 0x3f80);
  EXPECT_EQ(asBf16->data<uint16_t>()[1], 0x3dcd);
  StatusOr<HostTensor> asF64 = HostTensor::fromF32(*floats, DType::F64);
  ASSERT_OK(asF64);
  EXPECT_EQ(asF64->data<double>()[1], static_cast<double>(0.1f));

  StatusOr<HostTensor> backToF32 = asF16->toF32();
  ASSERT_OK(backToF32);
  EXPECT_TRUE(hasError(HostTensor::fromF32(*asF16, DType::F32).status(),
                       StatusCode::FailedPrecondition, {"f16[2]"}));
}

TEST(HostTensorDeathTest, DataWithWrongTypeAborts) {
  StatusOr<HostTensor> tensor = HostTensor::create(DType::F32, {2});
  ASSERT_OK(tensor);
  EXPECT_DEATH((void)tensor->data<int32_t>(), "not the element type of f32");
}

} // namespace
} // namespace uoe::rt
