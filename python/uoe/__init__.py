"""uoe: compile Union-of-Experts models and run them from Python.

A thin binding of the uoe C API (include/uoe-c/uoe.h, libuoe_c.so) through
ctypes: no compile step. The usual way in::

    import numpy as np, uoe
    model = uoe.compile("examples/uoe_layer.pbtxt", weights="layer.safetensors")
    y = model(np.zeros((2, 16, 64), np.float32))   # a NumPy array

`compile` takes a model description (a .pbtxt path or its text), `uoe` MLIR
(a .mlir path or its text) or a compiled Executable (a .uoex path, its
bytes, or an `Executable`). A description is compiled for one input shape
at a time, lazily, on the first call with that [batch, seq]; each shape is
compiled once and kept (and stored in the compiled-model cache). Models are
called on NumPy arrays or on any DLPack tensor (`__dlpack__`): PyTorch CPU
tensors are passed to the C API without a copy, and their results come back
as PyTorch tensors; everything else gets NumPy arrays.

Errors are `uoe.Error` (with `.code`, e.g. `uoe.NOT_FOUND`, and the C API's
message); wrong dtypes and shapes are found before anything runs. Threads:
a model runs one call at a time (calls are serialised by a lock); distinct
models run concurrently. `uoe.torch.Module` wraps a model as an inference-only
`torch.nn.Module`. docs/EMBEDDING.md ("Python") has the rest.
"""
import ctypes
import logging
import os
import sys
import threading
from typing import NamedTuple

import numpy as np

from . import _capi, _tensors
from ._capi import (Error, INVALID_ARGUMENT, NOT_FOUND, OUT_OF_RANGE,  # noqa: F401
                    DATA_LOSS, UNIMPLEMENTED, INTERNAL, UNAVAILABLE,
                    FAILED_PRECONDITION, IO_ERROR)

__version__ = "0.1.0"
__all__ = ["compile", "load_executable", "Model", "Executable", "TensorSpec",
           "KvCache", "Error", "api_version", "library_path", "default_cache_dir"]

_lib, _check = _capi.lib, _capi.check


def api_version():
    """The C API version of the loaded libuoe_c.so (major*10000+minor*100+patch)."""
    return _lib.uoe_api_version()


def library_path():
    """The path of the libuoe_c.so in use."""
    return _lib.path


def default_cache_dir():
    """The compiled-model cache of `uoe-run`: $XDG_CACHE_HOME/uoe or
    ~/.cache/uoe (None when neither variable is set)."""
    if os.environ.get("XDG_CACHE_HOME"):
        return os.path.join(os.environ["XDG_CACHE_HOME"], "uoe")
    if os.environ.get("HOME"):
        return os.path.join(os.environ["HOME"], ".cache", "uoe")
    return None


#: Messages about long steps (compiling), on the "uoe" logger.
_log = logging.getLogger("uoe")

class TensorSpec(NamedTuple):
    """An input, parameter or result of an entry point: its name, its dtype
    ("f32", "i64", ...) and its shape."""
    name: str
    dtype: str
    shape: tuple

    def __str__(self):
        return f"'{self.name}': {_tensors.describe(self.dtype, self.shape)}"


def _fspath(path, what):
    try:
        return os.fsencode(path)
    except TypeError:
        raise Error(INVALID_ARGUMENT,
                    f"{what} must be a path, but it is a {type(path).__name__}") from None


class Executable:
    """A compiled model (formats/executable.proto): entry points with their
    inputs, parameters and results, and the object code. Immutable; save it
    with `save` and load it with `load_executable` (or `uoe.compile`)."""

    def __init__(self, handle):
        self._handle = handle  # uoe_executable_t *, owned

    def __del__(self):
        if getattr(self, "_handle", None) and _lib is not None:
            _lib.uoe_executable_free(self._handle)
            self._handle = None

    @classmethod
    def load(cls, path):
        """Reads a .uoex file (NOT_FOUND, IO_ERROR, DATA_LOSS)."""
        out = ctypes.c_void_p()
        _check(_lib.uoe_executable_load(_fspath(path, "the executable path"),
                                        ctypes.byref(out)))
        return cls(out.value)

    @classmethod
    def from_bytes(cls, data):
        """An Executable from its serialised bytes (what `to_bytes` or a .uoex
        file holds)."""
        data = bytes(data)
        out = ctypes.c_void_p()
        _check(_lib.uoe_executable_load_bytes(data, len(data), ctypes.byref(out)))
        return cls(out.value)

    def save(self, path):
        """Writes the Executable to `path` atomically."""
        _check(_lib.uoe_executable_save(self._handle, _fspath(path, "the path")))

    def _info(self):
        info = _capi.ExecutableInfo()
        _check(_lib.uoe_executable_info(self._handle, ctypes.byref(info)))
        return info

    @property
    def target(self):
        """"cpu:<triple>:<cpu>:<features digest>"."""
        return self._info().target.decode()

    @property
    def model_name(self):
        return self._info().model_name.decode()

    @property
    def compiler(self):
        return self._info().compiler.decode()

    @property
    def cache_key(self):
        return self._info().cache_key.decode()

    @property
    def entry_points(self):
        """The names of the entry points, e.g. ["forward"]."""
        names = []
        for i in range(self._info().num_entry_points):
            name = ctypes.c_char_p()
            _check(_lib.uoe_executable_entry_point_name(self._handle, i, ctypes.byref(name)))
            names.append(name.value.decode())
        return names

    def _specs(self, entry, role):
        key = _entry_bytes(entry)
        count = ctypes.c_size_t()
        _check(_lib.uoe_executable_tensor_count(self._handle, key, role, ctypes.byref(count)))
        specs = []
        for i in range(count.value):
            t = _capi.Tensor()
            _check(_lib.uoe_executable_tensor_spec(self._handle, key, role, i, ctypes.byref(t)))
            specs.append(TensorSpec(t.name.decode(), _capi.DTYPE_NAMES[t.dtype],
                                    tuple(t.shape[d] for d in range(t.rank))))
        return specs

    def inputs(self, entry="forward"):
        """The inputs of `entry`, in calling order: a list of TensorSpec."""
        return self._specs(entry, _capi.ROLE_INPUT)

    def parameters(self, entry="forward"):
        """The parameters (weights) of `entry`: a list of TensorSpec."""
        return self._specs(entry, _capi.ROLE_PARAMETER)

    def results(self, entry="forward"):
        """The results of `entry`, in order: a list of TensorSpec."""
        return self._specs(entry, _capi.ROLE_RESULT)

    def __repr__(self):
        return (f"<uoe.Executable {self.model_name or '(unnamed)'} "
                f"entry points {self.entry_points} for {self.target}>")


def load_executable(path):
    """Reads a .uoex file; the same as Executable.load(path)."""
    return Executable.load(path)


def _entry_bytes(entry):
    if not isinstance(entry, str):
        raise Error(INVALID_ARGUMENT,
                    f"the entry point must be a name (str), not a {type(entry).__name__}")
    return entry.encode()


class _Session:
    """uoe_session_t: device, threads, cache directory. Outlives its models
    (they keep a reference)."""

    def __init__(self, device, threads, cache_dir):
        if not isinstance(device, str):
            raise Error(INVALID_ARGUMENT, f"device must be a str such as 'cpu', not {device!r}")
        if isinstance(threads, bool) or not isinstance(threads, int):
            raise Error(INVALID_ARGUMENT,
                        f"threads must be an int (0: one per core), not {threads!r}")
        options = _capi.SessionOptions()
        _lib.uoe_session_options_init(ctypes.byref(options))
        options.device = device.encode()
        options.threads = threads
        options.cache_dir = None if cache_dir is None else _fspath(cache_dir, "cache_dir")
        out = ctypes.c_void_p()
        _check(_lib.uoe_session_create(ctypes.byref(options), ctypes.byref(out)))
        self._handle = out.value

    def __del__(self):
        if getattr(self, "_handle", None) and _lib is not None:
            _lib.uoe_session_free(self._handle)
            self._handle = None


class _Entry:
    """What a run of one entry point needs, prepared once: the input and
    result specs, and uoe_tensor_t arrays for them with everything but the
    data pointers filled in (reused by every run; a model runs one call at a
    time)."""
    __slots__ = ("name", "key", "inputs", "results", "c_inputs", "c_outputs",
                 "result_types", "_keep")

    def __init__(self, executable, name):
        self.name, self.key = name, name.encode()
        self.inputs = executable.inputs(name)
        self.results = executable.results(name)
        self._keep = []
        self.c_inputs = self._structs(self.inputs)
        self.c_outputs = self._structs(self.results)
        self.result_types = [_tensors.NUMPY_DTYPES[r.dtype] for r in self.results]

    def _structs(self, specs):
        structs = (_capi.Tensor * max(len(specs), 1))()
        for t, spec in zip(structs, specs):
            shape = (ctypes.c_int64 * len(spec.shape))(*spec.shape)
            self._keep.append(shape)
            t.dtype = _capi.DTYPES[spec.dtype][0]
            t.rank = len(spec.shape)
            t.shape = shape
            t.memory = _capi.MEMORY_HOST
        return structs


class _Loaded:
    """uoe_model_t: one Executable loaded for the session's device, with its
    weights bound."""

    def __init__(self, session, executable, weights):
        self.session, self.executable = session, executable
        out = ctypes.c_void_p()
        _check(_lib.uoe_model_create(session._handle, executable._handle, ctypes.byref(out)))
        self._handle = out.value
        self.entries = {name: _Entry(executable, name) for name in executable.entry_points}
        self._bind(weights)

    def __del__(self):
        if getattr(self, "_handle", None) and _lib is not None:
            _lib.uoe_model_free(self._handle)
            self._handle = None

    def _bind(self, weights):
        # Entry points with the same parameters share one binding in the
        # runtime (prefill and decode_step, forward and forward_grad): bind
        # one of each.
        with_params, seen = [], set()
        for e in self.entries:
            params = tuple(self.executable.parameters(e))
            if params and params not in seen:
                seen.add(params)
                with_params.append(e)
        if weights is None:
            return  # running an entry point with parameters says what is missing
        if isinstance(weights, (str, bytes, os.PathLike)):
            path = _fspath(weights, "weights")
            for entry in with_params:
                _check(_lib.uoe_model_bind_safetensors(self._handle, entry.encode(), path))
            return
        # A dict: each entry point gets the weights it names; a weight that no
        # entry point takes is an error (with one entry point, the C API's).
        if len(with_params) != 1:
            wanted = {p.name for e in with_params for p in self.executable.parameters(e)}
            extra = sorted(set(weights) - wanted)
            if extra:
                raise Error(INVALID_ARGUMENT,
                            f"weight '{extra[0]}' is not a parameter of any entry point")
        for entry in with_params:
            names = ({p.name for p in self.executable.parameters(entry)}
                     if len(with_params) > 1 else None)
            items = [(n, v) for n, v in weights.items() if names is None or n in names]
            tensors = (_capi.Tensor * max(len(items), 1))()
            keep = []
            for i, (name, v) in enumerate(items):
                keep.append(_tensors.fill(tensors[i], v, name.encode()))
            _check(_lib.uoe_model_bind_weights(self._handle, entry.encode(), tensors,
                                               len(items)))

    def run(self, entry, views, torch_out):
        """Runs `entry` on Views already checked against its inputs (so
        their shapes are the entry's); returns the results (NumPy arrays, or
        PyTorch tensors when `torch_out`). The caller holds the model's lock."""
        c_inputs, c_outputs = entry.c_inputs, entry.c_outputs
        for i, v in enumerate(views):
            c_inputs[i].data = v.data
        arrays = []
        for i, spec in enumerate(entry.results):
            a = np.empty(spec.shape, entry.result_types[i])
            arrays.append(a)
            c_outputs[i].data = _tensors.address(a)
        _check(_lib.uoe_model_run(self._handle, entry.key, c_inputs, len(views),
                                  c_outputs, len(arrays)))
        if torch_out:
            from_numpy = sys.modules["torch"].from_numpy  # imported by the caller
            return [from_numpy(a) for a in arrays]
        return arrays


def _views_of_weights(weights):
    """Weights as given for binding: None, a safetensors path, or a dict of
    name -> View (read in place, not copied)."""
    if weights is None or isinstance(weights, (str, bytes, os.PathLike)):
        return weights
    if not hasattr(weights, "items"):
        raise Error(INVALID_ARGUMENT,
                    f"weights must be a safetensors path or a dict name -> array, "
                    f"not a {type(weights).__name__}")
    views = {}
    for name, value in weights.items():
        if not isinstance(name, str):
            raise Error(INVALID_ARGUMENT, f"weight names must be str, not {name!r}")
        views[name] = _tensors.view(value, f"weight '{name}'")
    return views


def _weights_snapshot(weights):
    """Weights kept for compilations still to come: a safetensors path as it
    is, a dict as contiguous host copies (the caller may change its arrays
    afterwards)."""
    views = _views_of_weights(weights)
    if not isinstance(views, dict):
        # A later compilation may run in another working directory.
        return views if views is None else os.path.abspath(os.fsdecode(views))
    snapshot = {}
    for name, v in views.items():
        array = np.array(v.numpy(), copy=True)
        snapshot[name] = _tensors.View(v.dtype, v.shape, _tensors.address(array), array, array)
    return snapshot


_SUFFIXES = (".pbtxt", ".txtpb", ".textproto", ".mlir", ".uoex")


def _classify(description, kind):
    """("model-file" | "model-text" | "mlir-text" | "executable", payload)."""
    if isinstance(description, Executable):
        return "executable", description
    if isinstance(description, (bytes, bytearray, memoryview)) and kind in (None, "executable"):
        return "executable", Executable.from_bytes(description)
    if isinstance(description, os.PathLike):
        description = os.fspath(description)
    if not isinstance(description, str):
        raise Error(INVALID_ARGUMENT,
                    "the description must be a path or text (str), the bytes of an "
                    f"Executable or an Executable, not a {type(description).__name__}")
    one_line = "\n" not in description.strip()
    is_path = one_line and (os.path.exists(description) or description.endswith(_SUFFIXES))
    if kind not in (None, "model", "mlir", "executable"):
        raise Error(INVALID_ARGUMENT,
                    f"kind must be 'model', 'mlir' or 'executable', not {kind!r}")
    if is_path:
        if not os.path.isfile(description):
            raise Error(NOT_FOUND, f"{description}: no such file")
        if kind == "executable" or (kind is None and description.endswith(".uoex")):
            return "executable", Executable.load(description)
        if kind == "mlir" or (kind is None and description.endswith(".mlir")):
            with open(description, encoding="utf-8") as f:
                return "mlir-text", f.read()
        return "model-file", os.path.abspath(description)
    if kind == "executable":
        raise Error(INVALID_ARGUMENT, "kind='executable' needs a .uoex path or bytes")
    if kind == "mlir" or (kind is None and "func.func" in description):
        return "mlir-text", description
    return "model-text", description


_DEFAULT = object()


def compile(description, weights=None, *, device="cpu", threads=0,
            cache_dir=_DEFAULT, kind=None, input_shape=None, gradients=False,
            precision="f32", decoding=False):
    """Compiles a model and binds its weights; returns a callable `Model`.

    description: a model description (docs/MODEL_FORMAT.md) as a .pbtxt path
        or its text; `uoe` MLIR as a .mlir path or its text (every public
        `func.func` with `llvm.emit_c_interface` is an entry point); or a
        compiled Executable: a .uoex path, its bytes or an `Executable`.
        `kind` ("model", "mlir", "executable") overrides the guess.
    weights: a safetensors path, or a dict name -> array (NumPy, PyTorch, any
        DLPack tensor; f32, f16, bf16 or f64, converted to f32). A dict is
        copied at once, so its arrays may change afterwards. None: bind
        nothing (entry points without parameters still run).
    device: "cpu", "cuda" or "cuda:N" (compiled for that GPU; tensors in
        host memory, copied in and out by the runtime).
    threads: CPU threads for a run; 0 (default) means one per core.
    cache_dir: the compiled-model cache directory; default: uoe-run's
        ($XDG_CACHE_HOME/uoe or ~/.cache/uoe); None: no cache.
    input_shape: for a description, compile and bind at once for inputs of
        this shape ([B, T] or [B, T, d]; only B and T matter), so that errors
        (missing weights, ...) show here rather than on the first call.
    gradients: for a description, also compile the entry point
        `forward_grad` (compiled gradients; see `Model.vjp`).
    precision: for a description on the cpu, "f32" (default) or "bf16":
        every GEMM on bf16 operands with f32 sums (AMX or AVX512-BF16 where
        the CPU has them); everything else stays f32.
    decoding: for a language model description on the cpu, compile
        incremental decoding instead of `forward`: the entry points
        `prefill` (the prompts' [B, P], compiled per P) and `decode_step`
        over a key/value cache (`KvCache`); `Model.generate` runs them.
    """
    if cache_dir is _DEFAULT:
        cache_dir = default_cache_dir()
    what, payload = _classify(description, kind)
    session = _Session(device, threads, cache_dir)
    if gradients and what not in ("model-file", "model-text"):
        raise Error(INVALID_ARGUMENT, "gradients=True needs a model description "
                    "(MLIR and Executables carry the entry points they were built with)")
    if precision not in ("f32", "bf16"):
        raise Error(INVALID_ARGUMENT, f"precision must be 'f32' or 'bf16', not {precision!r}")
    if precision != "f32" and what not in ("model-file", "model-text"):
        raise Error(INVALID_ARGUMENT, "precision='bf16' needs a model description "
                    "(MLIR and Executables carry the code they were built with)")
    if decoding and (what not in ("model-file", "model-text") or gradients
                     or device != "cpu"):
        raise Error(INVALID_ARGUMENT, "decoding=True needs a model description, "
                    "the cpu and no gradients")
    if what in ("model-file", "model-text"):
        model = Model(session, what, payload, _weights_snapshot(weights), gradients,
                      precision, decoding)
        if input_shape is not None:
            shape = tuple(input_shape)
            if len(shape) < 2:
                raise Error(INVALID_ARGUMENT,
                            f"input_shape must be [B, T] or [B, T, d], not {list(shape)}")
            model._variant(shape[0], shape[1])
        return model
    if what == "mlir-text":
        out = ctypes.c_void_p()
        _log.info("uoe: compiling MLIR text ...")
        _check(_lib.uoe_session_compile_mlir(session._handle, payload.encode(),
                                             ctypes.byref(out)))
        payload = Executable(out.value)
    return Model(session, "executable", payload, _views_of_weights(weights))


class KvCache:
    """A key/value cache for a model compiled with decoding=True: `layers`
    attention layers, `batch` sequences of up to `capacity` positions,
    `width` = d_model. Pass `handle` (as an int64 array of shape []) as the
    `kv_cache` input of `prefill` and `decode_step`; the memory is freed with
    the object."""

    def __init__(self, layers, batch, capacity, width):
        out = ctypes.c_void_p()
        _check(_lib.uoe_kv_cache_create(int(layers), int(batch), int(capacity),
                                        int(width), ctypes.byref(out)))
        self._handle = out.value

    def __del__(self):
        if getattr(self, "_handle", None) and _lib is not None:
            _lib.uoe_kv_cache_free(self._handle)
            self._handle = None

    @property
    def handle(self):
        """The value of the `kv_cache` input that names this cache."""
        return int(_lib.uoe_kv_cache_handle(self._handle))


class Model:
    """A compiled model with its weights bound, ready to call.

    `model(*inputs, **named)` runs the entry point `forward` (or the only
    one); `model.run(entry, ...)` any entry point. Inputs are NumPy arrays,
    DLPack tensors or nested lists, positional in the entry point's order or
    by name (`attention_mask=...`). A description's model takes token ids
    int64 [B, T] (int32 is widened; every id must lie in the vocabulary) or
    hidden states f32 [B, T, d], and for `attention_mask: true` a mask
    [B, T] (int64, int32 or bool; non-zero = token); every new [B, T] is
    compiled on first use. Returns one array, or a tuple for several results.
    """

    def __init__(self, session, what, payload, weights, gradients=False,
                 precision="f32", decoding=False):
        self._session = session
        self._weights = weights
        self._gradients = bool(gradients)
        self._precision = precision
        self._decoding = bool(decoding)
        self._lock = threading.Lock()
        self._description = None
        self._variants = {}  # (batch, seq) -> _Loaded, for descriptions
        if what == "executable":
            self._fixed = _Loaded(session, payload, weights)
            self._weights = None  # bound; nothing more to compile
        else:
            self._fixed = None
            self._description = (what, payload)

    # --- introspection -------------------------------------------------------

    @property
    def entry_points(self):
        """The entry point names (["forward"] for a description, and
        "forward_grad" when compiled with gradients)."""
        if self._fixed is None:
            if self._decoding:
                return ["prefill", "decode_step"]
            return ["forward", "forward_grad"] if self._gradients else ["forward"]
        return list(self._fixed.entries)

    def executable(self, batch=None, seq=None):
        """The Executable run for inputs of [batch, seq] (compiled now if
        needed); a model made from MLIR or an Executable has just one."""
        if self._fixed is not None:
            return self._fixed.executable
        if batch is None or seq is None:
            if len(self._variants) != 1:
                raise Error(INVALID_ARGUMENT,
                            "this model is compiled per input shape: give batch and seq "
                            f"(compiled so far: {sorted(self._variants)})")
            return next(iter(self._variants.values())).executable
        with self._lock:
            return self._variant(batch, seq).executable

    @property
    def compiled_shapes(self):
        """The [batch, seq] compiled so far, for a description."""
        return sorted(self._variants)

    def __repr__(self):
        if self._fixed is not None:
            return f"<uoe.Model of {self._fixed.executable!r}>"
        return f"<uoe.Model of a description; compiled for {self.compiled_shapes}>"

    # --- running -------------------------------------------------------------

    def _variant(self, batch, seq):
        for d, n in (("batch", batch), ("seq", seq)):
            if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n <= 0:
                raise Error(INVALID_ARGUMENT, f"{d} must be a positive int, not {n!r}")
        key = (int(batch), int(seq))
        loaded = self._variants.get(key)
        if loaded is None:
            what, payload = self._description
            source = os.fsencode(payload) if what == "model-file" else payload.encode()
            flags = _capi.COMPILE_GRADIENTS if self._gradients else 0
            if self._precision == "bf16":
                flags |= _capi.COMPILE_BF16
            if self._decoding:
                flags |= _capi.COMPILE_DECODING
            out = ctypes.c_void_p()
            # Compiling can take a while (the cache makes a second time quick).
            _log.info("uoe: compiling %s for input [%d, %d]%s ...",
                      payload if what == "model-file" else "a model description",
                      key[0], key[1], (" with gradients" if self._gradients else "") +
                      (" in bf16" if self._precision == "bf16" else ""))
            _check(_lib.uoe_session_compile_model_ex(
                self._session._handle, source, int(what == "model-file"), key[0], key[1],
                flags, ctypes.byref(out)))
            loaded = _Loaded(self._session, Executable(out.value), self._weights)
            self._variants[key] = loaded
        return loaded

    def bind(self, weights):
        """Replaces the bound weights (a safetensors path or a dict name ->
        array, as for `compile`) in every compiled shape, and for shapes
        compiled later."""
        with self._lock:
            if self._fixed is not None:
                self._fixed._bind(_views_of_weights(weights))
                return
            self._weights = _weights_snapshot(weights)
            for loaded in self._variants.values():
                loaded._bind(self._weights)

    def vjp(self, *inputs, grad_output, **named):
        """Compiled gradients: runs `forward_grad` on the inputs and the
        gradient `grad_output` of a scalar objective with respect to the
        forward's result. Returns (result, gradients): gradients maps
        "d_<name>" to an array for every float input and every parameter.
        Needs a model compiled with gradients=True."""
        entry = "forward_grad"
        with self._lock:
            if entry not in (self._fixed.entries if self._fixed is not None
                             else self.entry_points):
                raise Error(NOT_FOUND, "this model has no entry point forward_grad; "
                            "compile it with gradients=True")
            # The seed input follows the forward's inputs; pass it by name.
            loaded, _ = self._prepare("forward", inputs, named)
            seed = loaded.entries[entry].inputs[-1].name
            loaded, views = self._prepare(entry, inputs, {**named, seed: grad_output})
            e = loaded.entries[entry]
            results = loaded.run(e, views, any(v.torch for v in views))
        names = [spec.name for spec in e.results]
        return results[0], dict(zip(names[1:], results[1:]))

    def generate(self, prompts, max_new_tokens, *, capacity=None):
        """Greedy generation for a model compiled with decoding=True:
        `prompts` are token ids [B, P] (int64 or int32); runs `prefill` on
        them (compiled for P rounded up to 16) and then `decode_step` per
        new token over a fresh `KvCache` of `capacity` positions (default
        P + max_new_tokens). Returns the new
        ids, int64 [B, max_new_tokens] (the first largest logit each)."""
        if not self._decoding:
            raise Error(FAILED_PRECONDITION, "generate needs a model compiled with "
                        "decoding=True")
        ids = np.ascontiguousarray(_tensors.view(prompts, "prompts").numpy(),
                                   dtype=np.int64)
        if ids.ndim != 2 or ids.shape[0] < 1 or ids.shape[1] < 1:
            raise Error(INVALID_ARGUMENT, f"prompts must be token ids [B, P], not "
                        f"shape {list(ids.shape)}")
        batch, length = ids.shape
        new = int(max_new_tokens)
        if new < 0:
            raise Error(INVALID_ARGUMENT, "max_new_tokens must not be negative")
        out = np.zeros((batch, new), dtype=np.int64)
        if new == 0:
            return out
        # prefill is compiled for the prompts' length rounded up to 16 (as
        # uoe-run generate does), so that nearby lengths share it; the
        # padding after the prompt is never attended. Beyond the learned
        # positions, the exact length.
        compiled = -(-length // 16) * 16
        with self._lock:
            try:
                loaded = self._variant(batch, compiled)
            except Error:
                compiled = length
                loaded = self._variant(batch, compiled)
        params = loaded.executable.parameters("prefill")
        layers = sum(1 for p in params if p.name.endswith(".attn.wqkv"))
        width = next(p.shape[1] for p in params if p.name == "embedding.weight")
        cache = KvCache(max(1, layers), batch,
                        max(compiled, capacity or length + new), width)
        zeros = np.zeros(batch, dtype=np.int64)
        handle = np.array(cache.handle, dtype=np.int64)
        padded = np.zeros((batch, compiled), dtype=np.int64)
        padded[:, :length] = ids
        logits = self.run("prefill", padded, zeros, np.full(batch, length - 1), handle)
        for step in range(new):
            out[:, step] = np.argmax(logits, axis=-1)
            if step + 1 < new:
                logits = self.run("decode_step", out[:, step:step + 1],
                                  np.full(batch, length + step), zeros, handle)
        return out

    def __call__(self, *inputs, **named):
        if self._fixed is not None:
            names = self._fixed.entries
            entry = "forward" if "forward" in names or len(names) != 1 else next(iter(names))
        else:
            entry = "forward"
        return self.run(entry, *inputs, **named)

    def run(self, entry, *inputs, **named):
        """Runs entry point `entry` on `inputs` (positional, then by name)."""
        with self._lock:
            loaded, views = self._prepare(entry, inputs, named)
            e = loaded.entries[entry]
            torch_out = any(v.torch for v in views)
            results = loaded.run(e, views, torch_out)
        return results[0] if len(results) == 1 else tuple(results)

    def _prepare(self, entry, inputs, named):
        """The loaded model for `entry` and the checked views of the inputs."""
        if self._fixed is not None:
            loaded = self._fixed
            if entry not in loaded.entries:
                raise Error(NOT_FOUND, f"no entry point '{entry}'; the model has: "
                            f"{', '.join(loaded.entries)}")
            specs = loaded.entries[entry].inputs
            ordered = self._order(entry, specs, inputs, named)
            views = [self._check(spec, _tensors.view(x, f"input '{spec.name}'", spec.dtype))
                     for spec, x in zip(specs, ordered)]
            return loaded, views

        # A description: the first input's [B, T] selects the compilation.
        if entry not in self.entry_points:
            hint = ("; compile with gradients=True for forward_grad"
                    if entry == "forward_grad" else "")
            raise Error(NOT_FOUND, f"no entry point '{entry}'; the model has: "
                        f"{', '.join(self.entry_points)}{hint}")
        first = inputs[0] if inputs else next(iter(named.values()), None)
        if first is None:
            raise Error(INVALID_ARGUMENT, "forward takes at least one input: token ids "
                        "int64 [B, T] or hidden states f32 [B, T, d]")
        v0 = _tensors.view(first, "the input")
        if len(v0.shape) not in (2, 3):
            raise Error(INVALID_ARGUMENT,
                        "the model takes token ids int64 [B, T] or hidden states "
                        f"f32 [B, T, d], but the input is {_tensors.describe(v0.dtype, v0.shape)}")
        if entry == "decode_step":
            # One compilation serves both steps: the prompts' (prefill's)
            # shape of this batch, whichever P it was.
            loaded = next((l for (b, _), l in self._variants.items()
                           if b == v0.shape[0]), None) or self._variant(v0.shape[0], 1)
        else:
            loaded = self._variant(v0.shape[0], v0.shape[1])
        specs = loaded.entries[entry].inputs
        if inputs:
            inputs = (v0,) + tuple(inputs[1:])
        else:
            named = dict(named)
            named[next(iter(named))] = v0
        ordered = self._order(entry, specs, inputs, named)
        views = []
        for spec, x in zip(specs, ordered):
            v = x if isinstance(x, _tensors.View) else _tensors.view(
                x, f"input '{spec.name}'", spec.dtype)
            if spec.dtype == "i64" and v.dtype in ("i32", "bool", "u8", "i8") and len(v.shape) == 2:
                # int32 ids and bool masks, as uoe-run takes them.
                a = v.numpy()
                a = (a != 0) if spec.name == "attention_mask" else a
                a = np.ascontiguousarray(a, dtype=np.int64)
                v = _tensors.View("i64", a.shape, a.ctypes.data, a, a, v.torch)
            views.append(self._check(spec, v))
        return loaded, views

    @staticmethod
    def _order(entry, specs, inputs, named):
        """The inputs in calling order: `inputs` first, then `named` by name."""
        if len(inputs) > len(specs):
            raise Error(INVALID_ARGUMENT,
                        f"entry point '{entry}' takes {len(specs)} input(s) "
                        f"({', '.join(s.name for s in specs)}), but {len(inputs)} were given")
        if not named and len(inputs) == len(specs):
            return inputs
        taken = [s.name for s in specs]
        for name in named:
            if name not in taken:
                raise Error(INVALID_ARGUMENT, f"entry point '{entry}' has no input "
                            f"'{name}' (its inputs: {', '.join(taken)})")
            if taken.index(name) < len(inputs):
                raise Error(INVALID_ARGUMENT,
                            f"input '{name}' of entry point '{entry}' is given twice")
        ordered = list(inputs)
        for spec in specs[len(inputs):]:
            if spec.name not in named:
                raise Error(INVALID_ARGUMENT,
                            f"entry point '{entry}' takes {len(specs)} input(s) "
                            f"({', '.join(str(s) for s in specs)}); '{spec.name}' is missing")
            ordered.append(named[spec.name])
        return ordered

    @staticmethod
    def _check(spec, v):
        if v.dtype != spec.dtype or tuple(v.shape) != spec.shape:
            hint = ""
            if v.dtype != spec.dtype and spec.dtype in _tensors.NUMPY_DTYPES:
                hint = (f"; convert it (e.g. x.astype(numpy.{_tensors.NUMPY_DTYPES[spec.dtype]})"
                        f" or tensor.to(torch.{_tensors.NUMPY_DTYPES[spec.dtype]}))")
            raise Error(INVALID_ARGUMENT,
                        f"input '{spec.name}' must be {_tensors.describe(spec.dtype, spec.shape)}, "
                        f"but it is {_tensors.describe(v.dtype, v.shape)}{hint}")
        return v

