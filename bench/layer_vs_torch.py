#!/usr/bin/env python3
"""Benchmark: one UoE LM layer forward, uoe (compiled, CPU) vs PyTorch eager.

Usage (from the repository root, after ./scripts/build.sh, with a Python that
has torch and numpy, e.g. a venv: python3 -m venv V && V/bin/pip install
torch numpy):

    V/bin/python bench/layer_vs_torch.py [--threads N] [--iterations I]
        [--batch 8 --seq 256] [--model bench/uoe_lm_layer.pbtxt]

Writes fresh weights with `uoe-run init` and a random input, runs
`uoe-bench` (compile once, time the forward pass) and the eager
implementation of bench/torch_uoe_layer.py on the same weights and input
with the same number of threads, checks that the outputs agree, and prints
both medians and the speed-up. The model file must be the benchmark's
configuration (post-LN SMHA + UoME, union, softmax, GELU, compacted RoPE).
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_uoe_layer  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def field(text, name):
    match = re.search(r"\b%s:\s*([0-9.]+)" % name, text)
    return float(match.group(1)) if match else None


def time_torch(fn, warmup, iterations):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(iterations):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times), min(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=os.path.join(ROOT, "bench/uoe_lm_layer.pbtxt"))
    parser.add_argument("--build", default=os.path.join(ROOT, "build"))
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--seq", type=int, default=256)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    text = open(args.model).read()
    d = int(field(text, "d_model"))
    heads = int(field(text, "heads"))
    top_k = int(field(text, "top_k"))
    capacity = field(text, "capacity")

    bin_dir = os.path.join(args.build, "bin")
    with tempfile.TemporaryDirectory() as tmp:
        weights = os.path.join(tmp, "w.safetensors")
        x_path, y_path = os.path.join(tmp, "x.npy"), os.path.join(tmp, "y.npy")
        subprocess.run([os.path.join(bin_dir, "uoe-run"), "init", "--model",
                        args.model, "--output", weights, "--seed",
                        str(args.seed)], check=True, stdout=subprocess.DEVNULL)
        rng = np.random.default_rng(args.seed)
        x = rng.standard_normal((args.batch, args.seq, d), dtype=np.float32)
        np.save(x_path, x)

        out = subprocess.run(
            [os.path.join(bin_dir, "uoe-bench"), "--model", args.model,
             "--weights", weights, "--input", x_path, "--output", y_path,
             "--bench-threads", str(args.threads), "--warmup",
             str(args.warmup), "--iterations", str(args.iterations)],
            check=True, capture_output=True, text=True)
        ours = json.loads(out.stdout)
        y_ours = np.load(y_path)

        torch.set_num_threads(args.threads)
        w = torch_uoe_layer.load_safetensors(weights)
        xt = torch.from_numpy(x)
        with torch.inference_mode():
            run = lambda: torch_uoe_layer.uoe_layer(xt, w, heads, top_k, capacity)
            y_torch = run().numpy()
            eager_median, eager_min = time_torch(run, args.warmup, args.iterations)

    diff = float(np.abs(y_ours - y_torch).max())
    print(f"layer: {os.path.basename(args.model)}  B={args.batch} T={args.seq} "
          f"d={d} H={heads}  threads={args.threads}  torch {torch.__version__}")
    print(f"  uoe (compiled)   median {ours['median_ms']:9.2f} ms  min {ours['min_ms']:9.2f} ms"
          f"  (compile {ours['compile_ms'] / 1e3:.1f} s)")
    print(f"  PyTorch eager    median {eager_median:9.2f} ms  min {eager_min:9.2f} ms")
    print(f"  speed-up over eager: {eager_median / ours['median_ms']:.2f}x"
          f"   max |uoe - torch| = {diff:.2e}")
    if not diff < 1e-3:
        print("error: the outputs disagree", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
