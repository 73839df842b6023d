# Tests uoe.torch.Module(..., trainable=True): backward runs the compiled
# `forward_grad` (uoe.compile(..., gradients=True)). Its gradients of a
# parameter and of the input agree with central differences of the module's
# own forward (f32, h = 1e-2: 2% is the resolution there), a union-mode
# router gets exactly zero gradient, and a few steps of a torch optimizer on
# the Parameters lower the loss (each forward binds their current values).
# Also Model.vjp directly, and the error without gradients=True.
# REQUIRES: compiler, torch
# RUN: %uoe_python %s %t | FileCheck %s
import os

import numpy as np
import torch
import uoe
import uoe.torch
from uoetest import expect_error, workdir

tmp = workdir()
cache = os.path.join(tmp, "cache")
DESC = """
name: "trainable"
d_model: 16
layout: POST_LN
blocks { dense_attention { heads: 2 causal: true } uome { hidden: 32 experts: 2 top_k: 1 } }
"""
probe = uoe.compile(DESC, cache_dir=cache, gradients=True, threads=1)
print(probe.entry_points)
# CHECK: ['forward', 'forward_grad']
rng = np.random.default_rng(0)
specs = probe.executable(2, 6).parameters("forward")
weights = {}
for p in specs:
    if "norm" in p.name and p.name.endswith("weight"):
        weights[p.name] = np.ones(p.shape, np.float32)
    else:
        weights[p.name] = (rng.standard_normal(p.shape) * 0.3).astype(np.float32)

layer = uoe.torch.Module(DESC, weights=weights, trainable=True, cache_dir=cache, threads=1)
torch.manual_seed(0)
x = torch.randn(2, 6, 16).requires_grad_(True)
loss = layer(x).square().sum()
loss.backward()

h = 1e-2


def objective(xv):
    with torch.no_grad():
        return layer(xv).square().sum().item()


for name in ["blocks.0.attn.wqkv", "blocks.0.mlp.w2"]:
    p = layer.weight(name)
    v = torch.randn_like(p)
    with torch.no_grad():
        p.add_(h * v)
        plus = objective(x.detach())
        p.sub_(2 * h * v)
        minus = objective(x.detach())
        p.add_(h * v)
    fd, analytic = (plus - minus) / (2 * h), (p.grad * v).sum().item()
    assert abs(fd - analytic) <= 0.02 * max(1.0, abs(fd)), (name, fd, analytic)
    print(name, "gradient: ok")
# CHECK: blocks.0.attn.wqkv gradient: ok
# CHECK: blocks.0.mlp.w2 gradient: ok
vx = torch.randn_like(x)
fd = (objective(x.detach() + h * vx) - objective(x.detach() - h * vx)) / (2 * h)
analytic = (x.grad * vx).sum().item()
assert abs(fd - analytic) <= 0.02 * max(1.0, abs(fd)), (fd, analytic)
print("input gradient: ok")
# CHECK: input gradient: ok
assert torch.count_nonzero(layer.weight("blocks.0.mlp.router.weight").grad) == 0
print("union router: zero gradient")
# CHECK: union router: zero gradient

opt = torch.optim.Adam(layer.parameters(), lr=1e-2)
losses = []
for step in range(8):
    opt.zero_grad()
    loss = layer(x.detach()).square().mean()
    loss.backward()
    opt.step()
    losses.append(loss.item())
assert losses[-1] < 0.8 * losses[0], losses
print("training: loss falls")
# CHECK: training: loss falls

# Model.vjp: the result and d_<name> for the input and every parameter.
model = uoe.compile(DESC, weights=weights, cache_dir=cache, gradients=True, threads=1)
xs = rng.standard_normal((2, 6, 16)).astype(np.float32)
y, grads = model.vjp(xs, grad_output=np.ones((2, 6, 16), np.float32))
assert np.array_equal(y, model(xs))
assert set(grads) == {"d_hidden"} | {"d_" + n for n in weights}, sorted(grads)
print("vjp: ok")
# CHECK: vjp: ok
plain = uoe.compile(DESC, weights=weights, cache_dir=cache, threads=1)
expect_error(uoe.NOT_FOUND, ["gradients=True"], plain.vjp, xs, grad_output=xs)
# CHECK: error (not found): {{.*}}gradients=True
