#!/usr/bin/env python3
"""Times the PyTorch peer of a benchmark layer on a GPU: eager and under
torch.compile, forward or forward + backward (gradient of sum(y)).

    python3 bench/gpu_torch_peer.py --uoe-exec bin/uoe-exec \\
        --executable bench/paper.uoex --model bench/uoe_lm_layer_paper.pbtxt \\
        --shape 60,150,400 [--backward] [--warmup 3] [--iterations 20]

Part of the GPU bundle (scripts/gpu_bundle.sh, scripts/gpu_check.sh): the
weights are random, with the names and shapes that `uoe-exec --info` lists
for the Executable, as uoe-exec --random-weights draws its own (the timing,
not the values, is compared). Prints one JSON line per variant, timed with
CUDA events (median of the iterations after the warm-up).
"""

import argparse
import json
import os
import re
import subprocess
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_uoe_layer  # noqa: E402


def parameters(uoe_exec, executable):
    info = subprocess.run([uoe_exec, "--executable", executable, "--info"],
                          check=True, capture_output=True, text=True).stdout
    # Only the first entry point's (forward's) parameters.
    first = info.split("entry ")[1]
    return [(m.group(1), [int(s) for s in m.group(2).split(",")])
            for m in re.finditer(r"parameter (\S+): f32 \[([0-9, ]+)\]", first)]


def field(text, name):
    match = re.search(r"\b%s:\s*([0-9.]+)" % name, text)
    return float(match.group(1)) if match else None


def median_ms(fn, warmup, iterations):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(iterations):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end))
    times.sort()
    return times[len(times) // 2]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uoe-exec", required=True)
    parser.add_argument("--executable", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--shape", required=True)
    parser.add_argument("--backward", action="store_true")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--iterations", type=int, default=20)
    args = parser.parse_args()

    text = open(args.model).read()
    heads, top_k = int(field(text, "heads")), int(field(text, "top_k"))
    capacity = field(text, "capacity")
    gen = torch.Generator(device="cuda").manual_seed(0)
    w = {}
    for name, shape in parameters(args.uoe_exec, args.executable):
        if "norm" in name and name.endswith("weight"):
            w[name] = torch.ones(shape, device="cuda")
        elif len(shape) < 2:
            w[name] = torch.zeros(shape, device="cuda")
        else:
            scale = shape[-2] ** -0.5
            w[name] = (torch.rand(shape, device="cuda", generator=gen) * 2 - 1) * scale
    x = torch.randn([int(s) for s in args.shape.split(",")], device="cuda", generator=gen)

    def layer(x, w):
        return torch_uoe_layer.uoe_layer(x, w, heads, top_k, capacity)

    for name, fn in [("eager", layer), ("torch.compile", torch.compile(layer))]:
        if args.backward:
            xg = x.clone().requires_grad_(True)
            wg = {k: v.clone().requires_grad_(True) for k, v in w.items()}

            def run():
                y = fn(xg, wg)
                y.backward(torch.ones_like(y))
        else:
            def run():
                with torch.inference_mode():
                    fn(x, w)
        ms = median_ms(run, args.warmup, args.iterations)
        print(json.dumps({"peer": name, "backward": args.backward, "median_ms": round(ms, 3)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
