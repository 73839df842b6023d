#!/usr/bin/env bash
#===- scripts/fuzz.sh - build and run the libFuzzer targets ---------------===#
#
#   scripts/fuzz.sh [SECONDS] [NAME...]
#
# Installs clang 22 and its libFuzzer runtime when missing (apt-get,
# idempotent, no prompt; sudo only when not root), builds fuzz/ with
# clang++-22 into build-fuzz/ (UOE_FUZZ_BUILD_DIR to change it), then runs
# each fuzzer (all, or the NAMEs given: safetensors npy executable
# checkpoint json description mlir) for SECONDS (default 20) on a copy of
# its seed corpus fuzz/corpus/NAME (with the dictionary fuzz/dict/NAME.dict
# when there is one), plus the crash inputs kept in fuzz/regressions/NAME,
# which are only read. The committed files are never modified. Prints one
# line per fuzzer,
#
#   fuzz: NAME: ok (N runs)
#   fuzz: NAME: FAILED (crash file PATH)
#   fuzz: NAME: skipped (LLVM/MLIR 22 not found)
#
# and exits non-zero if any fuzzer failed. Crash files and the full logs
# stay in build-fuzz/artifacts/NAME/ and build-fuzz/logs/NAME.log.
#
# description and mlir (the compiler's parsers) need LLVM/MLIR 22, which
# this script does not install (scripts/setup.sh does): without it they are
# skipped when all fuzzers run, and an error when named.
#
#===------------------------------------------------------------------------===#
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${UOE_FUZZ_BUILD_DIR:-$root/build-fuzz}
all_fuzzers=(safetensors npy executable checkpoint json description mlir)
# The ones that fuzz/CMakeLists.txt builds only with LLVM/MLIR 22.
mlir_fuzzers=(description mlir)

seconds=${1:-20}
if [[ ! "$seconds" =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: scripts/fuzz.sh [SECONDS] [NAME...]   (NAME: ${all_fuzzers[*]})" >&2
  exit 2
fi
shift || true
fuzzers=("$@")
named=${#fuzzers[@]}
[[ $named -gt 0 ]] || fuzzers=("${all_fuzzers[@]}")
for name in "${fuzzers[@]}"; do
  [[ " ${all_fuzzers[*]} " == *" $name "* ]] || {
    echo "fuzz: unknown fuzzer '$name' (have: ${all_fuzzers[*]})" >&2; exit 2; }
done

# --- Packages: the build's (LLVM/MLIR 22, protobuf, cmake, ninja) and clang
# 22 with its libFuzzer runtime, through the one installer.
"$root/scripts/setup.sh" clang-22 libclang-rt-22-dev

# --- Build.
start=$SECONDS
cmake -G Ninja -S "$root/fuzz" -B "$build" -DCMAKE_CXX_COMPILER=clang++-22 >/dev/null
mkdir -p "$build/logs"
# Without LLVM/MLIR 22 the configure leaves out the compiler's fuzzers.
if ! grep -q '^UOE_FUZZ_HAVE_MLIR:INTERNAL=ON$' "$build/CMakeCache.txt"; then
  kept=()
  for name in "${fuzzers[@]}"; do
    if [[ " ${mlir_fuzzers[*]} " == *" $name "* ]]; then
      if [[ $named -gt 0 ]]; then
        echo "fuzz: $name needs LLVM/MLIR 22 (libmlir-22-dev, mlir-22-tools: scripts/setup.sh)" >&2
        exit 1
      fi
      echo "fuzz: $name: skipped (LLVM/MLIR 22 not found)"
    else
      kept+=("$name")
    fi
  done
  fuzzers=("${kept[@]}")
fi
if ! ninja -C "$build" $(printf '%s_fuzzer ' "${fuzzers[@]}") >"$build/logs/build.log" 2>&1; then
  cat "$build/logs/build.log" >&2
  echo "fuzz: the build failed" >&2
  exit 1
fi
echo "fuzz: built in $((SECONDS - start)) s; running each fuzzer for $seconds s"

# --- Run.
work=$(mktemp -d "${TMPDIR:-/tmp}/uoe-fuzz-run.XXXXXX")
trap 'rm -rf "$work"' EXIT
failed=0
for name in "${fuzzers[@]}"; do
  corpus="$work/$name/corpus"
  artifacts="$build/artifacts/$name"
  log="$build/logs/$name.log"
  mkdir -p "$corpus" "$work/$name/tmp"
  cp -R "$root/fuzz/corpus/$name/." "$corpus/"
  rm -rf "$artifacts" && mkdir -p "$artifacts"
  # libFuzzer adds what it finds to the first folder (the copy) only.
  dirs=("$corpus")
  [[ -d "$root/fuzz/regressions/$name" ]] && dirs+=("$root/fuzz/regressions/$name")
  options=()
  [[ -f "$root/fuzz/dict/$name.dict" ]] && options+=("-dict=$root/fuzz/dict/$name.dict")
  set +e
  TMPDIR="$work/$name/tmp" "$build/${name}_fuzzer" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$artifacts/" "${options[@]}" \
    "${dirs[@]}" >"$log" 2>&1
  rc=$?
  set -e
  runs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$log" | tail -1)
  crash=$(sed -nE 's/.*Test unit written to (.*)$/\1/p' "$log" | tail -1)
  if [[ $rc -eq 0 && -z "$crash" ]]; then
    echo "fuzz: $name: ok (${runs:-0} runs)"
  else
    failed=$((failed + 1))
    if [[ -n "$crash" ]]; then
      echo "fuzz: $name: FAILED (crash file $crash)"
    else
      echo "fuzz: $name: FAILED (exit $rc, no crash file; see $log)"
    fi
    # The report: the sanitizer's or libFuzzer's summary and the top frames.
    { grep -m1 -E '^==[0-9]+==ERROR|runtime error:|^==[0-9]+== ERROR: libFuzzer' "$log"
      grep -E '^ +#[0-9]+ ' "$log" | head -6
      grep -m1 '^SUMMARY' "$log"; } | sed 's/^/    /' || true
  fi
done
echo "fuzz: ${#fuzzers[@]} fuzzers, $failed failed (logs in $build/logs)"
[[ $failed -eq 0 ]]
