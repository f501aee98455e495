#!/usr/bin/env bash
# Live recovery from P2P: evc-da makes a block only every 6 s while the sequencer makes one
# every 200 ms, so right after a DA block the newest blocks exist only on the sequencer and
# the full node. SIGKILL the sequencer there, wipe its data/, start it again with
# --p2p.peers to the full node. Asserts: it finishes catchup before the next DA block (so
# the blocks above the DA head can only have come over P2P, and the node counts them in
# evc_blocks_from_peers_total), its chain equals the original at every height, >= 3 new
# blocks follow, the full node agrees, and every one of those blocks reaches DA (final).
#
# usage: recovery_from_p2p.sh BIN_DIR [ignored]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
lr_setup live-recovery-p2p "${1:?usage: recovery_from_p2p.sh BIN_DIR}"

DA_BLOCK_S=6
AFTER_BOUNDARY=8 # blocks produced after the DA block before the kill: P2P-only blocks
lr_start_da da "${DA_BLOCK_S}s" 3
COMMON=(--da.address "$LR_DA_URL" --block-time 200ms --da.block-time "${DA_BLOCK_S}s"
        --da.mempool-ttl 3 --catchup.inbound-grace 1s --catchup.peek-timeout 1s
        --catchup.p2p-timeout 20s)
SEQ="$LR_TMP/seq"
FULL="$LR_TMP/full"
"$LR_NODE" init --home "$SEQ" --aggregator --chain-id recovery-p2p >"$LR_TMP/init-seq.out"
"$LR_NODE" init --home "$FULL" --genesis "$SEQ/genesis.json" >"$LR_TMP/init-full.out"

lr_start_node "$SEQ" seq.log "${COMMON[@]}"
SEQ_PID=$LR_PID SEQ_RPC=$LR_RPC SEQ_P2P=$LR_P2P
lr_start_node "$FULL" full.log "${COMMON[@]}" --p2p.peers "$SEQ_P2P"
FULL_PID=$LR_PID FULL_RPC=$LR_RPC FULL_P2P=$LR_P2P
lr_wait 20 "the sequencer producing" lr_producing "$SEQ_RPC" "$SEQ_PID"
curl -sf --max-time 5 -X POST --data-binary 'only=p2p' "http://$SEQ_RPC/tx" >/dev/null ||
  lr_fail "POST /tx"

# ---- kill right after a DA block, once the full node holds blocks DA does not ----
da_moved() { local h; h=$(lr_da_head); [ -n "$h" ] && [ "$h" -gt "$head0" ]; }
in_step() {
  local a b
  a=$(lr_status "$SEQ_RPC" height) && b=$(lr_status "$FULL_RPC" height) || return 1
  [ "$a" -ge $((boundary + AFTER_BOUNDARY)) ] && [ "$a" = "$b" ]
}
# a loaded machine may miss the window (the next DA block comes first): try again, 3 times
for attempt in 1 2 3; do
  head0=$(lr_da_head)
  [ -n "$head0" ] || lr_fail "evc-da answers no header.NetworkHead"
  lr_wait $((2 * DA_BLOCK_S + 5)) "a DA block" da_moved
  K=$(lr_da_head)
  boundary=$(lr_status "$SEQ_RPC" height) # >= the height at the DA block: conservative
  lr_poll $((DA_BLOCK_S / 2)) in_step && [ "$(lr_da_head)" = "$K" ] && break
  [ "$attempt" -lt 3 ] || lr_fail "3 DA blocks passed before the full node caught up: too slow"
done
lr_kill "$SEQ_PID"
[ "$(lr_da_head)" = "$K" ] || lr_fail "a DA block came before the kill: the test lost its window"
F=$(lr_status "$FULL_RPC" height)
lr_snapshot "$FULL_RPC" 1 "$F" "$LR_TMP/full-before.txt"
lr_produced_hashes "$LR_TMP/seq.log" >"$LR_TMP/seq-produced.txt"
S=$(tail -n 1 "$LR_TMP/seq-produced.txt" | cut -d' ' -f1)
echo "ok: killed the sequencer at $S; full node at $F; DA head $K reached at height <= $boundary"
rm -rf "$SEQ/data"

# ---- the recovered sequencer: the full node is its only source above DA height K ----
lr_start_node "$SEQ" seq-recovered.log "${COMMON[@]}" --p2p.peers "$FULL_P2P"
SEQ_PID=$LR_PID SEQ_RPC=$LR_RPC
lr_wait $((DA_BLOCK_S * 3)) "the recovered sequencer producing" \
  lr_producing "$SEQ_RPC" "$SEQ_PID"
K2=$(lr_da_head)
signed=$(sed -n 's/.*event=sign_state_loaded sign_height=\([0-9]*\) local_height=0.*/\1/p' \
  "$LR_TMP/seq-recovered.log")
[ "$signed" = "$S" ] || [ "$signed" = $((S + 1)) ] || lr_fail "sign state '$signed', not $S"
S=$signed
from_peers=$(lr_metric "$SEQ_RPC" evc_blocks_from_peers_total)
echo "ok: recovered; $from_peers blocks from the full node; DA head $K2 (was $K)"
[ "$K2" = "$K" ] ||
  lr_fail "a DA block ($K2) came during catchup: cannot tell P2P from DA; machine too slow?"
[ "$from_peers" -ge $((S - 1 - boundary)) ] ||
  lr_fail "only $from_peers blocks came from peers;" \
    "heights $((boundary + 1))..$((S - 1)) exist only there"

lr_check_against "$LR_TMP/full-before.txt" "$SEQ_RPC" "the full node before the kill"
lr_check_against "$LR_TMP/seq-produced.txt" "$SEQ_RPC" "the killed sequencer's log"
lr_wait 20 "3 new blocks on the recovered sequencer" \
  lr_produced_to "$SEQ_RPC" "$SEQ_PID" $((S + 3))
echo "ok: recovered chain equals the original at heights 1..$S; producing"

# ---- the full node follows; the P2P-only blocks reach DA ----
top=$(lr_status "$SEQ_RPC" height)
lr_wait 20 "the full node at height $top" lr_at_least "$FULL_RPC" height "$top"
lr_same_chain "$SEQ_RPC" "$FULL_RPC" 1 "$top"
lr_wait $((DA_BLOCK_S * 4 + 5)) "blocks up to $((S + 3)) final on the full node" \
  lr_at_least "$FULL_RPC" da_included_height $((S + 3))
curl -sf "http://$FULL_RPC/block/$S" | grep -q '"final":true' || lr_fail "block $S not final"
[ "$(lr_status "$FULL_RPC" equivocations)" = 0 ] || lr_fail "the full node saw an equivocation"
lr_alive "$FULL_PID" || lr_fail "the full node exited"
lr_check_logs
echo "ok: full node agrees at 1..$top; blocks $((boundary + 1))..$S are on DA now"

LR_OK=1
echo "PASS: live recovery from P2P ($(lr_elapsed) s)"
