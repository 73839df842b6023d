//===- Npy.h - NumPy .npy reading and writing -------------------*- C++ -*-===//
//
// Reads and writes single arrays in NumPy's .npy format
// (numpy.lib.format): a magic string, a format version, a little-endian
// header length, a Python dict literal
//   {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
// padded with spaces and a newline, then the raw elements.
//
// Supported: format versions 1.0, 2.0 and 3.0 on read; little-endian (or
// byte-order-free) f32, f16, f64, i64, i32, i8, u8 and bool in C order.
// Big-endian data, Fortran order, structured and other dtypes are refused
// with a message that says so. NumPy has no bfloat16, so bf16 tensors
// cannot be written as .npy (convert them to f32 first).
//
//===----------------------------------------------------------------------===//

#ifndef UOE_FORMATS_NPY_H
#define UOE_FORMATS_NPY_H

#include "support/HostTensor.h"
#include "support/Status.h"

#include <string>

namespace uoe::rt {

/// Reads the .npy file at `path`. Errors name the file and the problem:
/// NotFound / IoError for system failures; DataLoss for malformed files
/// (bad magic, truncated header, header not a dict, missing or unknown
/// keys, data size not matching the shape, bool bytes other than 0 / 1);
/// Unimplemented for valid files we do not support (unknown format
/// version, big-endian or unsupported dtype, Fortran order). Thread-safe.
StatusOr<HostTensor> readNpy(const std::string &path);

/// The .npy header (magic, version, length and padded dict) for `tensor`:
/// format 1.0, or 2.0 when the dict does not fit a 16-bit length; the
/// total header size is a multiple of 64 bytes, as NumPy writes it.
/// Unimplemented for bf16.
StatusOr<std::string> encodeNpyHeader(const HostTensor &tensor);

/// Writes `tensor` to `path` as a .npy file (header from encodeNpyHeader)
/// atomically: on failure `path` is untouched and no temporary file
/// remains (see writeFileAtomically). Thread-safe.
Status writeNpy(const std::string &path, const HostTensor &tensor);

} // namespace uoe::rt

#endif // UOE_FORMATS_NPY_H
