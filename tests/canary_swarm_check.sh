#!/usr/bin/env bash
# Proof the swarm harness can fail: the canary build (-DEVC_CANARY=ON) must be caught as a
# safety verdict by the smoke sweep's own command (swarm on, ordinary checker), and
# `evc-sim shrink` must turn the first caught run into a scenario with at most a handful
# of faults that still fails the same way when replayed with `evc-sim run`.
# Usage: canary_swarm_check.sh SOURCE_DIR WORK_DIR
set -euo pipefail
src=$1 work=$2
cmake -S "$src" -B "$work" -G Ninja -DEVC_CANARY=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$work" --target evc-sim >/dev/null
sim=$work/sim/evc-sim
out=$("$sim" sweep "$src"/scenarios/*.json --seeds 1..3 --swarm --jobs 2 || true)
safety=$(grep -c '"verdict":"safety"' <<<"$out" || true)
echo "canary: $safety of $(grep -c '"verdict"' <<<"$out") swarm runs caught as safety violations"
[ "$safety" -ge 1 ]
first=$(grep -m1 '"verdict":"safety"' <<<"$out")
file=$(sed -E 's/.*"file":"([^"]*)".*/\1/' <<<"$first")
seed=$(sed -E 's/.*"seed":([0-9]+).*/\1/' <<<"$first")
min=$work/canary-min.json
report=$("$sim" shrink "$file" --seed "$seed" --swarm --out "$min")
echo "$report"
faults=$(sed -nE 's/^shrink: [0-9]+ faults -> ([0-9]+),.*/\1/p' <<<"$report")
echo "canary: shrunk to $faults faults"
[ -n "$faults" ] && [ "$faults" -le 5 ]
replay=$("$sim" run "$min" --seed "$seed" || true)
echo "$replay" | head -2
grep -q 'verdict=safety' <<<"$replay"
