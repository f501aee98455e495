#!/usr/bin/env bash
# The bounded smoke sweep of ctest: every scenario (and every fixed regression) for a few
# seeds in swarm mode, with a determinism check on a sample, and the summary printed.
# Fails when any run ends in a safety, liveness or error verdict.
# Usage: smoke_sweep.sh EVC_SIM SEEDS JOBS SCENARIO...
set -euo pipefail
sim=$1 seeds=$2 jobs=$3
shift 3
out=$(mktemp)
trap 'rm -f "$out"' EXIT
status=0
"$sim" sweep "$@" --seeds "1..$seeds" --swarm --jobs "$jobs" --determinism-sample 7 > "$out" ||
  status=$?
"$sim" summarize "$out" || true
runs=$(wc -l < "$out")
expected=$(( $# * seeds ))
echo "smoke sweep: $runs of $expected runs reported, sweep exit status $status"
[ "$runs" -eq "$expected" ] && [ "$status" -eq 0 ]
