"""Compiling and running a model from Python (docs/EMBEDDING.md, "Python").

    python3 examples/python_example.py MODEL.pbtxt OUT.uoex CACHE_DIR

The uoe package end to end: compile a model description for hidden states
[2, 16, d_model] (lazily, on the first call with that shape), read what its
entry point `forward` takes, make every weight in NumPy and bind it, run
`forward` and print a checksum; then save the Executable, load it back and
check that it computes the same bits; with PyTorch installed, run it as a
torch.nn.Module on a tensor too. test/python/example.test runs it on the
small test/e2e/Inputs/tiny_uoe.pbtxt; examples/uoe_layer.pbtxt works too.
"""
import sys

import numpy as np
import uoe

path, saved, cache = sys.argv[1:4]
print(f"uoe C API {uoe.api_version()}")

# What the model takes, from the Executable compiled for [2, 16].
spec_model = uoe.compile(path, cache_dir=cache, threads=2)
exe = spec_model.executable(batch=2, seq=16)       # compiled for [2, 16]
print(f"compiled '{exe.model_name}' with entry points {exe.entry_points}")
rng = np.random.default_rng(42)
weights = {}
for p in exe.parameters("forward"):
    is_norm = "norm" in p.name and p.name.endswith(".weight")
    weights[p.name] = (np.ones(p.shape, np.float32) if is_norm
                       else rng.uniform(-0.1, 0.1, p.shape).astype(np.float32))
print(f"made {len(weights)} weights")

# Compile with the weights (the cache has it now) and run.
model = uoe.compile(path, weights=weights, cache_dir=cache, threads=2)
x = rng.uniform(-1, 1, exe.inputs()[0].shape).astype(np.float32)
y = model(x)                                       # a NumPy array
print(f"output: {y.dtype} {list(y.shape)}")
print(f"checksum: sum {y.sum(dtype=np.float64):.4f}, sum of |y| {np.abs(y).sum(dtype=np.float64):.4f}")

# Save the Executable, load it back: the same bits.
model.executable(2, 16).save(saved)
reloaded = uoe.compile(saved, weights=weights)
assert np.array_equal(reloaded(x), y)
print(f"reloaded {saved}: identical output")

try:
    import torch
except ImportError:
    torch = None
if torch is not None:
    import uoe.torch
    layer = uoe.torch.Module(model)
    with torch.no_grad():
        y_torch = layer(torch.from_numpy(x))
    assert torch.equal(y_torch, torch.from_numpy(y))
    print("torch.nn.Module: identical output")

try:
    model(x.astype(np.float64))
except uoe.Error as e:
    print(f"error ({e.code_name}): {e}")
