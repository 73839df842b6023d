#!/usr/bin/env bash
# Runs on a GPU machine, from the directory scripts/gpu_bundle.sh wrote (no
# LLVM, no build needed there; Python with torch and numpy for the peers):
#
#   ./gpu_check.sh                 # logs and outputs under $OUT (default ./out)
#
# 1. Correctness: the small models compiled for the GPU against this bundle's
#    CPU outputs (relative 1e-4, f32).
# 2. Timing: each benchmark layer (issue, paper, large; forward and
#    forward + backward) with uoe-exec --device cuda, random weights, against
#    PyTorch eager and torch.compile on the same GPU (bench/gpu_torch_peer.py).
#    uoe-exec's times include copying the input into and the result out of
#    the runtime's managed memory (the runtime takes host tensors).
# Prints a table last; exits 1 if a check failed.
set -uo pipefail
DIR=$(cd "$(dirname "$0")" && pwd)
cd "$DIR"
export LD_LIBRARY_PATH="$DIR/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
OUT=${OUT:-$DIR/out}
PY=${PYTHON:-python3}
WARMUP=${WARMUP:-3}
ITERATIONS=${ITERATIONS:-20}
mkdir -p "$OUT"
status=0
table=()
nvidia-smi -L || true

for m in tiny_uoe tiny_pre_rms; do
  if bin/uoe-exec --device cuda --executable "models/$m.uoex" \
      --weights "models/$m.safetensors" --input "models/$m.x.npy" \
      --output "$OUT/$m.npy" 2> "$OUT/$m.log" &&
     "$PY" - "$OUT/$m.npy" "ref/$m.npy" >> "$OUT/$m.log" 2>&1 <<'PY'
import sys
import numpy as np
got, want = np.load(sys.argv[1]), np.load(sys.argv[2])
rel = float(np.abs(got - want).max() / max(1.0, float(np.abs(want).max())))
print("max relative difference %.3g" % rel)
sys.exit(0 if rel <= 1e-4 else 1)
PY
  then
    table+=("$m: GPU = CPU ($(tail -1 "$OUT/$m.log"))")
  else
    status=1
    table+=("$m: FAILED ($(tail -1 "$OUT/$m.log"))")
  fi
done

while read -r size shape model; do
  "$PY" -c "import numpy as np, sys; s=[int(v) for v in sys.argv[1].split(',')]; \
np.save(sys.argv[2], np.random.default_rng(0).standard_normal(s, dtype=np.float32)); \
np.save(sys.argv[3], np.ones(s, dtype=np.float32))" "$shape" "$OUT/$size.x.npy" "$OUT/$size.dy.npy"
  for pass in forward forward_grad; do
    extra=()
    flag=()
    if [[ $pass == forward_grad ]]; then
      extra=(--input "$OUT/$size.dy.npy")
      flag=(--backward)
    fi
    ours=$(bin/uoe-exec --device cuda --executable "bench/$size.uoex" --entry "$pass" \
      --random-weights 0 --input "$OUT/$size.x.npy" "${extra[@]}" \
      --warmup "$WARMUP" --iterations "$ITERATIONS" 2> "$OUT/$size.$pass.log") || status=1
    peers=$("$PY" bench/gpu_torch_peer.py --uoe-exec bin/uoe-exec \
      --executable "bench/$size.uoex" --model "bench/$model" --shape "$shape" \
      "${flag[@]}" --warmup "$WARMUP" --iterations "$ITERATIONS" 2>> "$OUT/$size.$pass.log") || status=1
    echo "$ours" > "$OUT/$size.$pass.json"
    echo "$peers" >> "$OUT/$size.$pass.json"
    median=$(echo "$ours" | grep -o '"median_ms": [0-9.]*' | cut -d' ' -f2)
    table+=("$size $pass: uoe ${median:-failed} ms; torch: $(echo "$peers" | tr '\n' ' ')")
  done
done < bench/sizes.txt

echo
printf '%s\n' "${table[@]}"
exit $status
