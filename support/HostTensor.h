//===- HostTensor.h - owning tensors in host memory -------------*- C++ -*-===//
//
// A HostTensor is a dense, row-major (C order) array in host memory with an
// element type and a shape: what the .npy and safetensors readers produce,
// what the writers consume, and what crosses the runtime API before it is
// copied to a device. Storage is 64-byte aligned (one cache line, and enough
// for any SIMD load) and owned by the tensor.
//
//===----------------------------------------------------------------------===//

#ifndef UOE_SUPPORT_HOSTTENSOR_H
#define UOE_SUPPORT_HOSTTENSOR_H

#include "support/DType.h"
#include "support/Status.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

namespace uoe::rt {

/// Alignment of HostTensor storage, in bytes.
inline constexpr size_t kHostTensorAlignment = 64;

/// The C++ element type that `HostTensor::data<T>()` accepts for a DType:
/// float, uint16_t (f16 and bf16 bit patterns), double, int64_t, int32_t,
/// int8_t, uint8_t, bool.
template <typename T> constexpr bool isElementTypeOf(DType dtype) {
  switch (dtype) {
  case DType::F32:
    return std::is_same_v<T, float>;
  case DType::F16:
  case DType::BF16:
    return std::is_same_v<T, uint16_t>;
  case DType::F64:
    return std::is_same_v<T, double>;
  case DType::I64:
    return std::is_same_v<T, int64_t>;
  case DType::I32:
    return std::is_same_v<T, int32_t>;
  case DType::I8:
    return std::is_same_v<T, int8_t>;
  case DType::U8:
    return std::is_same_v<T, uint8_t>;
  case DType::Bool:
    return std::is_same_v<T, bool>;
  }
  return false;
}

/// "[2, 3]" for {2, 3}, "[]" for a scalar.
std::string shapeToString(const std::vector<int64_t> &shape);

/// The number of elements of `shape` (1 for a scalar); InvalidArgument for a
/// negative dimension, OutOfRange if the count or its size in bytes for
/// `dtype` overflows.
StatusOr<int64_t> checkedNumElements(const std::vector<int64_t> &shape,
                                     DType dtype);

/// An owning, move-only dense tensor in host memory. A default-constructed
/// tensor is an empty f32 tensor of shape [0]; a moved-from tensor may only
/// be destroyed or assigned to. Not internally synchronised: concurrent
/// reads are fine, a write needs exclusive access.
class HostTensor {
public:
  HostTensor();

  /// A zero-filled tensor. InvalidArgument for a negative dimension,
  /// OutOfRange for sizes that overflow, Unavailable ("out of memory") if
  /// allocation fails.
  static StatusOr<HostTensor> create(DType dtype, std::vector<int64_t> shape);
  /// As `create`, but the contents are left unspecified; for readers that
  /// overwrite every byte.
  static StatusOr<HostTensor> createUninitialized(DType dtype,
                                                  std::vector<int64_t> shape);
  /// A tensor holding a copy of `numBytes` bytes at `bytes`, which must be
  /// exactly the size of the tensor (InvalidArgument otherwise). Booleans
  /// must be 0 or 1 (DataLoss otherwise).
  static StatusOr<HostTensor> fromBytes(DType dtype, std::vector<int64_t> shape,
                                        const void *bytes, size_t numBytes);
  /// A tensor with the given elements; T must be the element type of
  /// `dtype` (see isElementTypeOf) and `values` must have as many elements
  /// as the shape (both InvalidArgument otherwise).
  template <typename T>
  static StatusOr<HostTensor> fromVector(DType dtype,
                                         std::vector<int64_t> shape,
                                         const std::vector<T> &values) {
    if (!isElementTypeOf<T>(dtype))
      return invalidArgumentError(
          strCat("element type does not match dtype ", dtypeName(dtype)));
    if constexpr (std::is_same_v<T, bool>) {
      // std::vector<bool> is packed: copy element by element.
      std::vector<uint8_t> bytes(values.begin(), values.end());
      return fromBytes(dtype, std::move(shape), bytes.data(), bytes.size());
    } else {
      return fromBytes(dtype, std::move(shape), values.data(),
                       values.size() * sizeof(T));
    }
  }

  HostTensor(HostTensor &&) noexcept = default;
  HostTensor &operator=(HostTensor &&) noexcept = default;
  HostTensor(const HostTensor &) = delete;
  HostTensor &operator=(const HostTensor &) = delete;

  /// A deep copy. Internal if allocation fails.
  StatusOr<HostTensor> clone() const;

  DType dtype() const { return dtype_; }
  const std::vector<int64_t> &shape() const { return shape_; }
  int64_t rank() const { return static_cast<int64_t>(shape_.size()); }
  int64_t numElements() const { return numElements_; }
  size_t sizeInBytes() const {
    return static_cast<size_t>(numElements_) * dtypeSize(dtype_);
  }
  /// "f32[2, 3]".
  std::string typeString() const;

  /// The first byte of the storage; never null (also when empty), 64-byte
  /// aligned, valid while the tensor lives and is not moved from.
  void *rawData() { return storage_.get(); }
  const void *rawData() const { return storage_.get(); }

  /// The elements as T, which must be the element type of dtype() (see
  /// isElementTypeOf); a mismatch is a programming error and aborts.
  template <typename T> T *data() {
    checkElementType(isElementTypeOf<T>(dtype_));
    return static_cast<T *>(rawData());
  }
  template <typename T> const T *data() const {
    checkElementType(isElementTypeOf<T>(dtype_));
    return static_cast<const T *>(rawData());
  }

  /// For bool tensors, DataLoss naming the first element whose byte is not
  /// 0 or 1 (such bytes are not valid C++ bools); OK for other dtypes.
  Status checkBoolValues() const;

  /// True if both have the same dtype, shape and bytes (so NaNs with equal
  /// bits compare equal, and +0 differs from -0).
  bool bitwiseEqual(const HostTensor &other) const;

  /// A new f32 tensor of the same shape: floats converted exactly (f64
  /// rounded to nearest), integers rounded to nearest, bools as 0 / 1.
  StatusOr<HostTensor> toF32() const;
  /// A new tensor of `dtype` and the same shape from the f32 tensor
  /// `source` (FailedPrecondition if it is not f32). f16 / bf16 round to
  /// nearest even; f64 is exact; integers are truncated toward zero, and a
  /// NaN or a value outside the integer type's range gives OutOfRange naming
  /// the element; bool is `value != 0`.
  static StatusOr<HostTensor> fromF32(const HostTensor &source, DType dtype);

private:
  struct FreeDeleter {
    void operator()(void *pointer) const { std::free(pointer); }
  };

  struct NoStorage {};
  explicit HostTensor(NoStorage) {}
  static StatusOr<HostTensor> allocate(DType dtype, std::vector<int64_t> shape,
                                       bool zeroFill);
  void checkElementType(bool matches) const;

  DType dtype_ = DType::F32;
  std::vector<int64_t> shape_;
  int64_t numElements_ = 0;
  std::unique_ptr<uint8_t[], FreeDeleter> storage_;
};

} // namespace uoe::rt

#endif // UOE_SUPPORT_HOSTTENSOR_H
