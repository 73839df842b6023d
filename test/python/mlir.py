# Tests uoe.compile on `uoe` MLIR text: entry points and their specs, runs
# against a NumPy float64 reference (f32, f64, i64; one and two results;
# inputs by position and by name; lists and non-contiguous arrays), weights
# as a dict and as a safetensors file, and an Executable saved to .uoex,
# loaded back (path and bytes) and run with bit-identical results.
# REQUIRES: compiler
# RUN: %uoe_python %s %t | FileCheck %s
import os

import numpy as np
import uoe
from uoetest import MLIR, workdir

tmp = workdir()
rng = np.random.default_rng(7)
w = rng.standard_normal((2, 3)).astype(np.float32)
model = uoe.compile(MLIR, weights={"w": w}, cache_dir=os.path.join(tmp, "cache"), threads=1)
exe = model.executable()
print(exe.entry_points, exe.inputs(), exe.parameters(), exe.results())
# CHECK: ['forward', 'split'] [TensorSpec(name='x', dtype='f32', shape=(2, 3))] [TensorSpec(name='w', dtype='f32', shape=(2, 3))] [TensorSpec(name='y', dtype='f32', shape=(2, 3))]
print(exe.inputs("split"), exe.results("split"))
# CHECK: [TensorSpec(name='a', dtype='f64', shape=(4,)), TensorSpec(name='b', dtype='i64', shape=(4,))] [TensorSpec(name='result0', dtype='f64', shape=(4,)), TensorSpec(name='result1', dtype='i64', shape=(4,))]
assert exe.target.startswith("cpu:") and exe.compiler.startswith("uoe ")

x = rng.standard_normal((2, 3)).astype(np.float32)
y = model(x)
reference = x.astype(np.float64) ** 2 + w
assert y.dtype == np.float32 and y.shape == (2, 3)
assert np.abs(y - reference).max() < 1e-6, (y, reference)
np.testing.assert_array_equal(model(x=x), y)                  # by name
np.testing.assert_array_equal(model(x.tolist()), y)           # a nested list
xt = np.asfortranarray(x)                                     # not C-contiguous
np.testing.assert_array_equal(model(xt), y)
np.testing.assert_array_equal(model.run("forward", x), y)

a = rng.standard_normal(4)
b = np.array([1, -2, 3, 1 << 40], np.int64)
n, d = model.run("split", a, b)
np.testing.assert_array_equal(n, -a)
np.testing.assert_array_equal(d, 2 * b)
print(n.dtype, d.dtype)
# CHECK: float64 int64

# Save, load back (path and bytes): the same bits.
path = os.path.join(tmp, "m.uoex")
exe.save(path)
for source in (path, uoe.load_executable(path), open(path, "rb").read()):
    again = uoe.compile(source, weights={"w": w}, threads=1)
    np.testing.assert_array_equal(again(x), y)

# Weights from a safetensors file (written by hand: 8-byte header length,
# JSON header, data).
import json, struct
header = json.dumps({"w": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}}).encode()
with open(os.path.join(tmp, "w.safetensors"), "wb") as f:
    f.write(struct.pack("<Q", len(header)) + header + w.tobytes())
from_file = uoe.compile(path, weights=os.path.join(tmp, "w.safetensors"))
np.testing.assert_array_equal(from_file(x), y)

# f64 and f16 weights are converted to f32 by the C API.
np.testing.assert_array_equal(uoe.compile(path, weights={"w": w.astype(np.float64)})(x), y)
print("mlir: ok")
# CHECK: mlir: ok
