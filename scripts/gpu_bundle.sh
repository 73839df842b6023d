#!/usr/bin/env bash
# Prepares, on this (compiler) machine, what a GPU machine without LLVM needs
# to check and time the cuda device, as one directory and one .tar.xz:
#
#   scripts/gpu_bundle.sh [OUT]          # default OUT: gpu-bundle (git-ignored)
#
# - bin/uoe-exec from a runtime-only build (build-rt/, configured here with
#   -DUOE_BUILD_COMPILER=OFF) and lib/ with the shared libraries it needs that
#   a GPU machine may lack (protobuf, libomp);
# - models/: small models compiled for $SM (default sm_90) with their weights
#   and inputs, and ref/: their outputs on this CPU;
# - bench/: the benchmark layers (issue, paper, large) compiled for $SM with
#   forward_grad, and the PyTorch peer; weights and inputs are made on the GPU
#   machine (the large layer's would not fit the transfer);
# - gpu_check.sh: run it there (scripts/gpu_check.sh, see its header).
#
# Needs ./scripts/build.sh first (build/bin/uoe-run) and the CUDA toolkit.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
RT_BUILD=${RT_BUILD:-$ROOT/build-rt}
OUT=$(realpath -m "${1:-$ROOT/gpu-bundle}")
SM=${SM:-sm_90}
UOE_RUN="$BUILD/bin/uoe-run"
[[ -x "$UOE_RUN" ]] || { echo "gpu_bundle.sh: build first (./scripts/build.sh)" >&2; exit 1; }

cmake -S "$ROOT" -B "$RT_BUILD" -G Ninja -DUOE_BUILD_COMPILER=OFF \
  -DCMAKE_BUILD_TYPE=Release > /dev/null
ninja -C "$RT_BUILD" uoe-exec > /dev/null

rm -rf "$OUT"
mkdir -p "$OUT"/{bin,lib,models,ref,bench}
cp "$RT_BUILD/bin/uoe-exec" "$OUT/bin/"
# Everything but the C and C++ runtimes, which every machine has.
ldd "$RT_BUILD/bin/uoe-exec" | awk '/=>/ {print $3}' | while read -r lib; do
  case "$(basename "$lib")" in
    libc.so*|libm.so*|libgcc_s.so*|libstdc++.so*|ld-linux*) ;;
    *) cp -L "$lib" "$OUT/lib/" ;;
  esac
done

# A .npy of `shape` (f32) whose contents do not matter (sparse: the
# compiler reads only the shape).
shape_npy() {
  python3 - "$1" "$2" <<'PY'
import sys
path, shape = sys.argv[1], tuple(int(s) for s in sys.argv[2].split(","))
header = "{'descr': '<f4', 'fortran_order': False, 'shape': %s, }" % (shape,)
header += " " * (63 - (len(header) + 10) % 64) + "\n"
n = 1
for s in shape:
    n *= s
with open(path, "wb") as f:
    f.write(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode())
    f.truncate(f.tell() + 4 * n)
PY
}

inputs="$ROOT/test/e2e/Inputs"
for m in tiny_uoe tiny_pre_rms; do
  "$UOE_RUN" init --model "$inputs/$m.pbtxt" --output "$OUT/models/$m.safetensors" > /dev/null
  python3 "$ROOT/scripts/npytool.py" random "$OUT/models/$m.x.npy" --shape 2,8,16
  "$UOE_RUN" infer --model "$inputs/$m.pbtxt" --weights "$OUT/models/$m.safetensors" \
    --input "$OUT/models/$m.x.npy" --output "$OUT/ref/$m.npy" --no-cache 2> /dev/null
  "$UOE_RUN" infer --device cuda --target "$SM" --model "$inputs/$m.pbtxt" \
    --input "$OUT/models/$m.x.npy" --emit=executable -o "$OUT/models/$m.uoex" --no-cache 2> /dev/null
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for spec in issue:bench/uoe_lm_layer.pbtxt:8,256,512 \
            paper:bench/uoe_lm_layer_paper.pbtxt:60,150,400 \
            large:bench/uoe_lm_layer_large.pbtxt:16,2048,2048; do
  IFS=: read -r size model shape <<< "$spec"
  shape_npy "$tmp/$size.npy" "$shape"
  "$UOE_RUN" infer --device cuda --target "$SM" --model "$ROOT/$model" \
    --input "$tmp/$size.npy" --gradients --emit=executable \
    -o "$OUT/bench/$size.uoex" --no-cache 2> /dev/null
  echo "$size $shape $(basename "$model")" >> "$OUT/bench/sizes.txt"
  cp "$ROOT/$model" "$OUT/bench/"
done
cp "$ROOT/bench/torch_uoe_layer.py" "$ROOT/bench/gpu_torch_peer.py" "$OUT/bench/"
cp "$ROOT/scripts/gpu_check.sh" "$OUT/"
tar -C "$(dirname "$OUT")" -cJf "$OUT.tar.xz" "$(basename "$OUT")"
echo "wrote $OUT and $OUT.tar.xz ($(du -h "$OUT.tar.xz" | cut -f1)); on the GPU machine: ./gpu_check.sh"
