# Tests that every mistake is a uoe.Error with the C API's code and a
# message naming the problem, never a crash: bad descriptions and MLIR,
# missing files, devices and options, wrong dtypes, shapes and input counts,
# missing and extra weights, token ids outside the vocabulary, and a model
# run before weights are bound.
# REQUIRES: compiler
# RUN: %uoe_python %s %t | FileCheck %s
import os

import numpy as np
import uoe
from uoetest import MLIR, TINY, expect_error, workdir

tmp = workdir()
cache = os.path.join(tmp, "cache")
src = os.environ["UOE_SRC_ROOT"] if "UOE_SRC_ROOT" in os.environ else os.path.join(
    os.path.dirname(__file__), os.pardir, os.pardir)
tiny_uoe = os.path.join(src, "test", "e2e", "Inputs", "tiny_uoe.pbtxt")
classifier = os.path.join(src, "test", "e2e", "Inputs", "masked_classifier.pbtxt")

# Descriptions and MLIR.
# A description compiles per input shape, on the first call, or at once with
# input_shape: that is when its errors show.
bad = "name: \"x\" d_model: oops"
expect_error(uoe.INVALID_ARGUMENT, ["<text>", "1:"], uoe.compile, bad, cache_dir=None,
             input_shape=(1, 4))
# CHECK: error (invalid argument): <text>:1:
expect_error(uoe.INVALID_ARGUMENT, ["<text>", "1:"], uoe.compile(bad, cache_dir=None),
             np.zeros((1, 4, 8), np.float32))
expect_error(uoe.NOT_FOUND, ["missing.pbtxt: no such file"], uoe.compile,
             os.path.join(tmp, "missing.pbtxt"))
# CHECK: error (not found): {{.*}}missing.pbtxt: no such file
expect_error(uoe.INVALID_ARGUMENT, ["cannot parse"], uoe.compile,
             "func.func @f( {", cache_dir=None)
# CHECK: error (invalid argument): {{.*}}cannot parse
expect_error(uoe.DATA_LOSS, ["not a uoe Executable"], uoe.compile, b"junk")
expect_error(uoe.INVALID_ARGUMENT, ["must be a path or text"], uoe.compile, 42)
expect_error(uoe.INVALID_ARGUMENT, ["kind must be"], uoe.compile, TINY, kind="onnx")

# Sessions.
expect_error(uoe.INVALID_ARGUMENT, ["unknown device 'cuda:x'"], uoe.compile, TINY,
             device="cuda:x")
# CHECK: error (invalid argument): uoe_session_create: unknown device 'cuda:x' (cpu, cuda or cuda:<N>)
expect_error(uoe.INVALID_ARGUMENT, ["unknown device 'tpu'"], uoe.compile, TINY, device="tpu")
expect_error(uoe.INVALID_ARGUMENT, ["threads is -1"], uoe.compile, TINY, threads=-1)
expect_error(uoe.INVALID_ARGUMENT, ["threads must be an int"], uoe.compile, TINY, threads="2")

# Weights.
w = np.zeros(4, np.float32)
expect_error(uoe.INVALID_ARGUMENT, ["'w'", "[4]", "[3]"], uoe.compile, TINY,
             weights={"w": np.zeros(3, np.float32)}, cache_dir=cache)
# CHECK: error (invalid argument): {{.*}}'w'
expect_error(uoe.INVALID_ARGUMENT, ["'extra'"], uoe.compile, TINY,
             weights={"w": w, "extra": w}, cache_dir=cache)
expect_error(uoe.NOT_FOUND, ["'w'"], uoe.compile, TINY, weights={}, cache_dir=cache)
# CHECK: error (not found): {{.*}}'w'
expect_error(uoe.INVALID_ARGUMENT, ["weights must be a safetensors path or a dict"],
             uoe.compile, TINY, weights=[w], cache_dir=cache)
expect_error(uoe.NOT_FOUND, ["nowhere.safetensors"], uoe.compile, TINY,
             weights=os.path.join(tmp, "nowhere.safetensors"), cache_dir=cache)
NEG = """
func.func @neg(%x: tensor<4xf32>) -> tensor<4xf32> attributes {llvm.emit_c_interface} {
  %y = arith.negf %x : tensor<4xf32>
  return %y : tensor<4xf32>
}
"""
expect_error(uoe.INVALID_ARGUMENT, ["weight 'w' is not a parameter of any entry point"],
             uoe.compile, NEG, weights={"w": w}, cache_dir=cache)
assert (uoe.compile(NEG, cache_dir=cache)(-w - 1) == 1).all()  # the only entry point
unbound = uoe.compile(TINY, cache_dir=cache)
expect_error(uoe.FAILED_PRECONDITION, [], unbound, w)
# CHECK: error (failed precondition):

# Inputs.
model = uoe.compile(TINY, weights={"w": w}, cache_dir=cache)
expect_error(uoe.INVALID_ARGUMENT, ["input 'x' must be f32 [4], but it is f64 [4]",
                                    "astype(numpy.float32)"], model, np.zeros(4))
# CHECK: error (invalid argument): input 'x' must be f32 [4], but it is f64 [4]; convert it
expect_error(uoe.INVALID_ARGUMENT, ["input 'x' must be f32 [4], but it is f32 [2, 2]"],
             model, np.zeros((2, 2), np.float32))
# CHECK: error (invalid argument): input 'x' must be f32 [4], but it is f32 [2, 2]
expect_error(uoe.INVALID_ARGUMENT, ["takes 1 input(s)", "2 were given"], model, w, w)
expect_error(uoe.INVALID_ARGUMENT, ["'x' is missing"], model)
expect_error(uoe.INVALID_ARGUMENT, ["no input 'y'"], model, y=w)
expect_error(uoe.INVALID_ARGUMENT, ["given twice"], model, w, x=w)
expect_error(uoe.INVALID_ARGUMENT, ["not an array"], model, {"a": 1})
expect_error(uoe.INVALID_ARGUMENT, ["NumPy dtype complex128"], model, np.zeros(4, complex))
expect_error(uoe.NOT_FOUND, ["no entry point 'backward'", "forward"], model.run, "backward", w)
two = uoe.compile(MLIR, weights={"w": np.zeros((2, 3), np.float32)}, cache_dir=cache)
expect_error(uoe.INVALID_ARGUMENT, ["input 'b' must be i64 [4], but it is i32 [4]"],
             two.run, "split", np.zeros(4), np.zeros(4, np.int32))

# A description: the input's rank, token ids, the attention mask.
expect_error(uoe.INVALID_ARGUMENT, ["token ids int64 [B, T] or hidden states f32 [B, T, d]",
                                    "f32 [16]"],
             uoe.compile(tiny_uoe, cache_dir=cache), np.zeros(16, np.float32))
deep = os.path.join(cache, "deep.pbtxt")
with open(deep, "w") as f:
    f.write(open(tiny_uoe).read().replace("repeat: 2", "repeat: 2147483647"))
expect_error(uoe.INVALID_ARGUMENT,
             ["blocks[0].repeat: 2147483647 would make more than the limit of 10000 layers"],
             uoe.compile(deep, cache_dir=cache), np.zeros((2, 8, 16), np.float32))
expect_error(uoe.INVALID_ARGUMENT, ["batch must be a positive int"],
             uoe.compile, tiny_uoe, cache_dir=cache, input_shape=(0, 4))
weights = {}
import struct, json  # noqa: E401
clf = uoe.compile(classifier, cache_dir=cache)
for spec in clf.executable(1, 4).parameters():
    weights[spec.name] = np.full(spec.shape, 0.01, np.float32)
clf = uoe.compile(classifier, weights=weights, cache_dir=cache)
ids = np.array([[72, 101, 300, 1]])
expect_error(uoe.OUT_OF_RANGE, ["input 'tokens': 300 at [0, 2] is outside [0, 256), the rows of its table"],
             clf, ids, attention_mask=np.ones((1, 4), np.int64))
# CHECK: error (out of range): input 'tokens': 300 at [0, 2] is outside [0, 256), the rows of its table
expect_error(uoe.INVALID_ARGUMENT, ["'attention_mask' is missing"], clf, ids % 256)
expect_error(uoe.INVALID_ARGUMENT, ["input 'attention_mask' must be i64 [1, 4], but it is i64 [1, 5]"],
             clf, ids % 256, np.ones((1, 5), np.int64))

# Precision: f32 or bf16, for descriptions only.
expect_error(uoe.INVALID_ARGUMENT, ["precision must be 'f32' or 'bf16'"],
             uoe.compile, tiny_uoe, precision="fp8")
expect_error(uoe.INVALID_ARGUMENT, ["precision='bf16' needs a model description"],
             uoe.compile, "func.func @f() { return }", kind="mlir", precision="bf16")
# bf16 GEMMs: the same logits within bf16's rounding, not the same bits.
clf16 = uoe.compile(classifier, weights=weights, cache_dir=cache, precision="bf16")
mask = np.ones((1, 4), np.int64)
y32, y16 = clf(ids % 256, mask), clf16(ids % 256, mask)
assert np.abs(y32 - y16).max() < 0.05 * max(1.0, float(np.abs(y32).max())), (y32, y16)
print("bf16: within tolerance")
# CHECK: bf16: within tolerance
print("errors: ok")
# CHECK: errors: ok
