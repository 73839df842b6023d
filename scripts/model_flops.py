#!/usr/bin/env python3
"""Parameters and FLOPs per token of a model description, analytically
(standard library only; the formulas are in docs/TRAINING.md, "Experiments"):

  scripts/model_flops.py MODEL.pbtxt [MODEL.pbtxt ...] [--seq T] [--markdown]
                        [--smha-fraction F]

For each description: the number of parameters (as `uoe-run init` writes them;
a tied LM head counts once) and the FLOPs per token of one forward pass over
sequences of T tokens (default 128) and of one training step (forward +
backward ~ 3 x forward). A multiply-add is 2 FLOPs; only the matrix products
are counted (embedding lookups, norms, activations, softmax, routing top-k and
the optimizer are left out, all O(d) per token); attention counts the full
T x T score and value products, as computed, causal or not.

Per layer and token, forward, with d the width, E experts, k their top_k:
  dense attention   8 d^2 + 4 T d
  SMHA              2 d E + 8 f d^2 + 4 f^2 T d,  f = k / E, the expected
                    fraction of the sequence each head expert selects (every
                    token keeps k of E experts; each expert attends over its
                    f T selected tokens only). The compiled SMHA pads every
                    expert to the largest selection count in the batch
                    (spec §3's dynamic L), so it executes at least this;
                    --smha-fraction 1 gives the upper bound (every expert
                    processing the whole sequence).
  dense MLP         4 d F  (SwiGLU: 6 d F)
  UoME              2 d E + 4 c d F  (SwiGLU: 6 c d F), c = floor(cap T / P) P / T,
                    each expert processing its capacity share of the sequence
                    (with `routing: CAUSAL_SAFE`, c = k / E expected)
  token-choice MoE  2 d E + k 4 d Fe  (SwiGLU: k 6 d Fe), Fe = moe.hidden
and once: 2 d V for the LM head (2 d C / T for a classifier).

The description is parsed with a small reader of the Protobuf text format
(fields, nested messages, comments); defaults are those of
frontend/model.proto.
"""

import argparse
import math
import re
import sys

TOKEN = re.compile(r'\s+|#[^\n]*|"(?:[^"\\]|\\.)*"|[{}:\[\],<>]|[^\s{}:\[\],<>#"]+')


def parse(text):
    """Protobuf text format -> {field: [values]}; messages are dicts."""
    tokens = [t for t in TOKEN.findall(text) if t.strip() and not t.startswith("#")]
    pos = 0

    def message(end):
        nonlocal pos
        fields = {}
        while pos < len(tokens) and tokens[pos] != end:
            name = tokens[pos]
            pos += 1
            if tokens[pos] == ":":
                pos += 1
            if tokens[pos] in ("{", "<"):
                close = "}" if tokens[pos] == "{" else ">"
                pos += 1
                value = message(close)
                pos += 1
            else:
                value = tokens[pos]
                pos += 1
                if value.startswith('"'):
                    value = value[1:-1]
                elif value in ("true", "True"):
                    value = True
                elif value in ("false", "False"):
                    value = False
                else:
                    try:
                        value = int(value)
                    except ValueError:
                        try:
                            value = float(value)
                        except ValueError:
                            pass  # an enum name
            fields.setdefault(name, []).append(value)
            if pos < len(tokens) and tokens[pos] in (",", ";"):
                pos += 1
        return fields

    return message(None)


def get(msg, name, default=None):
    values = msg.get(name)
    return values[-1] if values else default


def count(model, T, smha_fraction=None):
    d = get(model, "d_model")
    layout = get(model, "layout", "POST_LN")
    rms = layout == "PRE_RMSNORM"
    norm = d if rms else 2 * d
    params = 0
    flops = 0  # forward, per token
    emb = get(model, "embedding")
    V = 0
    if emb:
        V = get(emb, "vocab_size")
        params += V * d
        if get(emb, "position") == "LEARNED":
            params += get(emb, "max_positions") * d
        params += get(emb, "token_types", 0) * d
        if get(emb, "norm", False):
            params += norm
    for block in model.get("blocks", []):
        repeat = get(block, "repeat", 1) or 1
        p = f = 0
        att = get(block, "dense_attention")
        if att is not None:
            p += 4 * d * d + 4 * d
            f += 8 * d * d + 4 * T * d
        att = get(block, "smha")
        if att is not None:
            H = get(att, "heads")
            E = get(att, "experts", H) or H
            k = get(att, "top_k", 0) or max(1, E // 2)
            frac = k / E if smha_fraction is None else smha_fraction
            bo = d if get(att, "shared_output_bias", False) else E * d
            p += E * d + E + 4 * d * d + 3 * d + bo
            f += 2 * d * E + 8 * frac * d * d + 4 * frac * frac * T * d
        if att is not None or get(block, "dense_attention") is not None:
            p += norm
        mlp = get(block, "dense_mlp")
        if mlp is not None:
            F = get(mlp, "hidden")
            up = 2 if get(mlp, "activation") == "SWIGLU" else 1
            p += up * (d * F + F) + F * d + d
            f += 2 * (up + 1) * d * F
        mlp = get(block, "uome")
        if mlp is not None:
            F, E = get(mlp, "hidden"), get(mlp, "experts")
            cap = get(mlp, "capacity", 0.5) or 0.5
            P = get(mlp, "patch_size", 1) or 1
            up = 2 if get(mlp, "activation") == "SWIGLU" else 1
            # UoME selects along the sequence (layout SEQUENCE) or the batch
            # (BATCH); either way each expert processes the capacity share.
            c = math.floor(cap * T / P) * P / T
            if get(mlp, "routing") == "CAUSAL_SAFE":
                # Every expert takes the tokens that chose it: k / E expected.
                k = get(mlp, "top_k", 0) or max(1, E // 2)
                c = k / E
            b2 = d if get(mlp, "shared_output_bias", False) else E * d
            p += E * d + E + up * (d * F + F) + F * d + b2
            f += 2 * d * E + 2 * (up + 1) * c * d * F
        mlp = get(block, "moe")
        if mlp is not None:
            Fe, E = get(mlp, "hidden"), get(mlp, "experts")
            k = get(mlp, "top_k", 2) or 2
            up = 2 if get(mlp, "activation") == "SWIGLU" else 1
            p += E * d + E + E * (up * (d * Fe + Fe) + Fe * d + d)
            f += 2 * d * E + k * 2 * (up + 1) * d * Fe
        if any(get(block, n) is not None for n in ("dense_mlp", "uome", "moe")):
            p += norm
        params += repeat * p
        flops += repeat * f
    final = get(model, "final_norm", layout in ("PRE_LN", "PRE_RMSNORM"))
    if final:
        params += norm
    head = get(model, "lm_head")
    if head is not None:
        tied = get(head, "tie_embeddings", False)
        bias = get(head, "bias", not tied)
        params += (0 if tied else V * d) + (V if bias else 0)
        flops += 2 * d * V
    head = get(model, "classifier")
    if head is not None:
        C = get(head, "classes")
        params += C * d + C
        flops += 2 * d * C / T
    return params, flops


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("models", nargs="+")
    parser.add_argument("--seq", type=int, default=128)
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--smha-fraction", type=float,
                        help="the fraction of the sequence each SMHA expert "
                        "processes (default: top_k / experts)")
    args = parser.parse_args()
    rows = []
    for path in args.models:
        with open(path) as f:
            model = parse(f.read())
        params, fwd = count(model, args.seq, args.smha_fraction)
        rows.append((get(model, "name", path), params, fwd, 3 * fwd))
    if args.markdown:
        print("| model | parameters | forward MFLOPs/token | training MFLOPs/token |")
        print("|---|---:|---:|---:|")
        for name, params, fwd, train in rows:
            print("| %s | %d | %.3f | %.3f |" % (name, params, fwd / 1e6, train / 1e6))
    else:
        for name, params, fwd, train in rows:
            print("%s: %d parameters, %.3f MFLOPs/token forward, %.3f MFLOPs/token "
                  "training (3 x forward), T = %d" % (name, params, fwd / 1e6,
                                                      train / 1e6, args.seq))


if __name__ == "__main__":
    sys.exit(main())
