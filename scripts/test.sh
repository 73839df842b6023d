#!/usr/bin/env bash
#===- scripts/test.sh - build and run every test --------------------------===#
#
# Builds everything, then runs all lit suites (FileCheck tests and the
# GoogleTest binaries) and prints one summary line "N passed, N failed".
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
echo
echo "tests: $passed passed, $failed failed, $skipped skipped"
exit "$status"
