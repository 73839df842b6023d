"""The cost of a call through the Python package against the same
Executable run from C (docs/PERFORMANCE.md, "Python call overhead").

    PYTHONPATH=python python3 python/bench/call_overhead.py [--build build] [--calls 20000]

The model is the smallest entry point there is (y = x + w over f32 [4]), so
that the time per call is the fixed cost of a call: what uoe_model_run costs
(input copies, the program's dispatch) plus what the caller adds. Measured,
each as the median of 5 rounds of --calls calls:

  C         a C loop over uoe_model_run (compiled here with cc against
            libuoe_c.so), on the same .uoex: the floor;
  ctypes    the same loop in Python through ctypes, arguments prepared once;
  numpy     model(x) on a NumPy array, the package's ordinary call;
  torch     model(t) on a PyTorch tensor (DLPack, result a tensor), when
            torch is importable.
"""
import argparse
import ctypes
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

TINY = """
func.func @forward(%x: tensor<4xf32> {uoe.input = "x"}, %w: tensor<4xf32> {uoe.param = "w"})
    -> (tensor<4xf32> {uoe.result = "y"}) attributes {llvm.emit_c_interface} {
  %y = arith.addf %x, %w : tensor<4xf32>
  return %y : tensor<4xf32>
}
"""

C_LOOP = r"""
#include "uoe-c/uoe.h"
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
static void check(uoe_status_t *s) {
  if (s) { fprintf(stderr, "%s\n", uoe_status_message(s)); exit(1); }
}
static double now(void) {
  struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}
int main(int argc, char **argv) {
  long calls = atol(argv[2]), i; int r;
  uoe_session_options_t o; uoe_session_t *s; uoe_executable_t *e; uoe_model_t *m;
  float x[4] = {1, 1, 1, 1}, w[4] = {0, 1, 2, 3}, y[4];
  int64_t shape[1] = {4};
  uoe_tensor_t wt = {"w", UOE_DTYPE_F32, 1, shape, w, UOE_MEMORY_HOST};
  uoe_tensor_t xt = {NULL, UOE_DTYPE_F32, 1, shape, x, UOE_MEMORY_HOST};
  uoe_tensor_t yt = {NULL, UOE_DTYPE_F32, 1, shape, y, UOE_MEMORY_HOST};
  uoe_session_options_init(&o); o.threads = 1;
  check(uoe_session_create(&o, &s));
  check(uoe_executable_load(argv[1], &e));
  check(uoe_model_create(s, e, &m));
  check(uoe_model_bind_weights(m, "forward", &wt, 1));
  for (r = 0; r < 6; ++r) {  /* a warm-up round, then 5 */
    double t0 = now();
    for (i = 0; i < calls; ++i)
      check(uoe_model_run(m, "forward", &xt, 1, &yt, 1));
    if (r) printf("%.3f\n", (now() - t0) / calls * 1e6);
  }
  return y[3] == 4.0f ? 0 : 1;
}
"""


def rounds(fn, calls):
    fn()
    times = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        times.append((time.perf_counter() - start) / calls * 1e6)
    return statistics.median(times)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.normpath(os.path.join(here, os.pardir, os.pardir))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", default=os.path.join(root, "build"))
    parser.add_argument("--calls", type=int, default=20000)
    args = parser.parse_args()
    library = os.path.join(args.build, "lib", "libuoe_c.so")
    os.environ.setdefault("UOE_LIBRARY", library)
    with tempfile.TemporaryDirectory(prefix="uoe-overhead-") as tmp:
        return measure(args, library, root, tmp)


def measure(args, library, root, tmp):
    import uoe
    from uoe import _capi

    model = uoe.compile(TINY, weights={"w": np.arange(4, dtype=np.float32)},
                        threads=1, cache_dir=None)
    exe_path = os.path.join(tmp, "tiny.uoex")
    model.executable().save(exe_path)
    x = np.ones(4, np.float32)
    results = {}

    source = os.path.join(tmp, "loop.c")
    with open(source, "w") as f:
        f.write(C_LOOP)
    binary = os.path.join(tmp, "loop")
    subprocess.run(["cc", "-O2", "-std=c99", "-D_POSIX_C_SOURCE=199309L",
                    "-I", os.path.join(root, "include"), source, "-o", binary,
                    "-L", os.path.dirname(library), "-luoe_c",
                    "-Wl,-rpath," + os.path.dirname(library)], check=True)
    out = subprocess.run([binary, exe_path, str(args.calls)], check=True,
                         stdout=subprocess.PIPE, text=True).stdout.split()
    results["C"] = statistics.median(float(t) for t in out)

    loaded = model._fixed
    entry = loaded.entries["forward"]
    y = np.empty(4, np.float32)
    entry.c_inputs[0].data = x.ctypes.data
    entry.c_outputs[0].data = y.ctypes.data
    run, handle = _capi.lib.uoe_model_run, loaded._handle
    results["ctypes"] = rounds(
        lambda: run(handle, b"forward", entry.c_inputs, 1, entry.c_outputs, 1), args.calls)
    results["numpy"] = rounds(lambda: model(x), args.calls)
    try:
        import torch
        t = torch.ones(4)
        results["torch"] = rounds(lambda: model(t), args.calls)
    except ImportError:
        pass

    floor = results["C"]
    print(f"uoe call overhead, {args.calls} calls x 5 rounds (median), model y = x + w, f32 [4]:")
    for name, us in results.items():
        extra = "" if name == "C" else f"  ({us - floor:+.2f} us over C)"
        print(f"  {name:7s} {us:7.2f} us/call{extra}")


if __name__ == "__main__":
    sys.exit(main())
