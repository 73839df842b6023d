#!/usr/bin/env bash
# interrupt_training.sh UOE_RUN OUT_DIR ARGS...: starts `UOE_RUN train ARGS`
# in the background, waits (at most 300 s) until it has logged a step, sends
# it one SIGINT (Ctrl-C) and prints its exit status; its stdout and stderr
# go to OUT_DIR/stdout.txt and OUT_DIR/stderr.txt.
set -u
uoe_run=$1 out=$2
shift 2
"$uoe_run" train "$@" > "$out/stdout.txt" 2> "$out/stderr.txt" &
pid=$!
for _ in $(seq 3000); do
  grep -q '^step [0-9]' "$out/stderr.txt" 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
kill -INT "$pid"
wait "$pid"
echo "exit status $?"
