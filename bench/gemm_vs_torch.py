#!/usr/bin/env python3
"""Benchmark: uoe's own CPU GEMM (runtime/CpuGemm.h) against PyTorch's
(MKL for f32) on the GEMM shapes of the benchmark layer, same threads, one
run. Prints the CPU, uoe's kernel ISA and, per shape, both rates and the
ratio.

    V/bin/python bench/gemm_vs_torch.py [--threads N] [--iterations I] [SHAPE ...]

SHAPE is MxNxK[xBATCH][tA][tB] (default: bench/uoe_lm_layer.pbtxt's GEMMs).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from layer_vs_torch import cpu_model  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def torch_rate(shape, threads, iterations):
    text = shape
    ta, tb = False, False
    if text.endswith("tB"):
        tb, text = True, text[:-2]
    if text.endswith("tA"):
        ta, text = True, text[:-2]
    dims = [int(v) for v in text.split("x")]
    m, n, k = dims[:3]
    batch = dims[3] if len(dims) > 3 else 1
    torch.set_num_threads(threads)
    a = torch.randn(batch, k, m) if ta else torch.randn(batch, m, k)
    b = torch.randn(batch, n, k) if tb else torch.randn(batch, k, n)
    a = a.transpose(1, 2) if ta else a
    b = b.transpose(1, 2) if tb else b
    run = (lambda: torch.bmm(a, b))
    for _ in range(3):
        run()
    times = []
    for _ in range(iterations):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    return 2.0 * batch * m * n * k / median / 1e9, median * 1e3


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", default=os.path.join(ROOT, "build"))
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("shapes", nargs="*")
    args = parser.parse_args()
    out = subprocess.run([os.path.join(args.build, "bin", "uoe-gemm-bench"),
                          "--threads", str(args.threads), "--iterations",
                          str(args.iterations)] + args.shapes,
                         capture_output=True, text=True)
    if out.returncode != 0:
        print(out.stderr, file=sys.stderr, end="")
        return 1
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    print(f"machine: {cpu_model()}; uoe GEMM kernels: {rows[0]['isa']}; "
          f"{args.threads} threads; torch {torch.__version__}")
    print(f"  {'shape':<18} {'uoe GFLOP/s':>12} {'PyTorch GFLOP/s':>16} {'ratio':>7}")
    for row in rows:
        rate, _ = torch_rate(row["shape"], args.threads, args.iterations)
        print(f"  {row['shape']:<18} {row['gflops']:>12.0f} {rate:>16.0f} "
              f"{row['gflops'] / rate:>6.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
