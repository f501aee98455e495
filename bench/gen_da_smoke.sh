#!/usr/bin/env bash
# gen-da smoke test (ctest bench_gen_da_smoke): `evc-bench gen-da` writes a small chain into a
# new evc-da store for an `evc-node init --aggregator` HOME; evc-node started on that HOME with
# an empty store must recover every block from evc-da and produce the next one. Proves the
# generator's chain, DA layout and sign state are what the real node accepts (what P2 in
# ci/bench times); measures nothing. Uses the live tests' helpers (deadlines, cleanup trap).
#
# usage: gen_da_smoke.sh BIN_DIR EVC_BENCH [BLOCKS]
set -euo pipefail
source "$(dirname "$0")/../tests/live_recovery/lib.sh"
lr_setup bench-gen-da "${1:?usage: gen_da_smoke.sh BIN_DIR EVC_BENCH [BLOCKS]}"
BENCH=${2:?usage: gen_da_smoke.sh BIN_DIR EVC_BENCH [BLOCKS]}
N=${3:-600}

HOME_DIR="$LR_TMP/seq"
"$LR_NODE" init --home "$HOME_DIR" --aggregator --chain-id bench >"$LR_TMP/init.out"
mkdir -p "$LR_TMP/da/data"
"$BENCH" gen-da --home "$HOME_DIR" --da-store "$LR_TMP/da/data/da.sqlite" --blocks "$N" \
  >"$LR_TMP/gen.out"
grep -q "\"generated_blocks\": $N," "$LR_TMP/gen.out" ||
  lr_fail "gen-da said: $(cat "$LR_TMP/gen.out")"
# a second run must refuse: the store has blocks and would be written twice
if "$BENCH" gen-da --home "$HOME_DIR" --da-store "$LR_TMP/da/data/da.sqlite" --blocks 16 \
  >/dev/null 2>"$LR_TMP/gen2.err"; then
  lr_fail "gen-da wrote into a store that already has DA blocks"
fi

lr_start_da da 300ms 3
lr_start_node "$HOME_DIR" seq.log --da.address "$LR_DA_URL" --da.block-time 300ms
lr_wait 60 "the node producing after recovering $N blocks" lr_producing "$LR_RPC" "$LR_PID"
grep -q "event=sign_state_loaded sign_height=$N local_height=0" "$LR_TMP/seq.log" ||
  lr_fail "the node did not start from an empty store with sign state $N"
lr_at_least "$LR_RPC" da_included_height "$N" || lr_fail "blocks 1..$N are not all final"
lr_wait 20 "a new block after $N" lr_produced_to "$LR_RPC" "$LR_PID" $((N + 1))
[ "$(lr_status "$LR_RPC" equivocations)" = 0 ] || lr_fail "the node saw an equivocation"
lr_check_logs

LR_OK=1
echo "PASS: gen-da chain of $N blocks recovered by evc-node ($(lr_elapsed) s)"
