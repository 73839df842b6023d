"""ctypes declarations of the uoe C API (include/uoe-c/uoe.h) and the search
for libuoe_c.so.

The library is looked for, in order: the file named by the environment
variable UOE_LIBRARY; the copy bundled into the installed package
(uoe/_lib/libuoe_c.so, written by `pip install ./python`); the build tree
when the package is imported from it (<repo>/python/uoe next to
<repo>/build/lib). The first that exists is loaded; none is an ImportError
that lists the places tried.

Every declaration mirrors the header exactly: the structs are laid out as
in C, every function has its argument and result types, so that ctypes
converts nothing by guesswork. Statuses are turned into uoe.Error by
`check`.
"""
import ctypes
import os

# The version of include/uoe-c/uoe.h this binding was written against.
API_VERSION = 103

# uoe_status_code_t
OK = 0
INVALID_ARGUMENT = 1
NOT_FOUND = 2
OUT_OF_RANGE = 3
DATA_LOSS = 4
UNIMPLEMENTED = 5
INTERNAL = 6
UNAVAILABLE = 7
FAILED_PRECONDITION = 8
IO_ERROR = 9

CODE_NAMES = {
    OK: "ok", INVALID_ARGUMENT: "invalid argument", NOT_FOUND: "not found",
    OUT_OF_RANGE: "out of range", DATA_LOSS: "data loss",
    UNIMPLEMENTED: "unimplemented", INTERNAL: "internal",
    UNAVAILABLE: "unavailable", FAILED_PRECONDITION: "failed precondition",
    IO_ERROR: "io error",
}

# uoe_dtype_t, with the element size and the NumPy type name of each.
DTYPES = {
    # name: (enum, bytes, numpy dtype name)
    "f32": (0, 4, "float32"),
    "f16": (1, 2, "float16"),
    "bf16": (2, 2, None),  # no NumPy type; passed as raw 16-bit patterns
    "f64": (3, 8, "float64"),
    "i64": (4, 8, "int64"),
    "i32": (5, 4, "int32"),
    "i8": (6, 1, "int8"),
    "u8": (7, 1, "uint8"),
    "bool": (8, 1, "bool"),
}
DTYPE_NAMES = {enum: name for name, (enum, _, _) in DTYPES.items()}

MEMORY_HOST = 0
ROLE_INPUT, ROLE_PARAMETER, ROLE_RESULT = 0, 1, 2


class Tensor(ctypes.Structure):
    """uoe_tensor_t."""
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("dtype", ctypes.c_int),
        ("rank", ctypes.c_size_t),
        ("shape", ctypes.POINTER(ctypes.c_int64)),
        ("data", ctypes.c_void_p),
        ("memory", ctypes.c_int),
    ]


class SessionOptions(ctypes.Structure):
    """uoe_session_options_t."""
    _fields_ = [
        ("api_version", ctypes.c_int),
        ("device", ctypes.c_char_p),
        ("threads", ctypes.c_int),
        ("cache_dir", ctypes.c_char_p),
    ]


class ExecutableInfo(ctypes.Structure):
    """uoe_executable_info_t."""
    _fields_ = [
        ("target", ctypes.c_char_p),
        ("model_name", ctypes.c_char_p),
        ("compiler", ctypes.c_char_p),
        ("cache_key", ctypes.c_char_p),
        ("num_entry_points", ctypes.c_size_t),
    ]


_p = ctypes.c_void_p
_pp = ctypes.POINTER(ctypes.c_void_p)
_str = ctypes.c_char_p

COMPILE_GRADIENTS = 0x1  # uoe_session_compile_model_ex's flags
COMPILE_BF16 = 0x2
COMPILE_DECODING = 0x4

# name: (result type, argument types)
_FUNCTIONS = {
    "uoe_api_version": (ctypes.c_int, []),
    "uoe_status_code": (ctypes.c_int, [_p]),
    "uoe_status_message": (_str, [_p]),
    "uoe_status_free": (None, [_p]),
    "uoe_session_options_init": (None, [ctypes.POINTER(SessionOptions)]),
    "uoe_session_create": (_p, [ctypes.POINTER(SessionOptions), _pp]),
    "uoe_session_free": (None, [_p]),
    "uoe_session_compile_model_text": (
        _p, [_p, _str, ctypes.c_int64, ctypes.c_int64, _pp]),
    "uoe_session_compile_model_file": (
        _p, [_p, _str, ctypes.c_int64, ctypes.c_int64, _pp]),
    "uoe_session_compile_model_ex": (
        _p, [_p, _str, ctypes.c_int, ctypes.c_int64, ctypes.c_int64,
             ctypes.c_uint32, _pp]),
    "uoe_session_compile_mlir": (_p, [_p, _str, _pp]),
    "uoe_executable_load": (_p, [_str, _pp]),
    "uoe_executable_load_bytes": (_p, [ctypes.c_char_p, ctypes.c_size_t, _pp]),
    "uoe_executable_save": (_p, [_p, _str]),
    "uoe_executable_free": (None, [_p]),
    "uoe_executable_info": (_p, [_p, ctypes.POINTER(ExecutableInfo)]),
    "uoe_executable_entry_point_name": (
        _p, [_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_char_p)]),
    "uoe_executable_tensor_count": (
        _p, [_p, _str, ctypes.c_int, ctypes.POINTER(ctypes.c_size_t)]),
    "uoe_executable_tensor_spec": (
        _p, [_p, _str, ctypes.c_int, ctypes.c_size_t, ctypes.POINTER(Tensor)]),
    "uoe_model_create": (_p, [_p, _p, _pp]),
    "uoe_model_free": (None, [_p]),
    "uoe_model_bind_safetensors": (_p, [_p, _str, _str]),
    "uoe_model_bind_weights": (
        _p, [_p, _str, ctypes.POINTER(Tensor), ctypes.c_size_t]),
    "uoe_model_run": (
        _p, [_p, _str, ctypes.POINTER(Tensor), ctypes.c_size_t,
             ctypes.POINTER(Tensor), ctypes.c_size_t]),
    "uoe_kv_cache_create": (
        _p, [ctypes.c_int64, ctypes.c_int64, ctypes.c_int64, ctypes.c_int64, _pp]),
    "uoe_kv_cache_free": (None, [_p]),
    "uoe_kv_cache_handle": (ctypes.c_int64, [_p]),
}


def candidates():
    """The paths tried for libuoe_c.so, in order."""
    here = os.path.dirname(os.path.abspath(__file__))
    paths = []
    if os.environ.get("UOE_LIBRARY"):
        paths.append(os.environ["UOE_LIBRARY"])
    paths.append(os.path.join(here, "_lib", "libuoe_c.so"))
    # Imported from the source tree: <repo>/python/uoe -> <repo>/build/lib.
    paths.append(os.path.join(here, os.pardir, os.pardir, "build", "lib",
                              "libuoe_c.so"))
    return paths


def _load():
    tried = candidates()
    for i, path in enumerate(tried):
        # UOE_LIBRARY, when set, must be right: no silent fallback.
        if os.path.exists(path) or (i == 0 and os.environ.get("UOE_LIBRARY")):
            try:
                # RTLD_LOCAL (the default): the library resolves the compiled
                # code's runtime calls (OpenMP, BLAS) itself, so nothing of it
                # (or of its LLVM) clashes with other libraries in the process,
                # such as PyTorch's Triton, which brings its own LLVM.
                lib = ctypes.CDLL(os.path.abspath(path))
            except OSError as e:
                raise ImportError(f"uoe: cannot load the C API library {path}: {e}") from None
            break
    else:
        raise ImportError(
            "uoe: cannot find libuoe_c.so; tried " + ", ".join(tried) +
            ". Build it (./scripts/build.sh), then install the package "
            "(pip install ./python) or set UOE_LIBRARY to its path.")
    for name, (restype, argtypes) in _FUNCTIONS.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes
    version = lib.uoe_api_version()
    if version // 10000 != API_VERSION // 10000 or version < API_VERSION:
        raise ImportError(
            f"uoe: {lib._name} implements C API {version}, but this package "
            f"needs {API_VERSION} (same major version, not older)")
    lib.path = lib._name
    return lib


lib = _load()


class Error(Exception):
    """An error from uoe: `code` is the uoe_status_code_t value (e.g.
    uoe.INVALID_ARGUMENT), `code_name` its name ("invalid argument"), and
    the message says exactly what is wrong (the C API's status message)."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.code_name = CODE_NAMES.get(code, "unknown status code")
        self.message = message


Error.__module__ = "uoe"  # shown as uoe.Error


def check(status):
    """Raises Error for a non-NULL status (freeing it); returns otherwise."""
    if status:
        code = lib.uoe_status_code(status)
        message = lib.uoe_status_message(status).decode("utf-8", "replace")
        lib.uoe_status_free(status)
        raise Error(code, message)
