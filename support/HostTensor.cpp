//===- HostTensor.cpp - owning tensors in host memory ---------------------===//
//
// Allocation (aligned_alloc rounded up to the alignment, never a null
// pointer, also for empty tensors) and the element conversions to and from
// f32.
//
//===----------------------------------------------------------------------===//

#include "support/HostTensor.h"

#include <cmath>
#include <cstring>
#include <limits>

namespace uoe::rt {

static_assert(sizeof(bool) == 1, "bool tensors store one byte per element");

std::string shapeToString(const std::vector<int64_t> &shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i != 0)
      text += ", ";
    text += std::to_string(shape[i]);
  }
  return text + "]";
}

StatusOr<int64_t> checkedNumElements(const std::vector<int64_t> &shape,
                                     DType dtype) {
  int64_t count = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] < 0)
      return invalidArgumentError(strCat("dimension ", i, " of shape ",
                                         shapeToString(shape), " is negative"));
  }
  // Zero-sized tensors are fine whatever the other dimensions are.
  for (int64_t dim : shape)
    if (dim == 0)
      return int64_t(0);
  // Overflow is checked against the byte size too, so that sizeInBytes()
  // and every offset computed from it fit in int64_t and size_t.
  const int64_t limit = std::numeric_limits<int64_t>::max() /
                        static_cast<int64_t>(dtypeSize(dtype));
  for (int64_t dim : shape) {
    if (count > limit / dim)
      return outOfRangeError(strCat("shape ", shapeToString(shape), " of ",
                                    dtypeName(dtype),
                                    " has too many elements"));
    count *= dim;
  }
  if (static_cast<uint64_t>(count) * dtypeSize(dtype) >
      std::numeric_limits<size_t>::max())
    return outOfRangeError(strCat("shape ", shapeToString(shape), " of ",
                                  dtypeName(dtype),
                                  " does not fit in the address space"));
  return count;
}

HostTensor::HostTensor() : shape_{0} {
  storage_.reset(static_cast<uint8_t *>(
      std::aligned_alloc(kHostTensorAlignment, kHostTensorAlignment)));
  if (!storage_)
    fatalUsageError("out of memory allocating an empty HostTensor");
}

StatusOr<HostTensor>
HostTensor::allocate(DType dtype, std::vector<int64_t> shape, bool zeroFill) {
  UOE_ASSIGN_OR_RETURN(int64_t numElements, checkedNumElements(shape, dtype));
  size_t bytes = static_cast<size_t>(numElements) * dtypeSize(dtype);
  // aligned_alloc wants a multiple of the alignment; allocate at least one
  // line so that empty tensors have a real (unique, aligned) pointer too.
  size_t rounded = (bytes / kHostTensorAlignment + 1) * kHostTensorAlignment;
  if (rounded < bytes)
    return outOfRangeError(strCat("tensor of ", bytes, " bytes is too large"));
  void *pointer = std::aligned_alloc(kHostTensorAlignment, rounded);
  if (!pointer)
    return unavailableError(strCat("out of memory allocating ", bytes,
                                " bytes for a ", dtypeName(dtype),
                                shapeToString(shape), " tensor"));
  if (zeroFill)
    std::memset(pointer, 0, rounded);
  HostTensor tensor{NoStorage{}};
  tensor.dtype_ = dtype;
  tensor.shape_ = std::move(shape);
  tensor.numElements_ = numElements;
  tensor.storage_.reset(static_cast<uint8_t *>(pointer));
  return tensor;
}

StatusOr<HostTensor> HostTensor::create(DType dtype,
                                        std::vector<int64_t> shape) {
  return allocate(dtype, std::move(shape), /*zeroFill=*/true);
}

StatusOr<HostTensor>
HostTensor::createUninitialized(DType dtype, std::vector<int64_t> shape) {
  return allocate(dtype, std::move(shape), /*zeroFill=*/false);
}

StatusOr<HostTensor> HostTensor::fromBytes(DType dtype,
                                           std::vector<int64_t> shape,
                                           const void *bytes, size_t numBytes) {
  UOE_ASSIGN_OR_RETURN(HostTensor tensor,
                       createUninitialized(dtype, std::move(shape)));
  if (numBytes != tensor.sizeInBytes())
    return invalidArgumentError(strCat(numBytes, " bytes given for a ",
                                       tensor.typeString(), " tensor of ",
                                       tensor.sizeInBytes(), " bytes"));
  if (numBytes != 0)
    std::memcpy(tensor.rawData(), bytes, numBytes);
  UOE_RETURN_IF_ERROR(tensor.checkBoolValues());
  return tensor;
}

Status HostTensor::checkBoolValues() const {
  if (dtype_ != DType::Bool)
    return okStatus();
  // Read as bytes: a bool object holding 2 would be undefined behaviour.
  const uint8_t *values = static_cast<const uint8_t *>(rawData());
  for (int64_t i = 0; i < numElements_; ++i)
    if (values[i] > 1)
      return dataLossError(strCat("bool element ", i, " has byte value ",
                                  int(values[i]), " (must be 0 or 1)"));
  return okStatus();
}

StatusOr<HostTensor> HostTensor::clone() const {
  UOE_ASSIGN_OR_RETURN(HostTensor copy, createUninitialized(dtype_, shape_));
  if (sizeInBytes() != 0)
    std::memcpy(copy.rawData(), rawData(), sizeInBytes());
  return copy;
}

std::string HostTensor::typeString() const {
  return std::string(dtypeName(dtype_)) + shapeToString(shape_);
}

void HostTensor::checkElementType(bool matches) const {
  if (!matches)
    fatalUsageError(strCat("HostTensor::data<T>() with a T that is not the "
                           "element type of ",
                           typeString()));
}

bool HostTensor::bitwiseEqual(const HostTensor &other) const {
  return dtype_ == other.dtype_ && shape_ == other.shape_ &&
         (sizeInBytes() == 0 ||
          std::memcmp(rawData(), other.rawData(), sizeInBytes()) == 0);
}

//===----------------------------------------------------------------------===//
// Conversions
//===----------------------------------------------------------------------===//

namespace {

template <typename T>
void widenToF32(const HostTensor &source, float *out, int64_t count) {
  const T *in = source.data<T>();
  for (int64_t i = 0; i < count; ++i)
    out[i] = static_cast<float>(in[i]);
}

/// Truncates `in` toward zero into an integer of type T. Fails for NaN and
/// for values whose truncation is outside T's range (converting those with
/// a cast would be undefined behaviour).
template <typename T>
Status narrowToInt(const float *in, T *out, int64_t count, DType dtype) {
  // Both bounds are exact in double: min is a power of two (or 0) and
  // max + 1 is a power of two.
  const double lowest = static_cast<double>(std::numeric_limits<T>::min());
  const double pastMax =
      static_cast<double>(std::numeric_limits<T>::max() / 2 + 1) * 2.0;
  for (int64_t i = 0; i < count; ++i) {
    double truncated = std::trunc(static_cast<double>(in[i]));
    if (!(truncated >= lowest && truncated < pastMax))
      return outOfRangeError(strCat("element ", i, " (", in[i],
                                    ") does not fit in ", dtypeName(dtype)));
    out[i] = static_cast<T>(truncated);
  }
  return okStatus();
}

} // namespace

StatusOr<HostTensor> HostTensor::toF32() const {
  UOE_ASSIGN_OR_RETURN(HostTensor result,
                       createUninitialized(DType::F32, shape_));
  float *out = result.data<float>();
  const int64_t count = numElements_;
  switch (dtype_) {
  case DType::F32:
    if (count != 0)
      std::memcpy(out, rawData(), sizeInBytes());
    break;
  case DType::F16: {
    const uint16_t *in = data<uint16_t>();
    for (int64_t i = 0; i < count; ++i)
      out[i] = f16BitsToF32(in[i]);
    break;
  }
  case DType::BF16: {
    const uint16_t *in = data<uint16_t>();
    for (int64_t i = 0; i < count; ++i)
      out[i] = bf16BitsToF32(in[i]);
    break;
  }
  case DType::F64:
    widenToF32<double>(*this, out, count);
    break;
  case DType::I64:
    widenToF32<int64_t>(*this, out, count);
    break;
  case DType::I32:
    widenToF32<int32_t>(*this, out, count);
    break;
  case DType::I8:
    widenToF32<int8_t>(*this, out, count);
    break;
  case DType::U8:
    widenToF32<uint8_t>(*this, out, count);
    break;
  case DType::Bool:
    widenToF32<bool>(*this, out, count);
    break;
  }
  return result;
}

StatusOr<HostTensor> HostTensor::fromF32(const HostTensor &source,
                                         DType dtype) {
  if (source.dtype_ != DType::F32)
    return failedPreconditionError(
        strCat("fromF32 needs an f32 tensor, not ", source.typeString()));
  UOE_ASSIGN_OR_RETURN(HostTensor result,
                       createUninitialized(dtype, source.shape_));
  const float *in = source.data<float>();
  const int64_t count = source.numElements_;
  switch (dtype) {
  case DType::F32:
    if (count != 0)
      std::memcpy(result.rawData(), in, source.sizeInBytes());
    break;
  case DType::F16: {
    uint16_t *out = result.data<uint16_t>();
    for (int64_t i = 0; i < count; ++i)
      out[i] = f32ToF16Bits(in[i]);
    break;
  }
  case DType::BF16: {
    uint16_t *out = result.data<uint16_t>();
    for (int64_t i = 0; i < count; ++i)
      out[i] = f32ToBf16Bits(in[i]);
    break;
  }
  case DType::F64: {
    double *out = result.data<double>();
    for (int64_t i = 0; i < count; ++i)
      out[i] = in[i];
    break;
  }
  case DType::I64:
    UOE_RETURN_IF_ERROR(narrowToInt(in, result.data<int64_t>(), count, dtype));
    break;
  case DType::I32:
    UOE_RETURN_IF_ERROR(narrowToInt(in, result.data<int32_t>(), count, dtype));
    break;
  case DType::I8:
    UOE_RETURN_IF_ERROR(narrowToInt(in, result.data<int8_t>(), count, dtype));
    break;
  case DType::U8:
    UOE_RETURN_IF_ERROR(narrowToInt(in, result.data<uint8_t>(), count, dtype));
    break;
  case DType::Bool: {
    bool *out = result.data<bool>();
    for (int64_t i = 0; i < count; ++i)
      out[i] = in[i] != 0.0f;
    break;
  }
  }
  return result;
}

} // namespace uoe::rt
