#!/usr/bin/env bash
# Replays the swarm runs listed in tests/regression_seeds.txt (FILE SEED per line) and fails
# when any ends in a safety, liveness or error verdict. Usage:
#   regression_seeds.sh EVC_SIM SOURCE_DIR LIST
set -uo pipefail
sim=$1 src=$2 list=$3
failed=0 runs=0
while read -r file seed; do
  case "$file" in ''|'#'*) continue ;; esac
  runs=$((runs + 1))
  out=$("$sim" sweep "$src/$file" --seeds "$seed..$seed" --swarm 2>&1)
  if ! grep -q '"counts_as_pass":true' <<<"$out"; then
    echo "$out"
    echo "regression_seeds: $file seed $seed FAILED (replay: evc-sim sweep $file --seeds $seed..$seed --swarm)"
    failed=$((failed + 1))
  fi
done < "$list"
echo "regression_seeds: $((runs - failed)) passed, $failed failed"
[ "$runs" -gt 0 ] && [ "$failed" -eq 0 ]
