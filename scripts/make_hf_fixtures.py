#!/usr/bin/env python3
"""Writes the tiny Hugging Face checkpoints of test/e2e/Inputs/hf/ and the
outputs transformers computes for them (run once; the results are committed,
so that CI needs neither PyTorch nor transformers).

  python3 scripts/make_hf_fixtures.py [OUT_DIR]   # default test/e2e/Inputs/hf

Needs torch, numpy and transformers (e.g. `pip install transformers` into a
venv that has torch). Everything is seeded and made on the CPU in float32:

  bert/   BertForMaskedLM (d 32, 4 heads, 2 layers, intermediate 64, vocab 100,
          64 positions, 2 token types, LayerNorm eps 1e-12, GELU), saved as
          float32 with the `bert.` prefix and the extra `cls.*` heads, as the
          published BERT checkpoints are. Outputs: the encoder's
          last_hidden_state for ids.npy with mask.npy (padding in row 1):
          hidden_typed.npy with token_type_ids.npy, hidden.npy without
          (every type 0, transformers' default).
  gpt2/   GPT2LMHeadModel (d 32, 4 heads, 2 layers, inner 128, vocab 100, 64
          positions, gelu_new, tied LM head), saved as float16 (the weights
          are rounded to float16 first, so transformers computes with the
          very numbers the file holds). Output: logits.npy for ids.npy.
"""

import json
import os
import sys

import numpy as np
import torch
import transformers


def save_npy(path, array):
    np.save(path, np.ascontiguousarray(array))


def make_bert(out):
    torch.manual_seed(1)
    config = transformers.BertConfig(
        vocab_size=100, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
        intermediate_size=64, max_position_embeddings=64, type_vocab_size=2,
        hidden_act="gelu", layer_norm_eps=1e-12, hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0)
    model = transformers.BertForMaskedLM(config).eval()
    # The default init (N(0, 0.02), LayerNorm 1 / 0) makes every LayerNorm
    # an identity-like map; random norm weights and biases test them too.
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "LayerNorm" in name or name.endswith(".bias"):
                p.copy_(torch.randn_like(p) * 0.2 + (1.0 if name.endswith("LayerNorm.weight") else 0.0))
            else:
                p.copy_(torch.randn_like(p) * 0.2)
    os.makedirs(out, exist_ok=True)
    model.save_pretrained(out, safe_serialization=True)
    ids = torch.tensor([[2, 17, 45, 99, 3, 8, 61, 30],
                        [5, 0, 72, 18, 44, 1, 1, 1]], dtype=torch.int64)
    mask = torch.tensor([[1] * 8, [1, 1, 1, 1, 1, 0, 0, 0]], dtype=torch.int64)
    types = torch.tensor([[0, 0, 0, 1, 1, 1, 1, 1],
                          [0, 0, 1, 1, 1, 0, 0, 0]], dtype=torch.int64)
    with torch.no_grad():
        typed = model.bert(input_ids=ids, attention_mask=mask, token_type_ids=types).last_hidden_state
        plain = model.bert(input_ids=ids, attention_mask=mask).last_hidden_state
    save_npy(os.path.join(out, "ids.npy"), ids.numpy())
    save_npy(os.path.join(out, "mask.npy"), mask.numpy())
    save_npy(os.path.join(out, "token_type_ids.npy"), types.numpy())
    save_npy(os.path.join(out, "hidden_typed.npy"), typed.numpy().astype(np.float32))
    save_npy(os.path.join(out, "hidden.npy"), plain.numpy().astype(np.float32))


def make_gpt2(out):
    torch.manual_seed(2)
    config = transformers.GPT2Config(
        vocab_size=100, n_positions=64, n_embd=32, n_layer=2, n_head=4,
        activation_function="gelu_new", resid_pdrop=0.0, embd_pdrop=0.0,
        attn_pdrop=0.0, layer_norm_epsilon=1e-5, bos_token_id=0, eos_token_id=0)
    model = transformers.GPT2LMHeadModel(config).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if ".ln_" in name or name.startswith("transformer.ln_f") or name.endswith(".bias"):
                base = 1.0 if name.endswith("weight") else 0.0
                p.copy_(torch.randn_like(p) * 0.2 + base)
            else:
                p.copy_(torch.randn_like(p) * 0.2)
            # Round to float16, so that the float16 file holds exactly the
            # numbers transformers computes with.
            p.copy_(p.half().float())
    os.makedirs(out, exist_ok=True)
    model.half().save_pretrained(out, safe_serialization=True)
    model.float()
    ids = torch.tensor([[11, 50, 3, 97, 42, 7, 23, 64],
                        [0, 99, 18, 5, 5, 31, 76, 2]], dtype=torch.int64)
    with torch.no_grad():
        logits = model(input_ids=ids).logits
    save_npy(os.path.join(out, "ids.npy"), ids.numpy())
    save_npy(os.path.join(out, "logits.npy"), logits.numpy().astype(np.float32))


def tidy(out):
    """Keeps config.json and model.safetensors; drops generation_config.json."""
    for name in os.listdir(out):
        if name not in ("config.json", "model.safetensors") and not name.endswith(".npy"):
            os.remove(os.path.join(out, name))
        else:
            os.chmod(os.path.join(out, name), 0o644)
    with open(os.path.join(out, "config.json")) as f:
        config = json.load(f)
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
        f.write("\n")


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "test", "e2e", "Inputs", "hf")
    torch.set_grad_enabled(False)
    make_bert(os.path.join(root, "bert"))
    make_gpt2(os.path.join(root, "gpt2"))
    for sub in ("bert", "gpt2"):
        tidy(os.path.join(root, sub))
    print("transformers %s, torch %s: wrote %s" % (transformers.__version__, torch.__version__, root))


if __name__ == "__main__":
    main()
