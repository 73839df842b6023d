#!/usr/bin/env bash
#===- scripts/setup.sh - install the build dependencies from Debian -------===#
#
#   scripts/setup.sh [EXTRA_PACKAGE...]
#
# Installs what is missing, idempotently and without prompts: LLVM/MLIR 22,
# protobuf, the build tools and the test and benchmark libraries, and the
# extra packages named (scripts/fuzz.sh adds clang 22 and libFuzzer). Does
# nothing (and needs no network) when everything is already there.
#
#===------------------------------------------------------------------------===#
set -euo pipefail

packages=(
  llvm-22-dev libmlir-22-dev mlir-22-tools llvm-22-tools
  libprotobuf-dev protobuf-compiler
  cmake ninja-build ccache g++ python3
  libgtest-dev libbenchmark-dev libomp-22-dev
  zlib1g-dev libzstd-dev
  python3-numpy python3-pip
  "$@"
)

missing=()
for pkg in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "setup: all ${#packages[@]} packages are installed"
  exit 0
fi

echo "setup: installing ${missing[*]}"
sudo=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "setup: need root or sudo to install packages" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
