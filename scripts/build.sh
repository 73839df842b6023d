#!/usr/bin/env bash
#===- scripts/build.sh - configure and build everything -------------------===#
#
# Usage: scripts/build.sh [BUILD_DIR]   (default: build)
# Configures with Ninja (Release, ccache when present) and builds every
# target: the libraries, uoe-opt, the unit tests and the docs.
#
#===------------------------------------------------------------------------===#
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}

"$root/scripts/setup.sh"
if [[ ! -f "$build/build.ninja" ]]; then
  cmake -G Ninja -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release
fi
cmake --build "$build"
