# Tests incremental decoding from Python: uoe.compile with decoding set gives the
# entry points prefill and decode_step; Model.generate's greedy ids equal
# those of rerunning forward on the whole sequence per token (NumPy argmax),
# and the steps' logits equal forward's at every position; a KvCache runs
# the entry points by hand; errors name the problem.
# REQUIRES: compiler
# RUN: %uoe_python %s %t | FileCheck %s
import os

import numpy as np
import uoe
from uoetest import workdir

tmp = workdir()
MODEL = """
name: "py_decoder"
d_model: 16
layout: PRE_LN
final_norm: true
embedding { vocab_size: 40 position: LEARNED max_positions: 24 }
blocks { dense_attention { heads: 2 causal: true } dense_mlp { hidden: 32 } repeat: 2 }
lm_head { tie_embeddings: true }
"""
rng = np.random.default_rng(3)
cache_dir = os.path.join(tmp, "cache")
forward = uoe.compile(MODEL, cache_dir=cache_dir, threads=1, input_shape=(2, 12))
weights = {}
for spec in forward.executable(2, 12).parameters():
    scale = 0.2 if spec.name.endswith("norm1.weight") or spec.name.endswith("norm2.weight") else 0.5
    weights[spec.name] = (rng.standard_normal(spec.shape) * scale).astype(np.float32)
forward.bind(weights)
decoder = uoe.compile(MODEL, weights, cache_dir=cache_dir, threads=1, decoding=True)
print(decoder.entry_points)
# CHECK: ['prefill', 'decode_step']

prompts = rng.integers(0, 40, (2, 4))
new = decoder.generate(prompts, 8)
print(new.shape, new.dtype)
# CHECK: (2, 8) int64

# The same greedy ids by rerunning forward on the sequence so far.
seq = np.zeros((2, 12), dtype=np.int64)
seq[:, :4] = prompts
for step in range(8):
    logits = forward(seq)
    seq[:, 4 + step] = np.argmax(logits[:, 3 + step], axis=-1)
np.testing.assert_array_equal(new, seq[:, 4:])

# By hand: the steps' logits equal forward's at their positions.
full = forward(seq)
cache = uoe.KvCache(2, 2, 12, 16)
handle = np.array(cache.handle, dtype=np.int64)
logits = decoder.run("prefill", prompts, np.zeros(2, np.int64), np.array([3, 1]), handle)
assert np.abs(logits - full[:, [3, 1]].diagonal().T).max() < 1e-5
logits = decoder.run("prefill", prompts, np.zeros(2, np.int64), np.array([3, 3]), handle)
for position in range(4, 12):
    logits = decoder.run("decode_step", seq[:, position:position + 1],
                         np.full(2, position), np.zeros(2, np.int64), handle)
    assert np.abs(logits - full[:, position]).max() < 1e-5, position
print("steps match forward")
# CHECK: steps match forward

try:
    decoder.run("decode_step", seq[:, :1], np.full(2, 12), np.zeros(2, np.int64), handle)
except uoe.Error as e:
    print(e.code_name, "|", e.message.split(" (")[0])
# CHECK: invalid argument | uoe_kv_attend: sequence 0 writes position 12, outside the cache's 12 positions
try:
    forward.generate(prompts, 2)
except uoe.Error as e:
    print(e.code_name, "|", e.message)
# CHECK: failed precondition | generate needs a model compiled with decoding=True
try:
    uoe.compile(MODEL, weights, decoding=True, gradients=True)
except uoe.Error as e:
    print(e.code_name, "|", e.message)
# CHECK: invalid argument | decoding=True needs a model description, the cpu and no gradients

# Causal-safe SMHA (head-group experts with their own caches): generate's ids
# equal forward's greedy ids.
SMHA = MODEL.replace("dense_attention { heads: 2 causal: true }",
                     "smha { heads: 4 experts: 2 top_k: 1 causal: true rope: ORIGINAL "
                     "combine: GATED routing: CAUSAL_SAFE }")
forward = uoe.compile(SMHA, cache_dir=cache_dir, threads=1, input_shape=(2, 12))
weights = {spec.name: (rng.standard_normal(spec.shape) * 0.5).astype(np.float32)
           for spec in forward.executable(2, 12).parameters()}
forward.bind(weights)
decoder = uoe.compile(SMHA, weights, cache_dir=cache_dir, threads=1, decoding=True)
new = decoder.generate(prompts, 8)
seq[:, :4] = prompts
for step in range(8):
    seq[:, 4 + step] = np.argmax(forward(seq)[:, 3 + step], axis=-1)
np.testing.assert_array_equal(new, seq[:, 4:])
print("smha ids match forward")
# CHECK: smha ids match forward
