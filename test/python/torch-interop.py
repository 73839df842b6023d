# Tests PyTorch interop: CPU tensors reach uoe_model_run without a copy (the
# data pointer handed to the C API is the tensor's own), results come back
# as torch tensors over the NumPy results (no copy), weights from a torch
# state dict (bf16 included), and the errors for CUDA-less devices,
# non-contiguous tensors and wrong dtypes. Then uoe.torch.Module: forward
# equals the model, and without trainable=True it is inference-only:
# backward and training with inputs that require grad raise, saying so
# (torch-train.py tests trainable modules).
# REQUIRES: compiler, torch
# RUN: %uoe_python %s %t | FileCheck %s
import os

import numpy as np
import torch
import uoe
import uoe.torch
from uoe import _capi
from uoetest import MLIR, TINY, expect_error, workdir

tmp = workdir()
cache = os.path.join(tmp, "cache")
w = torch.arange(6, dtype=torch.float32).reshape(2, 3)
model = uoe.compile(MLIR, weights={"w": w}, cache_dir=cache, threads=1)

# Record the pointers uoe_model_run receives.
seen = []
real_run = _capi.lib.uoe_model_run


def spy(handle, entry, inputs, num_inputs, outputs, num_outputs):
    seen.append(([inputs[i].data for i in range(num_inputs)],
                 [outputs[i].data for i in range(num_outputs)]))
    return real_run(handle, entry, inputs, num_inputs, outputs, num_outputs)


_capi.lib.uoe_model_run = spy
x = torch.randn(2, 3)
y = model(x)
assert isinstance(y, torch.Tensor) and y.dtype == torch.float32 and y.shape == (2, 3)
assert seen[-1][0] == [x.data_ptr()], "the input was copied"
assert seen[-1][1] == [y.data_ptr()], "the result was copied"
torch.testing.assert_close(y, x.double().square().float() + w, rtol=0, atol=1e-6)
np.testing.assert_array_equal(y.numpy(), model(x.numpy()))
# A view at an offset (contiguous) is still passed in place.
big = torch.randn(5, 3)
model(big[2:4])
assert seen[-1][0] == [big[2:4].data_ptr()] and big[2:4].data_ptr() != big.data_ptr()
# requires_grad tensors are read through detach(): the same memory.
g = torch.randn(2, 3, requires_grad=True)
model(g)
assert seen[-1][0] == [g.data_ptr()]
a, b = torch.randn(4, dtype=torch.float64), torch.tensor([1, 2, 3, 4])
n, d = model.run("split", a, b)
assert seen[-1][0] == [a.data_ptr(), b.data_ptr()]
assert torch.equal(n, -a) and torch.equal(d, 2 * b)
_capi.lib.uoe_model_run = real_run
print("zero-copy: ok")
# CHECK: zero-copy: ok

# Weights from a state dict in f32, f16, bf16.
for dtype in (torch.float16, torch.bfloat16):
    other = uoe.compile(MLIR, weights={"w": w.to(dtype)}, cache_dir=cache)
    torch.testing.assert_close(other(x), y, rtol=0, atol=0)

expect_error(uoe.INVALID_ARGUMENT, ["not contiguous", "contiguous()"], model, torch.randn(3, 2).t())
# CHECK: error (invalid argument): input 'x' is not contiguous
expect_error(uoe.INVALID_ARGUMENT, ["input 'x' must be f32 [2, 3], but it is f64 [2, 3]"],
             model, x.double())
expect_error(uoe.INVALID_ARGUMENT, ["input 'x' must be f32 [2, 3], but it is bf16 [2, 3]"],
             model, x.bfloat16())
expect_error(uoe.INVALID_ARGUMENT, ["which uoe does not take"], model, torch.zeros(2, 3, dtype=torch.complex64))
if torch.cuda.is_available():
    expect_error(uoe.UNIMPLEMENTED, ["cuda memory"], model, x.cuda())

# uoe.torch.Module.
tiny = uoe.compile(TINY, weights={"w": torch.ones(4)}, cache_dir=cache)
layer = uoe.torch.Module(tiny)
print(layer)
# CHECK: Module(<uoe.Model of <uoe.Executable
v = torch.arange(4, dtype=torch.float32)
assert torch.equal(layer(v), v + 1)
with torch.no_grad():
    assert torch.equal(layer(v.requires_grad_()), v.detach() + 1)
layer.eval()
out = layer(v)                     # grad enabled, an input requires grad
assert out.requires_grad
try:
    out.sum().backward()
    raise AssertionError("backward did not raise")
except RuntimeError as e:
    assert "inference-only unless created with trainable=True" in str(e)
    print("backward:", str(e).splitlines()[0])
# CHECK: backward: uoe.torch.Module is inference-only unless created with trainable=True
layer.train()
try:
    layer(v)
    raise AssertionError("training mode did not raise")
except RuntimeError as e:
    assert "trainable=True" in str(e) and "training mode" in str(e)
    print("training:", str(e))
# CHECK: training: uoe.torch.Module is inference-only unless created with trainable=True {{.*}} training mode
assert torch.equal(layer(v.detach()), v.detach() + 1)   # no grad wanted: fine
# Built from a description in one step.
direct = uoe.torch.Module(TINY, weights={"w": torch.ones(4)}, cache_dir=cache)
assert torch.equal(direct(torch.zeros(4)), torch.ones(4))
print("torch: ok")
# CHECK: torch: ok
