#!/usr/bin/env python3
"""Benchmark: one UoE LM layer, uoe (compiled) vs PyTorch eager and torch.compile.

Usage (from the repository root, after ./scripts/build.sh, with a Python that
has torch and numpy, e.g. a venv: python3 -m venv V && V/bin/pip install
torch numpy):

    V/bin/python bench/layer_vs_torch.py [--size issue|paper|large]
        [--device cpu|cuda] [--backward] [--torch-compile]
        [--threads N] [--iterations I] [--rounds R] [--batch B --seq T]
        [--model M.pbtxt]

Writes fresh weights with `uoe-run init` and a random input, runs
`uoe-bench` (compile once, time the forward pass, or with --backward the
forward and backward pass for an output gradient of ones) and the same
spec in PyTorch (bench/torch_uoe_layer.py) on the same weights and input
with the same number of threads (on the CPU) or on the same GPU, eager and,
with --torch-compile, under torch.compile; checks that the outputs (and the
input gradients) agree, and prints the medians and the speed-ups.

The timings alternate: `--rounds` rounds (3 by default), each timing uoe
and then every PyTorch peer for iterations / rounds runs, so that a machine
whose speed drifts (a shared host) slows both sides alike. The medians
printed are the medians of the rounds' medians, the speed-up is the median
of the rounds' ratios, and the rounds' ratios are listed.

Sizes: `issue` (bench/uoe_lm_layer.pbtxt, B=8 T=256 d=512 H=8 F=2048 E=4),
`paper` (the paper's WikiText-103 layer, bench/uoe_lm_layer_paper.pbtxt,
B=60 T=150 d=400 H=10 F=2100 E=4), `large` (bench/uoe_lm_layer_large.pbtxt,
B=16 T=2048 d=2048 H=16 F=8192 E=8). The model file must be of the
benchmark's form (post-LN SMHA + UoME, union, softmax, GELU, compacted RoPE,
one top_k for both layers).
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


SIZES = {
    "issue": ("bench/uoe_lm_layer.pbtxt", 8, 256),
    "paper": ("bench/uoe_lm_layer_paper.pbtxt", 60, 150),
    "large": ("bench/uoe_lm_layer_large.pbtxt", 16, 2048),
}


def time_torch(fn, warmup, iterations, device):
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    for _ in range(warmup):
        fn()
    sync()
    times = []
    for _ in range(iterations):
        start = time.perf_counter()
        fn()
        sync()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times), min(times)


def rounds_summary(ours, peer):
    """(median, min, median ratio, ratios) from per-round (median, min)
    pairs of uoe and one peer."""
    ratios = [p[0] / o[0] for o, p in zip(ours, peer)]
    return (statistics.median(p[0] for p in peer), min(p[1] for p in peer),
            statistics.median(ratios), ratios)


def cpu_model():
    """The CPU's model name, from /proc/cpuinfo."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def library_gemm_rates(threads, device):
    """PyTorch's GEMM rates on this machine, measured now (GFLOP/s): f32
    (MKL on the CPU) and bf16 (oneDNN, AMX where the CPU has it), for a
    2048 x 512 x 2048 product, so that every ratio has its own yardstick."""
    torch.set_num_threads(threads)
    rates = {}
    for name, dtype in (("f32", torch.float32), ("bf16", torch.bfloat16)):
        a = torch.randn(2048, 512, dtype=dtype, device=device)
        b = torch.randn(512, 2048, dtype=dtype, device=device)
        median, _ = time_torch(lambda: torch.mm(a, b), 3, 20, device)
        rates[name] = 2 * 2048 * 512 * 2048 / (median * 1e-3) / 1e9
    return rates


def uoe_gemm_isa(bin_dir):
    """The ISA of uoe's CPU GEMM kernels, as `uoe-run --version` says."""
    out = subprocess.run([os.path.join(bin_dir, "uoe-run"), "--version"],
                         capture_output=True, text=True).stdout
    match = re.search(r"CPU GEMM kernels (\w+) \(bf16: (\w+)\)", out)
    return "%s, bf16 %s" % match.groups() if match else "unknown"


def import_hf(model, tmp, bin_dir):
    """Saves the transformers `model` as a Hugging Face checkpoint under
    `tmp` and imports it with `uoe-run import --hf` (token-id inputs);
    returns the imported description's and weights' paths."""
    hf, out = os.path.join(tmp, "hf"), os.path.join(tmp, "uoe")
    model.save_pretrained(hf, safe_serialization=True)
    subprocess.run([os.path.join(bin_dir, "uoe-run"), "import", "--hf", hf,
                    "-o", out, "--inputs", "ids"], check=True,
                   stdout=subprocess.DEVNULL)
    return os.path.join(out, "model.pbtxt"), os.path.join(out, "weights.safetensors")


def torch_peer(layer, x, w, backward):
    """A function running `layer` once (forward, or forward and backward of
    sum(y)) and one that returns (y, dx) for checking."""
    if not backward:
        def run():
            with torch.inference_mode():
                return layer(x, w)

        def result():
            return run().cpu().numpy(), None
        return run, result
    xg = x.clone().requires_grad_(True)
    wg = {k: v.clone().requires_grad_(True) for k, v in w.items()}

    def run():
        xg.grad = None
        y = layer(xg, wg)
        y.backward(torch.ones_like(y))
        return y

    def result():
        y = run()
        return y.detach().cpu().numpy(), xg.grad.cpu().numpy()
    return run, result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="issue")
    parser.add_argument("--model", help="default: the size's model file")
    parser.add_argument("--build", default=os.path.join(ROOT, "build"))
    parser.add_argument("--batch", type=int, help="default: the size's")
    parser.add_argument("--seq", type=int, help="default: the size's")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--backward", action="store_true",
                        help="time forward + backward (output gradient of ones)")
    parser.add_argument("--precision", choices=["f32", "bf16"], default="f32",
                        help="bf16: uoe --precision bf16 against PyTorch "
                             "under bf16 autocast (the difference is printed)")
    parser.add_argument("--torch-compile", action="store_true",
                        help="also time the PyTorch layer under torch.compile")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3,
                        help="alternate uoe and PyTorch this many times")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rounds = max(1, args.rounds)
    per_round = max(1, args.iterations // rounds)
    model, batch, seq = SIZES[args.size]
    args.model = args.model or os.path.join(ROOT, model)
    args.batch = args.batch or batch
    args.seq = args.seq or seq

    text = open(args.model).read()
    d = int(field(text, "d_model"))
    heads = int(field(text, "heads"))
    top_k = int(field(text, "top_k"))
    capacity = field(text, "capacity")

    bin_dir = os.path.join(args.build, "bin")
    with tempfile.TemporaryDirectory() as tmp:
        weights = os.path.join(tmp, "w.safetensors")
        x_path, y_path = os.path.join(tmp, "x.npy"), os.path.join(tmp, "y.npy")
        dx_path = os.path.join(tmp, "dx.npy")
        subprocess.run([os.path.join(bin_dir, "uoe-run"), "init", "--model",
                        args.model, "--output", weights, "--seed",
                        str(args.seed)], check=True, stdout=subprocess.DEVNULL)
        rng = np.random.default_rng(args.seed)
        x = rng.standard_normal((args.batch, args.seq, d), dtype=np.float32)
        np.save(x_path, x)

        command = [os.path.join(bin_dir, "uoe-bench"), "--model", args.model,
                   "--weights", weights, "--input", x_path, "--output", y_path,
                   "--bench-threads", str(args.threads), "--warmup",
                   str(args.warmup), "--iterations", str(per_round),
                   "--device", args.device, "--precision", args.precision]
        if args.backward:
            command += ["--backward", "--grad-output", dx_path]

        def time_ours():
            out = subprocess.run(command, capture_output=True, text=True)
            if out.returncode != 0:
                print(out.stderr, file=sys.stderr, end="")
                return None
            return json.loads(out.stdout)

        torch.set_num_threads(args.threads)
        w = {k: v.to(args.device)
             for k, v in torch_uoe_layer.load_safetensors(weights).items()}
        xt = torch.from_numpy(x).to(args.device)

        def layer(x, w):
            if args.precision == "bf16":
                with torch.autocast(args.device, dtype=torch.bfloat16):
                    return torch_uoe_layer.uoe_layer(
                        x, w, heads, top_k, capacity).float()
            return torch_uoe_layer.uoe_layer(x, w, heads, top_k, capacity)
        peers = [("PyTorch eager", layer)]
        if args.torch_compile:
            peers.append(("torch.compile", torch.compile(layer)))
        runs = []
        for name, fn in peers:
            run, result = torch_peer(fn, xt, w, args.backward)
            y_torch, dx_torch = result()
            runs.append((name, run, y_torch, dx_torch))
        ours_rounds, peer_rounds = [], [[] for _ in runs]
        for _ in range(rounds):
            ours = time_ours()
            if ours is None:
                return 1
            ours_rounds.append((ours["median_ms"], ours["min_ms"], ours))
            for times, (name, run, _, _) in zip(peer_rounds, runs):
                times.append(time_torch(run, args.warmup, per_round,
                                        args.device))
        y_ours = np.load(y_path)
        dx_ours = np.load(dx_path) if args.backward else None
        timings = [(name,) + rounds_summary(ours_rounds, times) +
                   (y_torch, dx_torch)
                   for times, (name, _, y_torch, dx_torch)
                   in zip(peer_rounds, runs)]

    what = "forward + backward" if args.backward else "forward"
    if args.device == "cpu":
        rates = library_gemm_rates(args.threads, args.device)
        print(f"machine: {cpu_model()}; uoe GEMM kernels: {uoe_gemm_isa(bin_dir)}; "
              f"PyTorch GEMM 2048x512x2048: f32 {rates['f32']:.0f} GFLOP/s, "
              f"bf16 {rates['bf16']:.0f} GFLOP/s ({args.threads} threads)")
    print(f"layer: {os.path.basename(args.model)}  B={args.batch} T={args.seq} "
          f"d={d} H={heads}  {what}  device={args.device}  threads={args.threads}"
          f"  precision={args.precision}  torch {torch.__version__}")
    our_median = statistics.median(o[0] for o in ours_rounds)
    our_min = min(o[1] for o in ours_rounds)
    compile_s = ours_rounds[0][2]["compile_ms"] / 1e3
    print(f"  uoe (compiled)   median {our_median:9.2f} ms  min {our_min:9.2f} ms"
          f"  (compile {compile_s:.1f} s; {rounds} rounds of {per_round})")
    status = 0
    for name, median, least, ratio, ratios, y_torch, dx_torch in timings:
        diff = float(np.abs(y_ours - y_torch).max())
        each = ", ".join(f"{r:.2f}" for r in ratios)
        line = (f"  {name:<16} median {median:9.2f} ms  min {least:9.2f} ms"
                f"  speed-up {ratio:.2f}x (rounds: {each})"
                f"  max |dy| {diff:.2e}")
        if dx_torch is not None:
            ddx = float(np.abs(dx_ours - dx_torch).max())
            scale = max(1.0, float(np.abs(dx_torch).max()))
            line += f"  max |d dx| {ddx:.2e} (of {scale:.2g})"
            if not ddx < 1e-3 * scale:
                status = 1
        print(line)
        # In bf16 the two sides round differently (and may route some tokens
        # differently): the difference is printed, not judged.
        if args.precision == "f32" and not diff < 1e-3:
            status = 1
    if status:
        print("error: uoe and PyTorch disagree", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
