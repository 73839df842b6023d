"""Helpers of the Python package tests (test/python): error expectations, a
work directory from argv, and small MLIR modules."""
import os
import shutil
import sys

import uoe


def workdir():
    """A fresh directory: argv[1] (lit's %t), emptied."""
    path = sys.argv[1]
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


def expect_error(code, fragments, fn, *args, **kwargs):
    """Calls fn(*args, **kwargs), which must raise uoe.Error of `code` whose
    message contains every fragment; prints the message (for FileCheck)."""
    try:
        fn(*args, **kwargs)
    except uoe.Error as e:
        message = str(e)
        assert e.code == code, f"expected code {code}, got {e.code} ({e.code_name}): {message}"
        for fragment in fragments:
            assert fragment in message, f"{fragment!r} not in {message!r}"
        print(f"error ({e.code_name}): {message}")
        return e
    raise AssertionError(f"{getattr(fn, '__name__', fn)} did not raise uoe.Error {code}")


# y = x * x + w (named), a second entry point with two results, and one
# without parameters.
MLIR = """
func.func @forward(%x: tensor<2x3xf32> {uoe.input = "x"},
                   %w: tensor<2x3xf32> {uoe.param = "w"})
    -> (tensor<2x3xf32> {uoe.result = "y"}) attributes {llvm.emit_c_interface} {
  %sq = arith.mulf %x, %x : tensor<2x3xf32>
  %y = arith.addf %sq, %w : tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}
func.func @split(%a: tensor<4xf64> {uoe.input = "a"}, %b: tensor<4xi64> {uoe.input = "b"})
    -> (tensor<4xf64>, tensor<4xi64>) attributes {llvm.emit_c_interface} {
  %n = arith.negf %a : tensor<4xf64>
  %d = arith.addi %b, %b : tensor<4xi64>
  return %n, %d : tensor<4xf64>, tensor<4xi64>
}
"""

# The smallest entry point: y = x + w over f32 [4].
TINY = """
func.func @forward(%x: tensor<4xf32> {uoe.input = "x"}, %w: tensor<4xf32> {uoe.param = "w"})
    -> (tensor<4xf32> {uoe.result = "y"}) attributes {llvm.emit_c_interface} {
  %y = arith.addf %x, %w : tensor<4xf32>
  return %y : tensor<4xf32>
}
"""
