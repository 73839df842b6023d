#!/usr/bin/env python3
"""Writes the seed corpora under fuzz/corpus/ (see fuzz/README.md).

Standard library only: the safetensors, .npy and .uoex files are put
together byte by byte (the Executable's protobuf by hand, CRC-32C in
Python), so the seeds do not depend on a build of uoe. The model
descriptions and the MLIR seeds are copies of the repository's own
(examples/, test/e2e/Inputs/, test/dialect/, test/passes/: comment lines
dropped from the MLIR), plus near-valid ones written here. Deterministic:
running it again rewrites the same bytes (as long as those files are
unchanged). Usage:

    python3 fuzz/make_seeds.py [OUT_DIR]     # default: fuzz/corpus
"""

import json
import os
import re
import struct
import sys

# --------------------------------------------------------------------------
# CRC-32C (Castagnoli, reflected), as support/Checksum.cpp.

_TABLE = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
    _TABLE.append(_c)


def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    for b in data:
        crc = _TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


# --------------------------------------------------------------------------
# safetensors: [u64 N][N bytes of JSON header][data].

def safetensors(tensors, metadata=None, checksum=False, pad=True,
                header_override=None, truncate=0):
    """tensors: list of (name, dtype, shape, bytes), laid out in order."""
    header = {}
    data = b""
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    meta = dict(metadata or {})
    if checksum:
        meta["uoe.checksum"] = "crc32c:%08x" % crc32c(data)
    if meta:
        header = {"__metadata__": meta, **header}
    text = (header_override if header_override is not None
            else json.dumps(header, separators=(",", ":"))).encode()
    if pad:
        text += b" " * (-len(text) % 8)
    blob = struct.pack("<Q", len(text)) + text + data
    return blob[:len(blob) - truncate] if truncate else blob


def f32(*values):
    return struct.pack("<%df" % len(values), *values)


def safetensors_seeds():
    return {
        "one_f32.safetensors":
            safetensors([("w", "F32", [2], f32(1.0, -2.5))],
                        {"format": "pt"}),
        "two_tensors.safetensors":
            safetensors([("a.weight", "F16", [2, 2],
                          struct.pack("<4H", 0x3C00, 0x4000, 0xBC00, 0x0000)),
                         ("b", "I64", [1], struct.pack("<q", -7))]),
        "checksum_bool_u8.safetensors":
            safetensors([("mask", "BOOL", [3], bytes([1, 0, 1])),
                         ("ids", "U8", [2], bytes([7, 255]))],
                        {"note": "caf\u00e9"}, checksum=True),
        "empty_and_scalar.safetensors":
            safetensors([("empty", "F32", [0, 3], b""),
                         ("s", "F64", [], struct.pack("<d", 3.25))]),
        "bf16_i32_i8.safetensors":
            safetensors([("x", "BF16", [1, 2], struct.pack("<2H", 0x3F80, 0xC000)),
                         ("y", "I32", [2], struct.pack("<2i", 1, -1)),
                         ("z", "I8", [1], struct.pack("<b", -3))]),
        # Near-valid: each is refused for one reason.
        "bad_gap.safetensors":
            safetensors([], header_override=
                        '{"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}')
            + f32(0.0, 1.0),
        "bad_truncated.safetensors":
            safetensors([("w", "F32", [3], f32(1, 2, 3))], truncate=4),
        "bad_dtype.safetensors":
            safetensors([], header_override=
                        '{"w":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]}}')
            + b"\x00\x00",
    }


def checkpoint_seeds():
    meta = {"format": "uoe", "uoe.checkpoint": "1", "step": "200",
            "sampler": "{\"seed\":1,\"position\":4096}", "lr": "0.003"}
    return {
        "step200.safetensors":
            safetensors([("w", "F32", [2], f32(0.5, 0.25)),
                         ("opt.m.w", "F32", [2], f32(0.0, 0.0)),
                         ("opt.v.w", "F32", [2], f32(0.0, 0.0))],
                        meta, checksum=True),
        "step0_nochecksum.safetensors":
            safetensors([("emb", "F16", [1, 2], struct.pack("<2H", 0x3C00, 0x3800))],
                        {"format": "uoe", "uoe.checkpoint": "1", "step": "0"}),
        "bad_version.safetensors":
            safetensors([("w", "F32", [1], f32(1))],
                        {"uoe.checkpoint": "2", "step": "1"}),
        "bad_step.safetensors":
            safetensors([("w", "F32", [1], f32(1))],
                        {"uoe.checkpoint": "1", "step": "-1"}),
        "weights_only.safetensors":
            safetensors([("w", "F32", [1], f32(1))], {"format": "pt"}),
    }


# --------------------------------------------------------------------------
# .npy: magic, version, header length, dict padded to 64 bytes, data.

def npy(descr, shape, raw, version=(1, 0), fortran=False, header=None):
    if header is None:
        if len(shape) == 1:
            shape_text = "(%d,)" % shape[0]
        else:
            shape_text = "(" + ", ".join(str(d) for d in shape) + ")"
        header = "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (
            descr, "True" if fortran else "False", shape_text)
    length_bytes = 2 if version[0] == 1 else 4
    preamble = 6 + 2 + length_bytes
    text = header.encode("latin1")
    text += b" " * (-(preamble + len(text) + 1) % 64) + b"\n"
    length = struct.pack("<H" if length_bytes == 2 else "<I", len(text))
    return b"\x93NUMPY" + bytes(version) + length + text + raw


def npy_seeds():
    return {
        "f32_2x3.npy": npy("<f4", [2, 3], f32(1, 2, 3, 4, 5, 6)),
        "i64_1x4_v2.npy": npy("<i8", [1, 4], struct.pack("<4q", 72, 105, -1, 0),
                              version=(2, 0)),
        "f16_scalar.npy": npy("<f2", [], struct.pack("<H", 0x3C00)),
        "bool_3.npy": npy("|b1", [3], bytes([1, 0, 1])),
        "u8_empty_v3.npy": npy("|u1", [0], b"", version=(3, 0)),
        "f64_2.npy": npy("<f8", [2], struct.pack("<2d", 0.1, -2.0)),
        "i32_2.npy": npy("<i4", [2], struct.pack("<2i", 5, -5)),
        # Near-valid: refused.
        "bad_bigendian.npy": npy(">f4", [1], struct.pack(">f", 1.0)),
        "bad_fortran.npy": npy("<f4", [2, 1], f32(1, 2), fortran=True),
        "bad_short_data.npy": npy("<f4", [4], f32(1, 2)),
    }


# --------------------------------------------------------------------------
# .uoex: "UOEX", frame version 1, payload size, CRC-32C, 0, then the
# Executable message (formats/executable.proto, format 2) encoded by hand.

def varint(n):
    n &= (1 << 64) - 1
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def field_varint(number, value):
    return varint(number << 3) + varint(value)


def field_bytes(number, payload):
    if isinstance(payload, str):
        payload = payload.encode()
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def tensor_spec(name, dtype, shape, updates="", index_bound=0):
    out = field_bytes(1, name) + field_bytes(2, dtype)
    out += field_bytes(3, b"".join(varint(d) for d in shape))  # packed
    if updates:
        out += field_bytes(4, updates)
    if index_bound:
        out += field_varint(5, index_bound)
    return out


def entry_point(name, inputs=(), parameters=(), results=(), symbol=None):
    out = field_bytes(1, name)
    out += b"".join(field_bytes(2, s) for s in inputs)
    out += b"".join(field_bytes(3, s) for s in parameters)
    out += b"".join(field_bytes(4, s) for s in results)
    if symbol is not None:
        out += field_bytes(6, symbol)
    return out


def executable(version=2, obj=b"", entries=(), target="cpu:x86_64-unknown-linux-gnu:generic",
               cache_key="0123456789abcdef", model="tiny", compiler="uoe 0.2"):
    out = field_varint(1, version) + field_bytes(2, target) + \
        field_bytes(3, cache_key) + field_bytes(4, model) + field_bytes(5, compiler)
    out += b"".join(field_bytes(7, e) for e in entries)
    if obj:
        out += field_bytes(8, obj)
    return out


def frame(payload, version=1, crc=None, size=None):
    return b"UOEX" + struct.pack(
        "<IQII", version, len(payload) if size is None else size,
        crc32c(payload) if crc is None else crc, 0) + payload


ELF_STUB = b"\x7fELF\x02\x01\x01" + bytes(9) + struct.pack("<HH", 1, 62)


def executable_seeds():
    forward = entry_point(
        "forward",
        inputs=[tensor_spec("ids", "i64", [1, 8], index_bound=256)],
        parameters=[tensor_spec("emb.weight", "f32", [256, 4])],
        results=[tensor_spec("logits", "f32", [1, 8, 256])],
        symbol="uoe_packed_forward")
    train = entry_point(
        "train_step",
        inputs=[tensor_spec("ids", "i64", [2, 4])],
        parameters=[tensor_spec("w", "bf16", [4, 4])],
        results=[tensor_spec("loss", "f32", []),
                 tensor_spec("w.new", "bf16", [4, 4], updates="w")],
        symbol="uoe_packed_train_step")
    valid = executable(obj=ELF_STUB, entries=[forward])
    two = executable(obj=ELF_STUB, entries=[forward, train])
    return {
        "forward.uoex": frame(valid),
        "forward_train.uoex": frame(two),
        "minimal.uoex": frame(executable(
            entries=[entry_point("f", symbol="f")], target="",
            cache_key="", model="", compiler="")),
        # Near-valid: refused.
        "bad_crc.uoex": frame(valid, crc=crc32c(valid) ^ 1),
        "bad_frame_version.uoex": frame(valid, version=2),
        "bad_size.uoex": frame(valid, size=len(valid) + 1),
        "bad_no_symbol.uoex": frame(executable(
            obj=ELF_STUB, entries=[entry_point("f")])),
        "bad_format_version.uoex": frame(executable(version=1)),
    }


# --------------------------------------------------------------------------
# JSON: safetensors headers and config-like text, valid and near-valid.

def json_seeds():
    return {
        "header.json": b'{"__metadata__":{"format":"pt"},"w":{"dtype":"F32",'
                       b'"shape":[2,3],"data_offsets":[0,24]}}',
        "values.json": b'[null, true, false, 0, -1.5e-3, 12345678901234567890,'
                       b' "a\\"b\\\\c\\u00e9\\ud83d\\ude00\\n", {}, []]',
        "nested.json": b'{"a": {"b": [1, [2, [3, {"c": "d"}]]]}, "e": ""}\n',
        "utf8.json": '"caf\u00e9 \u4e2d\u6587 \U0001F600"'.encode(),
        "bad_trailing_comma.json": b'{"a": 1,}',
        "bad_duplicate_key.json": b'{"a": 1, "a": 2}',
        "bad_leading_zero.json": b'[01]',
        "bad_surrogate.json": b'"\\ud800"',
    }


# --------------------------------------------------------------------------
# Model descriptions (frontend/model.proto, text format): the repository's
# examples, and near-valid ones refused for one reason each, by
# parseModelText (bad_syntax, bad_unknown_field), resolveModel (most) or
# importModel (bad_patch_size, bad_capacity_none: for T = 8 tokens).

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_TINY_BLOCK = ("blocks {\n"
               "  smha { heads: 4 experts: 2 top_k: 1 causal: true }\n"
               "  uome { hidden: 64 experts: 4 top_k: 2 capacity: 0.5 }\n"
               "}\n")


def description_seeds():
    seeds = {}
    for folder in ("examples", "test/e2e/Inputs"):
        path = os.path.join(_REPO, folder)
        for file in sorted(os.listdir(path)):
            if file.endswith(".pbtxt"):
                with open(os.path.join(path, file), "rb") as f:
                    seeds[file] = f.read()
    bad = {
        "bad_syntax": "d_model: 16\nblocks { dense_mlp { hidden: 32 }\n",
        "bad_unknown_field": "d_model: 16\nblocks { dense_mlp { hidden: 32 } }\n"
                             "colour: 3\n",
        "bad_no_blocks": "name: \"empty\"\nd_model: 16\n",
        "bad_dimension": "d_model: 100000000\nblocks { dense_mlp { hidden: 32 } }\n",
        "bad_repeat_limit": "d_model: 4\nblocks { dense_mlp { hidden: 4 } "
                            "repeat: 20000 }\n",
        "bad_parameter_limit": "d_model: 16777216\nembedding { vocab_size: "
                               "16777216 }\nblocks { dense_mlp { hidden: 1 } }\n",
        "bad_heads": "d_model: 30\nblocks { dense_attention { heads: 4 } }\n",
        "bad_rope_odd_head": "d_model: 12\nblocks { dense_attention { heads: 4 "
                             "rope: ORIGINAL } }\n",
        "bad_compacted_dense": "d_model: 16\nblocks { dense_attention { heads: 2 "
                               "rope: COMPACTED } }\n",
        "bad_top_k": "d_model: 16\nblocks { uome { hidden: 64 experts: 4 "
                     "top_k: 5 } }\n",
        "bad_smha_experts": "d_model: 16\nblocks { smha { heads: 4 experts: 3 } }\n",
        "bad_causal_safe_patch": "d_model: 16\nblocks { uome { hidden: 64 "
                                 "experts: 4 patch_size: 2 routing: "
                                 "CAUSAL_SAFE } }\n",
        "bad_lm_head_no_embedding": "d_model: 16\n" + _TINY_BLOCK + "lm_head { }\n",
        "bad_max_positions": "d_model: 16\nembedding { vocab_size: 256 "
                             "max_positions: 64 }\n" + _TINY_BLOCK,
        "bad_token_types": "d_model: 16\nembedding { vocab_size: 256 }\n" +
                           _TINY_BLOCK + "token_type_ids: true\n",
        "bad_dropout": "d_model: 16\n" + _TINY_BLOCK + "dropout: 1.0\n",
        "bad_patch_size": "d_model: 16\nblocks { uome { hidden: 64 experts: 4 "
                          "patch_size: 3 } }\n",
        "bad_capacity_none": "d_model: 16\nblocks { uome { hidden: 64 experts: 4 "
                             "capacity: 0.05 } }\n",
    }
    for name, text in bad.items():
        seeds[name + ".pbtxt"] = text.encode()
    return seeds


# --------------------------------------------------------------------------
# uoe MLIR: the round-trip tests of test/dialect/ (one seed per file: its
# first cases, up to 4 KB, as one module; comment and CHECK lines dropped),
# a few pass tests' inputs for the upstream dialects (linalg, memref, scf,
# math), and the first case of some -invalid.mlir tests (bad_*: refused by
# the verifier, for one reason each).

def _mlir_cases(path):
    with open(path) as f:
        text = f.read()
    cases = []
    for chunk in text.split("// -----"):
        lines = [l for l in chunk.splitlines()
                 if l.strip() and not l.lstrip().startswith("//")]
        # A case per top-level function (a file without separators holds
        # several).
        case = []
        for line in lines:
            if line.startswith("func.func") and case:
                cases.append("\n".join(case) + "\n")
                case = []
            case.append(line)
        if case:
            cases.append("\n".join(case) + "\n")
    return cases


def _first_cases(cases, limit=4000):
    out = ""
    for case in cases:
        if out and len(out) + len(case) > limit:
            break
        out += case
    return out


def mlir_seeds():
    seeds = {}
    dialect = os.path.join(_REPO, "test", "dialect")
    for file in sorted(os.listdir(dialect)):
        if not file.endswith(".mlir") or file.endswith("-invalid.mlir"):
            continue
        if file == "canonicalize.mlir":
            continue  # the same ops again, with constants
        seeds[file] = _first_cases(_mlir_cases(os.path.join(dialect, file)))
    passes = os.path.join(_REPO, "test", "passes")
    for file in ("uoe-linalg-to-blas.mlir", "uoe-serialize-inner-parallel-loops.mlir",
                 "uoe-approximate-math.mlir", "convert-uoe-to-linalg.mlir"):
        seeds["passes_" + file] = _first_cases(
            _mlir_cases(os.path.join(passes, file)))
    for file in ("uome-invalid.mlir", "smha-invalid.mlir", "router-invalid.mlir",
                 "combine-invalid.mlir", "embedding-invalid.mlir",
                 "layer_norm-invalid.mlir"):
        cases = _mlir_cases(os.path.join(dialect, file))
        seeds["bad_" + file.replace("-invalid", "")] = cases[0]
    # A syntax error: an op cut short.
    seeds["bad_truncated.mlir"] = seeds["rms_norm.mlir"][:200]
    return {name: text.encode() for name, text in seeds.items()}


# --------------------------------------------------------------------------
# libFuzzer dictionaries (fuzz/dict/NAME.dict; scripts/fuzz.sh passes one
# with -dict when it exists): the words of a text format, so that mutations
# make field names, op names and keywords rather than noise.

def description_dict():
    with open(os.path.join(_REPO, "frontend", "model.proto")) as f:
        proto = f.read()
    words = set()
    for m in re.finditer(r"^\s*(?:optional\s+|repeated\s+)?"
                         r"[A-Za-z_][\w.]*\s+(\w+)\s*=\s*\d+\s*;",
                         proto, re.M):
        words.add(m.group(1) + ": ")
        words.add(m.group(1) + " { ")
    for m in re.finditer(r"^\s*([A-Z][A-Z0-9_]*)\s*=\s*\d+\s*;", proto, re.M):
        words.add(m.group(1))
    words.update(["true", "false", "{", "}", "#", "0.5", "-1",
                  "9223372036854775807", "1e308", "nan", "inf"])
    return sorted(words)


def mlir_dict():
    words = set()
    dialect = os.path.join(_REPO, "dialect")
    for file in sorted(os.listdir(dialect)):
        if not file.endswith(".td"):
            continue
        with open(os.path.join(dialect, file)) as f:
            td = f.read()
        words.update("uoe." + m for m in re.findall(r'UoE_Op<"(\w+)"', td))
        words.update(re.findall(r"`(\w+)`", td))
        words.update(re.findall(r'EnumAttrCase<"\w+",\s*\d+,\s*"(\w+)"', td))
        words.update("#uoe." + m + "<"
                     for m in re.findall(r'UoE_EnumAttr<\w+,\s*"(\w+)">', td))
    words.update(["func.func @f(", "%arg0",
                  "tensor<", "xf32>", "xbf16>", "xf16>", "xi64>", "xi1>", "?x",
                  "0x", ": f64", ": i64", "{", "}", "(", ")", "[", "]", "->",
                  "return", "arith.constant", "dense<", "-1", "0.0"])
    return sorted(words)


def write_dict(path, words):
    with open(path, "w") as f:
        for word in words:
            escaped = "".join("\\" + c if c in '"\\' else c for c in word)
            f.write('"%s"\n' % escaped)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "corpus")
    corpora = {
        "safetensors": safetensors_seeds(),
        "checkpoint": checkpoint_seeds(),
        "npy": npy_seeds(),
        "executable": executable_seeds(),
        "json": json_seeds(),
        "description": description_seeds(),
        "mlir": mlir_seeds(),
    }
    for name, seeds in corpora.items():
        folder = os.path.join(out, name)
        os.makedirs(folder, exist_ok=True)
        for file, data in seeds.items():
            assert len(data) < 4096, (file, len(data))
            with open(os.path.join(folder, file), "wb") as f:
                f.write(data)
        print("%s: %d seeds in %s" % (name, len(seeds), folder))
    dicts = os.path.join(os.path.dirname(out), "dict") if len(sys.argv) <= 1 \
        else os.path.join(out, "dict")
    os.makedirs(dicts, exist_ok=True)
    for name, words in (("description", description_dict()),
                        ("mlir", mlir_dict())):
        write_dict(os.path.join(dicts, name + ".dict"), words)
        print("%s: %d dictionary words in %s" % (name, len(words), dicts))


if __name__ == "__main__":
    main()
