#!/usr/bin/env python3
"""Benchmark: greedy generation with a key/value cache, uoe vs transformers.

Usage (from the repository root, after ./scripts/build.sh, with a Python that
has torch, numpy and transformers, e.g. a venv: python3 -m venv V &&
V/bin/pip install torch numpy transformers):

    V/bin/python bench/generate_vs_transformers.py [--batch 1 8] [--prompt 128]
        [--tokens 128] [--threads N] [--rounds R] [--layers 12] [--seed S]

Builds a GPT2LMHeadModel of GPT-2's size (12 layers, n_embd 768, 12 heads,
vocabulary 50257) with random weights (nothing is downloaded), saves it as a
Hugging Face checkpoint, imports it with `uoe-run import --hf`, and times
`uoe-run generate --prompt-ids` (prefill, then one decode_step per token over
the key/value cache; compiled once before the timing) against transformers'
`generate(use_cache=True, do_sample=False)` with exactly `--tokens` new tokens,
on the same prompts and the same number of threads, alternating the two in
`--rounds` rounds. Prints tokens per second (all sequences' new tokens over the
wall time, the prompt's prefill included), the speed-up, and how many of the
generated ids agree (greedy decoding on random weights meets near-ties, where
float rounding may choose differently).
"""

import argparse
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
from layer_vs_torch import cpu_model, import_hf, uoe_gemm_isa  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build", default=os.path.join(ROOT, "build"))
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--prompt", type=int, default=128)
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--layers", type=int, default=12)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    import transformers

    bin_dir = os.path.join(args.build, "bin")
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    config = transformers.GPT2Config(n_layer=args.layers, n_embd=768, n_head=12,
                                     vocab_size=50257, n_positions=1024)
    model = transformers.GPT2LMHeadModel(config).eval()
    print("machine: %s; uoe GEMM kernels: %s; %d threads; torch %s, "
          "transformers %s" % (cpu_model(), uoe_gemm_isa(bin_dir), args.threads,
                               torch.__version__, transformers.__version__))
    print("GPT-2 size (%d layers, n_embd 768, 12 heads, vocabulary 50257, "
          "random weights), prompt %d tokens, %d new tokens, greedy, f32"
          % (args.layers, args.prompt, args.tokens))
    rng = np.random.default_rng(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        description, weights = import_hf(model, tmp, bin_dir)
        for batch in args.batch:
            ids = rng.integers(0, 50257, (batch, args.prompt), dtype=np.int64)
            ids_path = os.path.join(tmp, "ids%d.npy" % batch)
            gen_path = os.path.join(tmp, "gen%d.npy" % batch)
            np.save(ids_path, ids)
            command = [os.path.join(bin_dir, "uoe-run"), "generate",
                       "--model", description, "--weights", weights,
                       "--prompt-ids", ids_path, "--tokens", str(args.tokens),
                       "--threads", str(args.threads), "--output", gen_path,
                       "--cache-dir", os.path.join(tmp, "cache")]

            def ours():
                run = subprocess.run(command, capture_output=True, text=True)
                if run.returncode != 0:
                    sys.exit(run.stderr)
                found = re.search(r"generated \d+ tokens x \d+ sequences in "
                                  r"([0-9.]+) s \(([a-z/ ]+)\)", run.stderr)
                if not found or found.group(2) != "key/value cache":
                    sys.exit("uoe-run generate did not use the cache:\n"
                             + run.stderr)
                return float(found.group(1))

            ids_t = torch.from_numpy(ids)

            def theirs():
                start = time.perf_counter()
                with torch.no_grad():
                    result = model.generate(
                        ids_t, attention_mask=torch.ones_like(ids_t),
                        max_new_tokens=args.tokens, min_new_tokens=args.tokens,
                        do_sample=False, use_cache=True, pad_token_id=0)
                return time.perf_counter() - start, result

            ours()  # compiles (cached afterwards) and warms up
            theirs()
            ours_s, theirs_s = [], []
            for _ in range(max(1, args.rounds)):
                ours_s.append(ours())
                seconds, result = theirs()
                theirs_s.append(seconds)
            new = batch * args.tokens
            ratios = [t / o for o, t in zip(ours_s, theirs_s)]
            generated = np.load(gen_path)
            reference = result[:, args.prompt:].numpy()
            agree = float((generated == reference).mean())
            first = [int(np.argmax(generated[r] != reference[r]))
                     if (generated[r] != reference[r]).any() else args.tokens
                     for r in range(batch)]
            print("  batch %d: uoe %7.1f tokens/s (median %.2f s), "
                  "transformers %7.1f tokens/s (median %.2f s), speed-up "
                  "%.2fx (rounds: %s); ids equal %.1f%%, first difference "
                  "at %s" % (batch, new / statistics.median(ours_s),
                             statistics.median(ours_s),
                             new / statistics.median(theirs_s),
                             statistics.median(theirs_s),
                             statistics.median(ratios),
                             ", ".join("%.2f" % r for r in ratios),
                             100 * agree, first))
    return 0


if __name__ == "__main__":
    sys.exit(main())
