#!/usr/bin/env bash
# Live recovery from DA: a sequencer and a full node on evc-da (fast DA blocks); txs; blocks
# DA-included; SIGKILL the sequencer, wipe its data/ (keys/ and peers.json kept) and start it
# again on the same HOME. Asserts: it goes catching_up -> producing, its chain equals the
# original at every height (the killed sequencer's own block_produced log and the full node's
# blocks before the kill), >= 3 new blocks follow, the full node follows and agrees, nobody
# reports an equivocation or a failure. Every wait polls with a deadline; all processes die.
#
# usage: recovery_from_da.sh BIN_DIR [ignored]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
lr_setup live-recovery-da "${1:?usage: recovery_from_da.sh BIN_DIR}"

lr_start_da da 300ms 3
COMMON=(--da.address "$LR_DA_URL" --block-time 200ms --da.block-time 300ms --da.mempool-ttl 3
        --catchup.inbound-grace 1s --catchup.peek-timeout 1s --catchup.p2p-timeout 10s)
SEQ="$LR_TMP/seq"
FULL="$LR_TMP/full"
"$LR_NODE" init --home "$SEQ" --aggregator --chain-id recovery-da >"$LR_TMP/init-seq.out"
"$LR_NODE" init --home "$FULL" --genesis "$SEQ/genesis.json" >"$LR_TMP/init-full.out"

lr_start_node "$SEQ" seq.log "${COMMON[@]}"
SEQ_PID=$LR_PID SEQ_RPC=$LR_RPC SEQ_P2P=$LR_P2P
lr_start_node "$FULL" full.log "${COMMON[@]}" --p2p.peers "$SEQ_P2P"
FULL_PID=$LR_PID FULL_RPC=$LR_RPC
lr_wait 20 "the sequencer producing" lr_producing "$SEQ_RPC" "$SEQ_PID"

# ---- txs, then DA inclusion ----
for i in 1 2 3; do
  curl -sf --max-time 5 -X POST --data-binary "key$i=value$i" "http://$SEQ_RPC/tx" >/dev/null ||
    lr_fail "POST /tx $i"
done
lr_wait 20 "8 blocks on the sequencer" lr_at_least "$SEQ_RPC" height 8
top=$(lr_status "$SEQ_RPC" height)
lr_wait 20 "the full node DA-including height $top" \
  lr_at_least "$FULL_RPC" da_included_height "$top"
echo "ok: the full node has blocks 1..$top final"

# ---- the original chain: from the full node, right before the kill ----
F=$(lr_status "$FULL_RPC" height)
lr_snapshot "$FULL_RPC" 1 "$F" "$LR_TMP/full-before.txt"
lr_kill "$SEQ_PID"
lr_produced_hashes "$LR_TMP/seq.log" >"$LR_TMP/seq-produced.txt"
S=$(tail -n 1 "$LR_TMP/seq-produced.txt" | cut -d' ' -f1)
[ -n "$S" ] && [ "$S" -ge "$F" ] || lr_fail "the killed sequencer's log has no block up to $F"
echo "ok: killed the sequencer at height $S (full node at $F)"

rm -rf "$SEQ/data"
[ -s "$SEQ/keys/signer.json" ] && [ -s "$SEQ/keys/sign_state" ] || lr_fail "keys/ lost"

# ---- the recovered sequencer ----
lr_start_node "$SEQ" seq-recovered.log "${COMMON[@]}"
SEQ_PID=$LR_PID SEQ_RPC=$LR_RPC
lr_wait 30 "the recovered sequencer producing" lr_producing "$SEQ_RPC" "$SEQ_PID"
grep -q 'event=mode from=boot to=catching_up' "$LR_TMP/seq-recovered.log" ||
  lr_fail "the recovered sequencer never logged catching_up"
grep -q 'event=mode from=catching_up to=draining' "$LR_TMP/seq-recovered.log" ||
  lr_fail "the recovered sequencer never logged the end of catchup"
# the kill may land between the sign-state write and the block_produced line: S or S + 1
signed=$(sed -n "s/.*event=sign_state_loaded sign_height=\([0-9]*\) local_height=0.*/\1/p" \
  "$LR_TMP/seq-recovered.log")
[ "$signed" = "$S" ] || [ "$signed" = $((S + 1)) ] ||
  lr_fail "the recovered sequencer loaded sign state '$signed' over an empty store, not $S"
S=$signed
lr_wait 20 "3 new blocks on the recovered sequencer" \
  lr_produced_to "$SEQ_RPC" "$SEQ_PID" $((S + 3))

lr_check_against "$LR_TMP/full-before.txt" "$SEQ_RPC" "the full node before the kill"
lr_check_against "$LR_TMP/seq-produced.txt" "$SEQ_RPC" "the killed sequencer's log"
echo "ok: recovered chain equals the original at heights 1..$S"

# ---- the full node follows ----
top=$(lr_status "$SEQ_RPC" height)
lr_wait 20 "the full node at height $top" lr_at_least "$FULL_RPC" height "$top"
lr_same_chain "$SEQ_RPC" "$FULL_RPC" 1 "$top"
lr_wait 20 "the new blocks final on the full node" \
  lr_at_least "$FULL_RPC" da_included_height $((S + 3))
[ "$(lr_status "$FULL_RPC" equivocations)" = 0 ] || lr_fail "the full node saw an equivocation"
[ "$(lr_status "$SEQ_RPC" equivocations)" = 0 ] || lr_fail "the sequencer saw an equivocation"
lr_alive "$FULL_PID" || lr_fail "the full node exited"
lr_check_logs
echo "ok: full node agrees at 1..$top, new blocks final;" \
  "$(($(lr_status "$SEQ_RPC" height) - S)) new blocks"

LR_OK=1
echo "PASS: live recovery from DA ($(lr_elapsed) s)"
