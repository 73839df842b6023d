#!/usr/bin/env bash
#===- scripts/demo.sh - build everything and run the main job -------------===#
#
# Builds the compiler, then shows what it does with an example UoE model
# (examples/uoe_lm_block.mlir, a post-LN SMHA + UoME block): parse and verify
# it, then expand its layer ops into routing and expert ops.
#
#===------------------------------------------------------------------------===#
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build
"$root/scripts/build.sh" "$build"

opt="$build/bin/uoe-opt"
model="$root/examples/uoe_lm_block.mlir"
echo
echo "== 1. parse and verify $model"
"$opt" "$model" --verify-each > /dev/null && echo "ok: the model verifies"
echo
echo "== 2. uoe-opt --uoe-expand-layers: layer ops -> routing and expert ops"
"$opt" "$model" --uoe-expand-layers --canonicalize --cse
