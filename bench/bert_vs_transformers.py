#!/usr/bin/env python3
"""Benchmark: a BERT encoder, uoe (imported and compiled) vs transformers.

Usage (from the repository root, after ./scripts/build.sh, with a Python that
has torch, numpy and transformers, e.g. a venv: python3 -m venv V &&
V/bin/pip install torch numpy transformers):

    V/bin/python bench/bert_vs_transformers.py [--batch 8] [--seq 128]
        [--threads N] [--iterations I] [--rounds R] [--seed S]

Builds a BertModel of all-MiniLM-L6-v2's configuration (6 layers, hidden
384, 12 heads, intermediate 1536, vocabulary 30522) with random weights
(nothing is downloaded), saves it as a Hugging Face checkpoint, imports it
with `uoe-run import --hf`, and times `uoe-bench` (compile once, then the
forward pass on token ids [B, T]) against transformers' forward pass
(`torch.no_grad`, eager) with the same number of threads, on the same ids.
Checks that the last hidden states agree and prints the medians, the
speed-up, the CPU, the ISA of uoe's GEMM kernels and PyTorch's own GEMM
rates measured in the same run. The timings alternate in `--rounds` rounds
(3 by default), as in bench/layer_vs_torch.py.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from layer_vs_torch import (cpu_model, import_hf,  # noqa: E402
                            library_gemm_rates, rounds_summary, time_torch,
                            uoe_gemm_isa)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

MINILM = dict(vocab_size=30522, hidden_size=384, num_hidden_layers=6,
              num_attention_heads=12, intermediate_size=1536,
              max_position_embeddings=512, type_vocab_size=2,
              hidden_act="gelu", layer_norm_eps=1e-12)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build", default=os.path.join(ROOT, "build"))
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--seq", type=int, default=128)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3,
                        help="alternate uoe and transformers this many times")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rounds = max(1, args.rounds)
    per_round = max(1, args.iterations // rounds)
    import transformers

    bin_dir = os.path.join(args.build, "bin")
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    model = transformers.BertModel(transformers.BertConfig(**MINILM),
                                   add_pooling_layer=False).eval()
    rng = np.random.default_rng(args.seed)
    ids = rng.integers(0, MINILM["vocab_size"], (args.batch, args.seq),
                       dtype=np.int64)
    with tempfile.TemporaryDirectory() as tmp:
        description, weights = import_hf(model, tmp, bin_dir)
        ids_path, y_path = os.path.join(tmp, "ids.npy"), os.path.join(tmp, "y.npy")
        np.save(ids_path, ids)
        command = [os.path.join(bin_dir, "uoe-bench"),
                   "--model", description, "--weights", weights,
                   "--input", ids_path, "--output", y_path,
                   "--bench-threads", str(args.threads),
                   "--warmup", str(args.warmup),
                   "--iterations", str(per_round)]
        ids_t = torch.from_numpy(ids)

        def forward():
            with torch.no_grad():
                return model(input_ids=ids_t).last_hidden_state
        ours_rounds, peer_rounds = [], []
        for _ in range(rounds):
            run = subprocess.run(command, capture_output=True, text=True)
            if run.returncode != 0:
                print(run.stderr, file=sys.stderr, end="")
                return 1
            ours = json.loads(run.stdout)
            ours_rounds.append((ours["median_ms"], ours["min_ms"]))
            peer_rounds.append(time_torch(forward, args.warmup, per_round,
                                          "cpu"))
        y_ours = np.load(y_path)
    median, minimum, ratio, ratios = rounds_summary(ours_rounds, peer_rounds)
    diff = float(np.abs(forward().numpy() - y_ours).max())

    rates = library_gemm_rates(args.threads, "cpu")
    print("machine: %s; uoe GEMM kernels: %s; PyTorch GEMM 2048x512x2048: "
          "f32 %.0f GFLOP/s, bf16 %.0f GFLOP/s (%d threads)"
          % (cpu_model(), uoe_gemm_isa(bin_dir), rates["f32"], rates["bf16"],
             args.threads))
    print("BERT (all-MiniLM-L6-v2 configuration, random weights), batch %d x %d "
          "tokens, threads=%d, torch %s, transformers %s"
          % (args.batch, args.seq, args.threads, torch.__version__,
             transformers.__version__))
    print("  uoe (compiled)   median %9.2f ms  min %9.2f ms  (compile %.1f s; "
          "%d rounds of %d)"
          % (statistics.median(o[0] for o in ours_rounds),
             min(o[1] for o in ours_rounds), ours["compile_ms"] / 1e3, rounds,
             per_round))
    print("  transformers     median %9.2f ms  min %9.2f ms  speed-up %.2fx "
          "(rounds: %s)  max |dy| %.2e"
          % (median, minimum, ratio, ", ".join("%.2f" % r for r in ratios),
             diff))
    return 0 if diff < 1e-3 else 1


if __name__ == "__main__":
    sys.exit(main())
