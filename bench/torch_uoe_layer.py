"""PyTorch eager implementation of one UoE language-model layer (spec §2-§6).

The peer that bench/layer_vs_torch.py measures uoe against: post-LN
`LN(x + SMHA(x))` then `LN(x + UoME(x))`, written from docs/SPEC.md
in the style of the authors' code (router, token-choice mask, reference
normalisation over the batch axis, expert-choice top-L, gather, per-expert
GEMMs, scatter-add combine), but vectorised over experts with batched matmuls
instead of Python loops, so that it is a strong eager baseline. Weight names
and layouts are those of docs/MODEL_FORMAT.md; only union combine, softmax
scores, exact-erf GELU and compacted RoPE are implemented (the benchmark's
configuration).
"""

import json
import math
import struct

import numpy as np
import torch
import torch.nn.functional as F

_DTYPES = {"F32": np.float32, "F16": np.float16}


def load_safetensors(path):
    """Reads a safetensors file into float32 torch tensors (F32/F16 only)."""
    with open(path, "rb") as f:
        (size,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(size))
        data = f.read()
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        array = np.frombuffer(data[begin:end], dtype=_DTYPES[info["dtype"]])
        tensors[name] = torch.from_numpy(
            array.reshape(info["shape"]).astype(np.float32))
    return tensors


def route(x, wg, bg, top_k, eps=1e-6, norm_capacity=1.0):
    """Spec §2: softmax router, token-choice mask, reference normalisation
    over axis 0. x: [R, N, d] -> g: [R, N, E]."""
    p = torch.softmax(x @ wg.T + bg, dim=-1)
    _, keep = torch.sort(p, dim=-1, descending=True, stable=True)
    mask = torch.zeros_like(p).scatter_(-1, keep[..., :top_k], 1.0)
    s = p * mask
    return s / (s.sum(0, keepdim=True) + eps) * math.floor(norm_capacity * x.shape[0])


def data_select(g, capacity=None):
    """Spec §3 (patch 1): per expert and row, the L best tokens (stable),
    sorted by position. g: [R, N, E] -> positions [E, R, L] (int64)."""
    scores = g.permute(2, 0, 1)  # [E, R, N]
    if capacity is None:  # dynamic: the most positive scores of any row
        length = int((scores > 0).sum(-1).max())
    else:
        length = int(math.floor(capacity * scores.shape[-1]))
    _, order = torch.sort(scores, dim=-1, descending=True, stable=True)
    return order[..., :length].sort(dim=-1).values


def dispatch(x, pos):
    """x: [R, N, d], pos: [E, R, L] -> [E, R, L, d]."""
    e, r, l = pos.shape
    index = pos.unsqueeze(-1).expand(e, r, l, x.shape[-1])
    return torch.gather(x.unsqueeze(0).expand(e, *x.shape), 2, index)


def combine(ys, pos, shape):
    """Union combine: out[r, pos[e, r, j]] += ys[e, r, j], experts in order."""
    out = torch.zeros(shape, dtype=ys.dtype)
    index = pos.unsqueeze(-1).expand(ys.shape)
    for e in range(ys.shape[0]):
        out.scatter_add_(1, index[e], ys[e])
    return out


def expert_linear(xs, w, b):
    """xs: [E, R, L, K], w: [E, K, N], b: [E, N] -> [E, R, L, N]."""
    e, r, l, k = xs.shape
    y = torch.baddbmm(b.unsqueeze(1), xs.reshape(e, r * l, k), w)
    return y.view(e, r, l, -1)


def rotate_half(x, base=10000.0):
    """NeoX rotary embedding over the compacted positions 0..L-1 of the
    last-but-one axis; x: [..., L, dh]."""
    length, dh = x.shape[-2], x.shape[-1]
    inv = base ** (-torch.arange(0, dh // 2, dtype=torch.float64) * 2 / dh)
    angles = torch.arange(length, dtype=torch.float64)[:, None] * inv[None, :]
    cos = torch.cat([angles.cos()] * 2, -1).float()
    sin = torch.cat([angles.sin()] * 2, -1).float()
    x1, x2 = x[..., : dh // 2], x[..., dh // 2:]
    return x * cos + torch.cat([-x2, x1], -1) * sin


def smha(x, w, prefix, heads, top_k):
    """Spec §6 SMHA: head-group experts, dynamic L, causal, compacted RoPE."""
    g = route(x, w[prefix + "router.weight"], w[prefix + "router.bias"], top_k)
    pos = data_select(g)
    xs = dispatch(x, pos)  # [E, B, L, d]
    wqkv, bqkv = w[prefix + "wqkv"], w[prefix + "bqkv"]
    experts, batch, length = pos.shape
    hpe = heads // experts
    dh = wqkv.shape[-1] // hpe

    def project(i):
        y = expert_linear(xs, wqkv[i], bqkv[i])
        return y.view(experts, batch, length, hpe, dh).transpose(2, 3)

    q, k, v = project(0), project(1), project(2)  # [E, B, h, L, dh]
    q, k = rotate_half(q), rotate_half(k)
    o = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    o = o.transpose(2, 3).reshape(experts, batch, length, hpe * dh)
    ys = expert_linear(o, w[prefix + "wo"], w[prefix + "bo"])
    return combine(ys, pos, x.shape)


def uome(x, w, prefix, top_k, capacity):
    """Spec §6 UoME: expert-choice top-L per sequence, exact-erf GELU."""
    g = route(x, w[prefix + "router.weight"], w[prefix + "router.bias"], top_k)
    pos = data_select(g, capacity)
    xs = dispatch(x, pos)
    h = F.gelu(expert_linear(xs, w[prefix + "w1"], w[prefix + "b1"]))
    ys = expert_linear(h, w[prefix + "w2"], w[prefix + "b2"])
    return combine(ys, pos, x.shape)


def uoe_layer(x, w, heads, top_k, capacity, layer=0):
    """One post-LN block: LN(x + SMHA(x)), then LN(x + UoME(x))."""
    p = f"blocks.{layer}."
    d = x.shape[-1]
    x = F.layer_norm(x + smha(x, w, p + "attn.", heads, top_k), (d,),
                     w[p + "norm1.weight"], w[p + "norm1.bias"], 1e-5)
    x = F.layer_norm(x + uome(x, w, p + "mlp.", top_k, capacity), (d,),
                     w[p + "norm2.weight"], w[p + "norm2.bias"], 1e-5)
    return x
