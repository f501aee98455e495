#!/usr/bin/env bash
# Runs one scenario for seeds 1..N with --check-determinism: every run must pass every
# invariant and expectation and give the same trace hash twice. Usage:
#   scenario_check.sh EVC_SIM SCENARIO_FILE SEEDS
set -uo pipefail
sim=$1 file=$2 seeds=$3
failed=0
for seed in $(seq 1 "$seeds"); do
  if ! out=$("$sim" run "$file" --seed "$seed" --check-determinism 2>&1); then
    echo "$out"
    echo "scenario_check: $file seed $seed FAILED"
    failed=$((failed + 1))
  fi
done
echo "scenario_check: $file: $((seeds - failed)) passed, $failed failed (seeds 1..$seeds, determinism checked)"
[ "$failed" -eq 0 ]
