#!/usr/bin/env python3
"""A small .npy and safetensors tool for the demo and the end-to-end tests,
on the Python standard library alone (CI has no NumPy).

  npytool.py random OUT --shape 2,8,64 [--dtype f32|i64|i32] [--seed S] [--high V]
  npytool.py values OUT --shape 1,4 [--dtype i64] 1,1,0,0   # given values
  npytool.py text OUT "some text"   # the UTF-8 bytes as int64 token ids [1, T]
  npytool.py show FILE [--rows N]   # shape, dtype and the first rows
  npytool.py argmax FILE           # per row of the last axis: the best id
  npytool.py stats FILE          # shape, dtype, finiteness, mean, mean |x|
  npytool.py compare A B [--tol T]   # max |a - b|; exit 1 above T (default 0)
  npytool.py compare A B --rtol R    # exit 1 if max |a - b| > R * max(1, max |b|)
  npytool.py rowsum FILE         # sum of each row of the last axis, 4 digits
  npytool.py safetensors-compare A B [--exclude PREFIX]  # same tensors, bit for bit
  npytool.py safetensors-list FILE [--metadata]   # names, dtypes, shapes (and metadata)
  npytool.py safetensors-edit IN OUT (--drop NAME | --rename OLD=NEW |
      --truncate BYTES | --reshape NAME=2,3 | --corrupt-header | --copy OLD=NEW)
"""

import argparse
import json
import math
import random
import struct
import sys

_NPY = {"f32": ("<f4", "f"), "i64": ("<i8", "q"), "i32": ("<i4", "i")}
_FORMAT = {"<f4": "f", "<i8": "q", "<i4": "i", "<f8": "d"}
_ELEMENT_SIZE = {"F64": 8, "I64": 8, "F32": 4, "I32": 4, "F16": 2, "BF16": 2,
                 "I16": 2, "I8": 1, "U8": 1, "BOOL": 1}


def write_npy(path, shape, dtype, values):
    descr, fmt = _NPY[dtype]
    shape_text = "(%s)" % "".join("%d, " % s for s in shape) if len(shape) != 1 else "(%d,)" % shape[0]
    header = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, shape_text)
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
        f.write(struct.pack("<%d%s" % (len(values), fmt), *values))


def read_npy(path):
    with open(path, "rb") as f:
        data = f.read()
    assert data[:6] == b"\x93NUMPY", path + " is not a .npy file"
    (length,) = struct.unpack("<H", data[8:10])
    header = eval(data[10:10 + length].decode())  # a Python dict literal
    shape = tuple(header["shape"])
    count = math.prod(shape)
    fmt = _FORMAT[header["descr"]]
    values = struct.unpack_from("<%d%s" % (count, fmt), data, 10 + length)
    return shape, header["descr"], list(values)


def cmd_random(args):
    shape = [int(s) for s in args.shape.split(",")]
    rng = random.Random(args.seed)
    count = math.prod(shape)
    if args.dtype == "f32":
        values = [rng.gauss(0.0, 1.0) for _ in range(count)]
    else:
        values = [rng.randrange(0, args.high) for _ in range(count)]
    write_npy(args.out, shape, args.dtype, values)


def cmd_values(args):
    shape = [int(v) for v in args.shape.split(",")]
    cast = float if args.dtype == "f32" else int
    values = [cast(v) for v in args.values.split(",")]
    if len(values) != math.prod(shape):
        print("%d values for shape %s" % (len(values), shape), file=sys.stderr)
        return 1
    write_npy(args.out, shape, args.dtype, values)


def cmd_text(args):
    data = args.text.encode("utf-8")
    write_npy(args.out, [1, len(data)], "i64", list(data))


def cmd_show(args):
    shape, descr, values = read_npy(args.file)
    print("%s: %s %s" % (args.file, descr, list(shape)))
    n = shape[-1] if shape else 1
    for row in range(min(args.rows, len(values) // max(n, 1))):
        cells = values[row * n:(row + 1) * n]
        text = " ".join("%8.4f" % v if isinstance(v, float) else "%d" % v
                        for v in cells[:8])
        print("  [%d] %s%s" % (row, text, " ..." if n > 8 else ""))


def cmd_argmax(args):
    shape, _, values = read_npy(args.file)
    n = shape[-1]
    best = [max(range(n), key=lambda j, i=i: values[i + j])
            for i in range(0, len(values), n)]
    print(" ".join(str(b) for b in best))


def cmd_stats(args):
    shape, descr, values = read_npy(args.file)
    finite = all(math.isfinite(v) for v in values)
    mean = sum(values) / len(values)
    mean_abs = sum(abs(v) for v in values) / len(values)
    print("shape %s dtype %s finite %s mean %.3f mean_abs %.3f" % (
        list(shape), descr, finite, mean, mean_abs))


def cmd_compare(args):
    shape_a, _, a = read_npy(args.a)
    shape_b, _, b = read_npy(args.b)
    if shape_a != shape_b:
        print("shapes differ: %s vs %s" % (list(shape_a), list(shape_b)))
        return 1
    diff = max(abs(x - y) for x, y in zip(a, b))
    if any(math.isnan(x) for x in a):
        print("max abs diff nan")
        return 1
    if args.rtol is not None:
        # Relative to the reference B's scale, as the numeric unit tests do.
        scale = max([1.0] + [abs(y) for y in b])
        print("max abs diff %.3g, relative %.3g (rtol %g)" % (diff, diff / scale, args.rtol))
        return 0 if diff <= args.rtol * scale else 1
    print("max abs diff %.3g" % diff)
    return 0 if diff <= args.tol else 1


def cmd_rowsum(args):
    shape, _, values = read_npy(args.file)
    n = shape[-1]
    for i in range(0, len(values), n):
        print("%.4f" % sum(values[i:i + n]))


def cmd_safetensors_edit(args):
    with open(args.input, "rb") as f:
        data = f.read()
    (size,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + size])
    body = data[8 + size:]
    if args.truncate is not None:
        data = data[:args.truncate]
    elif args.corrupt_header:
        data = data[:8] + b"{not json" + data[17:]
    else:
        # The tensors change: uoe's checksum of them would no longer hold.
        header.get("__metadata__", {}).pop("uoe.checksum", None)
        if args.drop:
            del header[args.drop]
        if args.rename:
            old, new = args.rename.split("=")
            header[new] = header.pop(old)
        if args.copy:
            old, new = args.copy.split("=")
            header[new] = dict(header[old])
        if args.reshape:
            name, shape = args.reshape.split("=")
            header[name]["shape"] = [int(s) for s in shape.split(",")]
        # Repack the tensors back to back (safetensors allows no holes),
        # cutting or zero-padding a reshaped tensor's bytes to its new size.
        packed, offset = [], 0
        for name, info in header.items():
            if name == "__metadata__":
                continue
            begin, end = info["data_offsets"]
            size = _ELEMENT_SIZE.get(info["dtype"], 4) * math.prod(info["shape"])
            chunk = (body[begin:end] + bytes(size))[:size]
            info["data_offsets"] = [offset, offset + size]
            packed.append(chunk)
            offset += size
        text = json.dumps(header).encode()
        text += b" " * (-len(text) % 8)
        data = struct.pack("<Q", len(text)) + text + b"".join(packed)
    with open(args.output, "wb") as f:
        f.write(data)


def read_safetensors(path):
    """(header without __metadata__, metadata, data buffer) of a safetensors file."""
    with open(path, "rb") as f:
        data = f.read()
    (size,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + size])
    metadata = header.pop("__metadata__", {})
    return header, metadata, data[8 + size:]


def cmd_safetensors_compare(args):
    a, _, body_a = read_safetensors(args.a)
    b, _, body_b = read_safetensors(args.b)
    keep = lambda names: sorted(n for n in names
                                if not any(n.startswith(p) for p in args.exclude))
    names_a, names_b = keep(a), keep(b)
    if names_a != names_b:
        only_a = sorted(set(names_a) - set(names_b))
        only_b = sorted(set(names_b) - set(names_a))
        print("tensor names differ: only in A %s, only in B %s" % (only_a, only_b))
        return 1
    for name in names_a:
        ta, tb = a[name], b[name]
        if ta["dtype"] != tb["dtype"] or ta["shape"] != tb["shape"]:
            print("%s: %s %s vs %s %s" % (name, ta["dtype"], ta["shape"],
                                          tb["dtype"], tb["shape"]))
            return 1
        bytes_a = body_a[ta["data_offsets"][0]:ta["data_offsets"][1]]
        bytes_b = body_b[tb["data_offsets"][0]:tb["data_offsets"][1]]
        if bytes_a != bytes_b:
            first = next(i for i in range(len(bytes_a)) if bytes_a[i] != bytes_b[i])
            size = _ELEMENT_SIZE.get(ta["dtype"], 4)
            print("%s differs first at element %d" % (name, first // size))
            return 1
    print("%d tensors identical" % len(names_a))
    return 0


def cmd_safetensors_list(args):
    header, metadata, _ = read_safetensors(args.file)
    for name in sorted(header):
        print("%s %s %s" % (name, header[name]["dtype"], header[name]["shape"]))
    if args.metadata:
        for key in sorted(metadata):
            value = metadata[key]
            print("metadata %s = %s" % (key, value if "\n" not in value else
                                        value.splitlines()[0] + " ..."))
    return 0


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("random")
    p.add_argument("out")
    p.add_argument("--shape", required=True)
    p.add_argument("--dtype", default="f32", choices=sorted(_NPY))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--high", type=int, default=256)
    p.set_defaults(fn=cmd_random)
    p = sub.add_parser("values")
    p.add_argument("out")
    p.add_argument("values")
    p.add_argument("--shape", required=True)
    p.add_argument("--dtype", default="i64", choices=sorted(_NPY))
    p.set_defaults(fn=cmd_values)
    p = sub.add_parser("text")
    p.add_argument("out")
    p.add_argument("text")
    p.set_defaults(fn=cmd_text)
    p = sub.add_parser("show")
    p.add_argument("file")
    p.add_argument("--rows", type=int, default=4)
    p.set_defaults(fn=cmd_show)
    p = sub.add_parser("argmax")
    p.add_argument("file")
    p.set_defaults(fn=cmd_argmax)
    p = sub.add_parser("stats")
    p.add_argument("file")
    p.set_defaults(fn=cmd_stats)
    p = sub.add_parser("compare")
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--tol", type=float, default=0.0)
    p.add_argument("--rtol", type=float)
    p.set_defaults(fn=cmd_compare)
    p = sub.add_parser("rowsum")
    p.add_argument("file")
    p.set_defaults(fn=cmd_rowsum)
    p = sub.add_parser("safetensors-edit")
    p.add_argument("input")
    p.add_argument("output")
    p.add_argument("--drop")
    p.add_argument("--rename")
    p.add_argument("--truncate", type=int)
    p.add_argument("--reshape")
    p.add_argument("--corrupt-header", action="store_true")
    p.add_argument("--copy")
    p.set_defaults(fn=cmd_safetensors_edit)
    p = sub.add_parser("safetensors-compare")
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--exclude", action="append", default=[],
                   help="ignore tensors whose name starts with this prefix")
    p.set_defaults(fn=cmd_safetensors_compare)
    p = sub.add_parser("safetensors-list")
    p.add_argument("file")
    p.add_argument("--metadata", action="store_true")
    p.set_defaults(fn=cmd_safetensors_list)
    args = parser.parse_args()
    return args.fn(args) or 0


if __name__ == "__main__":
    sys.exit(main())
