#!/usr/bin/env python3
"""Writes the seed corpora under fuzz/corpus/ (see fuzz/README.md).

Standard library only: the safetensors, .npy and .uoex files are put
together byte by byte (the Executable's protobuf by hand, CRC-32C in
Python), so the seeds do not depend on a build of uoe. Deterministic:
running it again rewrites the same bytes. Usage:

    python3 fuzz/make_seeds.py [OUT_DIR]     # default: fuzz/corpus
"""

import json
import os
import struct
import sys

# --------------------------------------------------------------------------
# CRC-32C (Castagnoli, reflected), as runtime/Checksum.cpp.

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
# Executable message (runtime/executable.proto) encoded by hand.

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


def kernel(name, fmt, code):
    return field_bytes(1, name) + (field_varint(2, fmt) if fmt else b"") + \
        field_bytes(3, code)


def step(kernel_name, symbol):
    return field_bytes(1, field_bytes(1, kernel_name) + field_bytes(2, symbol))


def entry_point(name, inputs=(), parameters=(), results=(), steps=()):
    out = field_bytes(1, name)
    out += b"".join(field_bytes(2, s) for s in inputs)
    out += b"".join(field_bytes(3, s) for s in parameters)
    out += b"".join(field_bytes(4, s) for s in results)
    out += b"".join(field_bytes(5, s) for s in steps)
    return out


def executable(version=1, kernels=(), entries=(), target="cpu:x86_64-unknown-linux-gnu:generic",
               cache_key="0123456789abcdef", model="tiny", compiler="uoe 0.2"):
    out = field_varint(1, version) + field_bytes(2, target) + \
        field_bytes(3, cache_key) + field_bytes(4, model) + field_bytes(5, compiler)
    out += b"".join(field_bytes(6, k) for k in kernels)
    out += b"".join(field_bytes(7, e) for e in entries)
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
        steps=[step("k0", "forward_0"), step("k0", "forward_1")])
    train = entry_point(
        "train_step",
        inputs=[tensor_spec("ids", "i64", [2, 4])],
        parameters=[tensor_spec("w", "bf16", [4, 4])],
        results=[tensor_spec("loss", "f32", []),
                 tensor_spec("w.new", "bf16", [4, 4], updates="w")],
        steps=[step("k1", "train")])
    valid = executable(kernels=[kernel("k0", 0, ELF_STUB)], entries=[forward])
    two = executable(kernels=[kernel("k0", 0, ELF_STUB),
                              kernel("k1", 1, b".version 8.0\n.target sm_80\n")],
                     entries=[forward, train])
    return {
        "forward.uoex": frame(valid),
        "forward_train.uoex": frame(two),
        "minimal.uoex": frame(executable(
            kernels=[kernel("k", 2, b"\x00")],
            entries=[entry_point("f", steps=[step("k", "f")])], target="",
            cache_key="", model="", compiler="")),
        # Near-valid: refused.
        "bad_crc.uoex": frame(valid, crc=crc32c(valid) ^ 1),
        "bad_frame_version.uoex": frame(valid, version=2),
        "bad_size.uoex": frame(valid, size=len(valid) + 1),
        "bad_unknown_kernel.uoex": frame(executable(
            kernels=[kernel("k0", 0, ELF_STUB)],
            entries=[entry_point("f", steps=[step("k9", "f")])])),
        "bad_format_version.uoex": frame(executable(version=2)),
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


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "corpus")
    corpora = {
        "safetensors": safetensors_seeds(),
        "checkpoint": checkpoint_seeds(),
        "npy": npy_seeds(),
        "executable": executable_seeds(),
        "json": json_seeds(),
    }
    for name, seeds in corpora.items():
        folder = os.path.join(out, name)
        os.makedirs(folder, exist_ok=True)
        for file, data in seeds.items():
            assert len(data) < 4096, (file, len(data))
            with open(os.path.join(folder, file), "wb") as f:
                f.write(data)
        print("%s: %d seeds in %s" % (name, len(seeds), folder))


if __name__ == "__main__":
    main()
