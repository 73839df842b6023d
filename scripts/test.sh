#!/usr/bin/env bash
#===- scripts/test.sh - build and run every test --------------------------===#
#
# Builds everything, then runs all lit suites (FileCheck tests and the
# GoogleTest binaries, each GoogleTest case counted), then every libFuzzer
# target for a short, bounded time (scripts/fuzz.sh: 20 s each, on its seed
# corpus and the crash inputs kept as regressions; each target counts as one
# test), and prints one summary line "tests: N passed, N failed, N skipped".
#
#===------------------------------------------------------------------------===#
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}

"$root/scripts/build.sh" "$build"

log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
/usr/lib/llvm-22/bin/lit -sv "$build/test" "$build/test/unittests" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

# lit's summary lines look like "  Passed     : 52 (100.00%)".
count() {
  local n
  n=$(grep -E "^ *$1 *: *[0-9]+" "$log" | head -1 | sed -E 's/.*: *([0-9]+).*/\1/')
  echo "${n:-0}"
}
passed=$(( $(count Passed) + $(count 'Expectedly Failed') ))
failed=$(( $(count Failed) + $(count 'Unexpectedly Passed') + $(count Unresolved) + $(count 'Timed Out') ))
skipped=$(( $(count Unsupported) + $(count Excluded) + $(count Skipped) ))

# The parsers under libFuzzer (needs clang 22, which fuzz.sh installs).
fuzzlog=$(mktemp)
trap 'rm -f "$log" "$fuzzlog"' EXIT
set +e
"$root/scripts/fuzz.sh" 20 2>&1 | tee "$fuzzlog"
fuzzstatus=${PIPESTATUS[0]}
set -e
fuzzok=$(grep -c '^fuzz: [a-z_]*: ok' "$fuzzlog" || true)
fuzzfailed=$(grep -c '^fuzz: [a-z_]*: FAILED' "$fuzzlog" || true)
passed=$(( passed + fuzzok ))
failed=$(( failed + fuzzfailed ))
if [[ $fuzzstatus -ne 0 && $fuzzfailed -eq 0 ]]; then
  echo "fuzz: scripts/fuzz.sh failed before running the fuzzers (exit $fuzzstatus)"
  failed=$(( failed + 1 ))
fi
[[ $fuzzstatus -eq 0 ]] || status=1

echo
echo "tests: $passed passed, $failed failed, $skipped skipped"
exit "$status"
