"""test/python/uoe-run.test: the package against the outputs of uoe-run in
argv[2] (source root argv[1])."""
import os
import sys

import numpy as np
import uoe

src, tmp = sys.argv[1], sys.argv[2]
cache = os.path.join(tmp, "cache")
inputs = os.path.join(src, "test", "e2e", "Inputs")
entries = lambda: len(os.listdir(cache))  # noqa: E731

before = entries()
model = uoe.compile(os.path.join(inputs, "tiny_uoe.pbtxt"),
                    weights=os.path.join(tmp, "w.safetensors"), cache_dir=cache, threads=2)
x, y = np.load(os.path.join(tmp, "x.npy")), np.load(os.path.join(tmp, "y.npy"))
out = model(x)
assert out.dtype == y.dtype and out.shape == y.shape
np.testing.assert_array_equal(out, y)
assert entries() == before, "the Python package missed uoe-run's cache entry"
print("tiny_uoe [2, 12]: bit-identical to uoe-run (cache hit)")

saved = uoe.compile(os.path.join(tmp, "tiny.uoex"), weights=os.path.join(tmp, "w.safetensors"))
np.testing.assert_array_equal(saved(x), y)
assert saved.executable().cache_key == model.executable(2, 12).cache_key
print("tiny_uoe from tiny.uoex: bit-identical to uoe-run")

clf = uoe.compile(os.path.join(inputs, "masked_classifier.pbtxt"),
                  weights=os.path.join(tmp, "cw.safetensors"), cache_dir=cache)
ids, mask = np.load(os.path.join(tmp, "ids.npy")), np.load(os.path.join(tmp, "mask.npy"))
logits = np.load(os.path.join(tmp, "logits.npy"))
np.testing.assert_array_equal(clf(ids, attention_mask=mask), logits)
np.testing.assert_array_equal(clf(ids.astype(np.int32), mask.astype(bool)), logits)
print("masked_classifier [1, 8]: bit-identical to uoe-run")

# A new [B, T] compiles once (one more cache entry); a shape seen before
# reuses the loaded model.
clf(ids[:, :5], np.ones((1, 5), np.int64))
first = clf.executable(1, 5)
clf(ids[:, 1:6], np.ones((1, 5), np.int64))
assert clf.executable(1, 5) is first
print(f"compiled shapes {clf.compiled_shapes}; cache entries {entries()}")
