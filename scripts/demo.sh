#!/usr/bin/env bash
#===- scripts/demo.sh - build everything and run the main job -------------===#
#
# Builds the compiler, then compiles and runs a small UoE model on the CPU:
#   1. `uoe-run init` writes fresh weights for examples/uoe_layer.pbtxt (one
#      post-LN layer: SMHA + UoME, d = 64);
#   2. `uoe-run infer` compiles it for a random [2, 16, 64] input (or loads it
#      from the compiled-model cache), runs it and writes the output, whose
#      first rows are printed;
#   3. `uoe-opt` shows the layers of a block expanded into routing and expert
#      ops (the first level of the compiler), on examples/uoe_lm_block.mlir;
#   4. the same for a byte-level UoE language model (examples/uoe_lm.pbtxt):
#      text in as token ids, logits out.
# Everything it writes goes to build/demo/.
#
#===------------------------------------------------------------------------===#
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build
"$root/scripts/build.sh" "$build"

run="$build/bin/uoe-run"
opt="$build/bin/uoe-opt"
npy="python3 $root/scripts/npytool.py"
out="$build/demo"
model="$root/examples/uoe_layer.pbtxt"
mkdir -p "$out"

echo
echo "== 1. weights for $model"
"$run" init --model "$model" --output "$out/weights.safetensors" --seed 0

echo
echo "== 2. compile and run it on the CPU (input: random hidden states [2, 16, 64])"
$npy random "$out/input.npy" --shape 2,16,64 --seed 0
"$run" infer --model "$model" --weights "$out/weights.safetensors" \
  --input "$out/input.npy" --output "$out/output.npy" --cache-dir "$out/cache"
$npy show "$out/output.npy"
$npy stats "$out/output.npy"

echo
echo "== 3. uoe-opt --uoe-expand-layers on examples/uoe_lm_block.mlir (layer ops -> routing and expert ops)"
"$opt" "$root/examples/uoe_lm_block.mlir" --uoe-expand-layers --canonicalize --cse \
  | grep -E "uoe\." | sed -E "s/ : .*//" | head -40

echo
echo "== 4. a byte-level UoE language model (examples/uoe_lm.pbtxt): token ids in, logits out"
"$run" init --model "$root/examples/uoe_lm.pbtxt" --output "$out/lm.safetensors" --seed 0
$npy text "$out/ids.npy" "Union of Experts"
"$run" infer --model "$root/examples/uoe_lm.pbtxt" --weights "$out/lm.safetensors" \
  --input "$out/ids.npy" --output "$out/logits.npy" --cache-dir "$out/cache"
$npy show "$out/logits.npy" --rows 2
echo "most likely next byte at each position (untrained weights and a tied head: it echoes its input):"
$npy argmax "$out/logits.npy"
