#!/usr/bin/env bash
# Proof the harness can fail: builds the deliberately broken canary node (-DEVC_CANARY=ON:
# after a wipe it skips catchup and re-signs heights its sign state covers) and requires the
# ordinary invariant checker to return a safety verdict on the recovery scenarios.
# Usage: canary_check.sh SOURCE_DIR WORK_DIR
set -euo pipefail
src=$1 work=$2
cmake -S "$src" -B "$work" -G Ninja -DEVC_CANARY=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$work" --target evc-sim >/dev/null
out=$("$work/sim/evc-sim" sweep "$src"/scenarios/recovery_from_da.json \
      "$src"/scenarios/recovery_from_p2p.json --seeds 1..5 || true)
safety=$(grep -c '"verdict":"safety"' <<<"$out" || true)
total=$(grep -c '"verdict"' <<<"$out" || true)
echo "$out" | head -2
echo "canary: $safety of $total runs caught as safety violations"
[ "$total" -eq 10 ] && [ "$safety" -eq "$total" ]
