#!/usr/bin/env bash
# Same scenario and seed, same trace hash, whatever the compiler: builds evc-sim and the
# kernel tests with OTHER_CC beside this build and compares the trace hashes of the fixture
# world (test_sim_kernel) and of every scenario for a few seeds. Usage:
#   determinism_across_builds.sh SOURCE_DIR THIS_BUILD_DIR OTHER_CC WORK_DIR
set -euo pipefail
src=$1 this=$2 other_cc=$3 work=$4
cmake -S "$src" -B "$work" -G Ninja -DCMAKE_C_COMPILER="$other_cc" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$work" --target evc-sim test_sim_kernel >/dev/null
fixture_hash() { "$1/tests/test_sim_kernel" 2>&1 | grep -o 'trace hash seed 42:[0-9a-f]*'; }
a=$(fixture_hash "$this")
b=$(fixture_hash "$work")
if [ -z "$a" ] || [ "$a" != "$b" ]; then
  echo "determinism: fixture world differs: this build '$a', $other_cc build '$b'"
  exit 1
fi
echo "determinism: fixture world: $a (both builds)"
mismatches=0
for f in "$src"/scenarios/*.json; do
  for seed in 1 2 3; do
    ha=$("$this/sim/evc-sim" run "$f" --seed "$seed" | grep '^trace-hash:' || true)
    hb=$("$work/sim/evc-sim" run "$f" --seed "$seed" | grep '^trace-hash:' || true)
    if [ -z "$ha" ] || [ "$ha" != "$hb" ]; then
      echo "determinism: $(basename "$f") seed $seed: this build '$ha', $other_cc build '$hb'"
      mismatches=$((mismatches + 1))
    fi
  done
done
[ "$mismatches" -eq 0 ] || { echo "determinism: $mismatches mismatches"; exit 1; }
echo "determinism: every scenario, seeds 1..3: same trace hash with $other_cc"
