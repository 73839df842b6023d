"""Caller tensors as uoe_tensor_t: NumPy arrays and DLPack tensors, without
copies where the C API can read the memory as it is.

A NumPy array (C-contiguous, native byte order) is passed by its data
pointer. Any other object with `__dlpack__` (PyTorch, JAX, CuPy on the
host, ...) is read through its DLPack capsule: the DLManagedTensor is parsed
with ctypes, its device, dtype and strides are checked and its data pointer
is handed over as it is, so a PyTorch tensor is never copied on its way to
uoe_model_run. The capsule is kept alive (unconsumed, so its producer
frees it) for as long as the pointer is in use.
"""
import ctypes
import struct

import numpy as np

from . import _capi
from ._capi import Error, INVALID_ARGUMENT, UNIMPLEMENTED

# DLPack (dlpack.h, v0.8 ABI: DLManagedTensor, capsule name "dltensor").
_DL_CPU, _DL_CUDA_HOST = 1, 3
_DL_DEVICES = {1: "cpu", 2: "cuda", 3: "cuda host", 4: "opencl", 7: "vulkan",
               8: "metal", 9: "vpi", 10: "rocm", 11: "rocm host", 13: "cuda managed",
               14: "oneapi"}
# (type code, bits) -> uoe dtype name; lanes must be 1.
_DL_DTYPES = {(2, 32): "f32", (2, 16): "f16", (4, 16): "bf16", (2, 64): "f64",
              (0, 64): "i64", (0, 32): "i32", (0, 8): "i8", (1, 8): "u8",
              (6, 8): "bool"}


# DLTensor, the head of DLManagedTensor: data, device (type, id), ndim,
# dtype (code, bits, lanes), shape, strides, byte_offset; x86-64 layout.
_DL_TENSOR = struct.Struct("<QiiiBBHQQQ")
assert _DL_TENSOR.size == 48


_capsule_get = ctypes.pythonapi.PyCapsule_GetPointer
_capsule_get.restype = ctypes.c_void_p
_capsule_get.argtypes = [ctypes.py_object, ctypes.c_char_p]

NUMPY_DTYPES = {name: np.dtype(npname) for name, (_, _, npname) in _capi.DTYPES.items()
                if npname}
NUMPY_DTYPES["bf16"] = np.dtype(np.uint16)  # raw bit patterns
_FROM_NUMPY = {dt: name for name, dt in NUMPY_DTYPES.items() if name != "bf16"}


def describe(dtype, shape):
    """'f32 [2, 16, 64]', as the C API's messages write tensors."""
    return f"{dtype} [{', '.join(str(d) for d in shape)}]"


class View:
    """A tensor the C API may read: dtype name, shape, data pointer, and the
    objects that keep the memory alive. `array` is a NumPy array over the
    same memory (None for a DLPack view until asked for)."""
    __slots__ = ("dtype", "shape", "data", "keep", "array", "torch")

    def __init__(self, dtype, shape, data, keep, array=None, torch=False):
        self.dtype, self.shape, self.data = dtype, shape, data
        self.keep, self.array, self.torch = keep, array, torch

    def numpy(self):
        """A NumPy array over the view's memory (no copy)."""
        if self.array is None:
            n = 1
            for d in self.shape:
                n *= d
            nptype = NUMPY_DTYPES[self.dtype]
            buf = (ctypes.c_char * (n * nptype.itemsize)).from_address(self.data) if n else b""
            self.array = np.frombuffer(buf, dtype=nptype, count=n).reshape(self.shape)
        return self.array


def address(a):
    """The address of the data of C-contiguous NumPy array `a`. Through the
    buffer protocol when it is writable (several times faster than
    `a.ctypes.data`, which matters for small calls)."""
    try:
        return ctypes.addressof(ctypes.c_char.from_buffer(a))
    except (TypeError, ValueError):  # read-only or empty
        return a.ctypes.data


def _is_torch(x):
    return type(x).__module__.startswith("torch")


def _from_numpy(x, what):
    if not x.dtype.isnative:
        x = x.astype(x.dtype.newbyteorder("="))
    dtype = _FROM_NUMPY.get(x.dtype)
    if dtype is None:
        raise Error(INVALID_ARGUMENT,
                    f"{what} has NumPy dtype {x.dtype}, which uoe does not take "
                    f"(f32, f16, f64, i64, i32, i8, u8, bool)")
    if not x.flags.c_contiguous:
        x = np.ascontiguousarray(x)
    return View(dtype, x.shape, address(x), x, x)


def _from_dlpack(x, what):
    torch = _is_torch(x)
    if torch and getattr(x, "requires_grad", False):
        x = x.detach()  # same memory; DLPack refuses tensors that need grad
    try:
        capsule = x.__dlpack__()
    except Exception as e:  # the producer's own refusal
        raise Error(INVALID_ARGUMENT, f"{what}: cannot export it through DLPack: {e}") from None
    try:
        address = _capsule_get(capsule, b"dltensor")
    except Exception:
        raise Error(INVALID_ARGUMENT,
                    f"{what}: __dlpack__ did not return a 'dltensor' capsule") from None
    # The DLTensor at the start of the DLManagedTensor, read in one go.
    (data, device, _, ndim, code, bits, lanes, shape_ptr, strides_ptr,
     offset) = _DL_TENSOR.unpack(ctypes.string_at(address, _DL_TENSOR.size))
    if device not in (_DL_CPU, _DL_CUDA_HOST):
        kind = _DL_DEVICES.get(device, f"device type {device}")
        raise Error(UNIMPLEMENTED,
                    f"{what} is in {kind} memory, but uoe runs on the cpu device; "
                    f"move it to the host first (e.g. tensor.cpu())")
    dtype = _DL_DTYPES.get((code, bits))
    if dtype is None or lanes != 1:
        raise Error(INVALID_ARGUMENT,
                    f"{what} has DLPack dtype code {code}, {bits} bits, {lanes} lanes, "
                    f"which uoe does not take (f32, f16, bf16, f64, i64, i32, i8, u8, bool)")
    shape = struct.unpack(f"<{ndim}q", ctypes.string_at(shape_ptr, 8 * ndim)) if ndim else ()
    if strides_ptr and ndim:
        strides = struct.unpack(f"<{ndim}q", ctypes.string_at(strides_ptr, 8 * ndim))
        expected = 1
        for i in reversed(range(ndim)):
            if shape[i] != 1 and strides[i] != expected:
                raise Error(INVALID_ARGUMENT,
                            f"{what} is not contiguous (strides {list(strides)} for shape "
                            f"{list(shape)}); uoe reads dense row-major tensors: "
                            f"pass a contiguous one (e.g. tensor.contiguous())")
            expected *= shape[i]
    return View(dtype, shape, (data or 0) + offset, (x, capsule), torch=torch)


def view(x, what, dtype=None):
    """A View of array-like `x` (called `what` in errors), without a copy
    where the memory can be read as it is. Anything else (nested lists,
    scalars) becomes a NumPy array of `dtype` when given, else of NumPy's
    choice with float64 narrowed to float32 (the dtype of hidden states)."""
    if isinstance(x, np.ndarray):
        return _from_numpy(x, what)
    if hasattr(x, "__dlpack__"):
        return _from_dlpack(x, what)
    try:
        array = np.asarray(x, dtype=NUMPY_DTYPES[dtype] if dtype else None)
        if dtype is None and array.dtype == np.float64:
            array = array.astype(np.float32)
    except Exception as e:
        raise Error(INVALID_ARGUMENT,
                    f"{what} is a {type(x).__name__}, not an array: {e}") from None
    if array.dtype == object:
        raise Error(INVALID_ARGUMENT,
                    f"{what} is a {type(x).__name__}, not an array of numbers")
    return _from_numpy(array, what)


def fill(tensor, v, name=None):
    """Fills the uoe_tensor_t `tensor` from View `v`; returns what must stay
    alive while the C API reads it."""
    shape = (ctypes.c_int64 * len(v.shape))(*v.shape)
    tensor.name = name
    tensor.dtype = _capi.DTYPES[v.dtype][0]
    tensor.rank = len(v.shape)
    tensor.shape = shape
    tensor.data = v.data
    tensor.memory = _capi.MEMORY_HOST
    return shape
