#!/usr/bin/env bash
# Bad input against live nodes: random and truncated frames to the P2P ports (bash /dev/tcp),
# garbage to the RPC (malformed paths, bad methods, huge bodies, raw bytes), a lying DA
# (fake_da: malformed JSON-RPC replies) under a full node and an aggregator, and junk blobs,
# a header with a broken signature, replays and an impostor sequencer's blobs posted to the
# chain's namespaces on evc-da. Asserts: every node keeps running (/health/live 200), the
# sequencer keeps producing, the full node's chain equals the sequencer's at every height,
# nothing from the liars is stored or final, and each rejection is visible (log or metric).
#
# usage: bad_input.sh BIN_DIR FAKE_DA_BINARY
set -euo pipefail
source "$(dirname "$0")/lib.sh"
lr_setup live-bad-input "${1:?usage: bad_input.sh BIN_DIR FAKE_DA_BINARY}"
FAKE_DA=${2:?usage: bad_input.sh BIN_DIR FAKE_DA_BINARY}
[ -x "$FAKE_DA" ] || lr_fail "no fake DA binary at '$FAKE_DA'"

lr_start_da da 300ms 3
COMMON=(--block-time 200ms --da.block-time 300ms --da.mempool-ttl 3 --catchup.inbound-grace 1s
        --catchup.peek-timeout 1s --da.request-timeout 3s)
SEQ="$LR_TMP/seq"
FULL="$LR_TMP/full"
"$LR_NODE" init --home "$SEQ" --aggregator --chain-id bad-input >"$LR_TMP/init-seq.out"
"$LR_NODE" init --home "$FULL" --genesis "$SEQ/genesis.json" >"$LR_TMP/init-full.out"
lr_start_node "$SEQ" seq.log "${COMMON[@]}" --da.address "$LR_DA_URL"
SEQ_PID=$LR_PID SEQ_RPC=$LR_RPC SEQ_P2P=$LR_P2P
lr_start_node "$FULL" full.log "${COMMON[@]}" --da.address "$LR_DA_URL" --p2p.peers "$SEQ_P2P"
FULL_PID=$LR_PID FULL_RPC=$LR_RPC FULL_P2P=$LR_P2P
lr_wait 20 "the sequencer producing" lr_producing "$SEQ_RPC" "$SEQ_PID"
lr_wait 20 "the full node at height 3" lr_at_least "$FULL_RPC" height 3
HEADER_NS=$(lr_ns_base64 "$(lr_genesis_field "$SEQ" header_namespace)")
DATA_NS=$(lr_ns_base64 "$(lr_genesis_field "$SEQ" data_namespace)")
SEQ_NODE_ID=$(sed -n 's/^node_id *\([0-9a-f]*\)$/\1/p' "$LR_TMP/init-seq.out")
[ ${#SEQ_NODE_ID} = 64 ] || lr_fail "no node id in the output of init"

# everyone alive and answering: the invariant every section below ends with
alive_all() {
  local pid rpc
  for pid in "$SEQ_PID" "$FULL_PID" "$@"; do lr_alive "$pid" || lr_fail "process $pid exited"; done
  for rpc in "$SEQ_RPC" "$FULL_RPC"; do
    [ "$(lr_http_code "http://$rpc/health/live")" = 200 ] || lr_fail "$rpc: /health/live not 200"
  done
}

# ---------------------------------------------------------------- P2P: bytes on a socket
hex() { printf '%b' "$(echo "$1" | sed 's/../\\x&/g')"; } # bytes from hex digits
hello() { # hello NODE_KEY_HEX EPHEMERAL_HEX [MAGIC] [VERSION_HEX]: a stage-1 frame, no address
  hex 00000049
  printf '%s' "${3:-evcp2p}"
  hex "${4:-0001}$1$2"
  hex 00
}
random_hex() { head -c "$1" /dev/urandom | od -An -v -tx1 | tr -d ' \n'; }

# p2p_send ADDRESS: stdin to a new connection, then close. cat writes: a node that hangs up
# early kills cat with SIGPIPE, never this shell.
p2p_send() {
  local fd
  exec {fd}<>"/dev/tcp/${1%:*}/${1##*:}" || lr_fail "cannot connect to $1"
  cat 1>&"$fd" 2>/dev/null || true
  exec {fd}>&-
}

# The handshake timeout closes a silent connection: a background reader sees the close.
exec {silent}<>"/dev/tcp/${SEQ_P2P%:*}/${SEQ_P2P##*:}"
cat <&"$silent" >/dev/null &
SILENT_PID=$!
LR_PIDS+=("$SILENT_PID")
exec {silent}<&-

closed_before=$(grep -c 'event=p2p_connection_closed.*direction=inbound' "$LR_TMP/seq.log" || true)
RK=$(random_hex 32)
garbage_sent=0
for target in "$SEQ_P2P" "$FULL_P2P"; do
  head -c 65536 /dev/urandom | p2p_send "$target"                        # random bytes
  { hex ffffffff; head -c 4096 /dev/urandom; } | p2p_send "$target"       # frame of 4 GiB
  { hex 00000000; } | p2p_send "$target"                                   # empty frame
  { hex 00000049; printf 'evcp2p'; hex 0001; } | p2p_send "$target"       # truncated hello
  hello "$RK" "$(random_hex 32)" xxxxxx | p2p_send "$target"               # bad magic
  hello "$RK" "$(random_hex 32)" evcp2p 0002 | p2p_send "$target"          # bad version
  { hex 00000050; hello "$RK" "$(random_hex 32)" | tail -c +5; head -c 7 /dev/zero; } |
    p2p_send "$target"                                                      # length mismatch
  { hello "$RK" "$(printf '0%.0s' {1..64})"; hex 00000050; head -c 80 /dev/urandom; } |
    p2p_send "$target"                                                      # low-order key
  { hello "$RK" "$(random_hex 32)"; hex 00000050; head -c 80 /dev/urandom; } |
    p2p_send "$target"                                                      # forged auth
  { hello "$RK" "$(random_hex 32)"; hex 00000050; head -c 11 /dev/urandom; } |
    p2p_send "$target"                                                      # truncated auth
  { hello "$RK" "$(random_hex 32)"; hex 00100000; head -c 100 /dev/urandom; } |
    p2p_send "$target"                                                      # auth of wrong size
  { hello "$SEQ_NODE_ID" "$(random_hex 32)"; hex 00000050; head -c 80 /dev/urandom; } |
    p2p_send "$target"                                                      # claims the seq's id
  garbage_sent=$((garbage_sent + 12))
done
flood=()
for _ in $(seq 1 40); do
  head -c 16384 /dev/urandom | p2p_send "$SEQ_P2P" &
  flood+=($!)
done
for pid in "${flood[@]}"; do wait "$pid" || true; done

# the sequencer logged a close for each garbage connection (12 sent to it + 40 flood)
seq_closes() {
  local n
  n=$(grep -c 'event=p2p_connection_closed.*direction=inbound' "$LR_TMP/seq.log" || true)
  [ $((n - closed_before)) -ge 52 ]
}
lr_wait 20 "the sequencer logging 52 refused inbound connections" seq_closes
silent_closed() { ! lr_alive "$SILENT_PID"; }
lr_wait 20 "the handshake timeout (5 s) closing a silent connection" silent_closed
alive_all
[ "$(lr_status "$FULL_RPC" peers)" -ge 1 ] || lr_fail "the full node lost its sequencer peer"
h=$(lr_status "$SEQ_RPC" height)
lr_wait 10 "the full node following after the P2P garbage" lr_at_least "$FULL_RPC" height $((h + 2))
echo "ok: P2P: $garbage_sent malformed handshakes, 40 random floods, 1 silent connection;" \
  "all closed and logged, nodes still in step"
grep 'event=p2p_connection_closed.*direction=inbound' "$LR_TMP/seq.log" |
  sed 's/.*\(reason="[^"]*"\).*/\1/; s/[0-9][0-9]*/N/g' | sort | uniq -c | sort -rn |
  sed 's/^/     /'

# ---------------------------------------------------------------- RPC garbage
expect_code() { # CODE DESCRIPTION CURL_ARGS...
  local want=$1 what=$2 got rpc
  shift 2
  for rpc in "$SEQ_RPC" "$FULL_RPC"; do
    got=$(lr_http_code "${@/RPC/$rpc}")
    [ "$got" = "$want" ] || lr_fail "$what on $rpc: HTTP $got, want $want"
  done
}
long=$(head -c 20000 /dev/zero | tr '\0' a)
expect_code 400 "/block/-1" "http://RPC/block/-1"
expect_code 400 "/block/2^64" "http://RPC/block/18446744073709551616"
expect_code 400 "/block/ (empty)" "http://RPC/block/"
expect_code 400 "/block/1x" "http://RPC/block/1x"
expect_code 400 "/block/%00" "http://RPC/block/%00"
expect_code 400 "/block/1/2" "http://RPC/block/1/2"
expect_code 404 "a 20000-byte path" "http://RPC/$long"
expect_code 404 "/block/99999999999" "http://RPC/block/99999999999"
for method in DELETE PUT PATCH OPTIONS BREW; do
  expect_code 405 "$method /status" -X "$method" "http://RPC/status"
done
expect_code 405 "GET /tx" "http://RPC/tx"
head -c 20000000 /dev/zero | tr '\0' a >"$LR_TMP/huge.body"
got=$(lr_http_code -X POST --data-binary "@$LR_TMP/huge.body" "http://$SEQ_RPC/tx")
[ "$got" = 413 ] || lr_fail "a 20 MB POST /tx: HTTP $got, want 413"
got=$(lr_http_code -X POST -H 'Transfer-Encoding: chunked' --data-binary "@$LR_TMP/huge.body" \
  "http://$SEQ_RPC/tx")
[ "$got" = 413 ] || lr_fail "a chunked 20 MB POST /tx: HTTP $got, want 413"
printf '\000\377=\001' >"$LR_TMP/binary.body"
got=$(lr_http_code -X POST --data-binary "@$LR_TMP/binary.body" "http://$SEQ_RPC/tx")
[ "$got" = 400 ] || [ "$got" = 200 ] || lr_fail "binary POST /tx: HTTP $got"
rm -f "$LR_TMP/huge.body"
for rpc in "$SEQ_RPC" "$FULL_RPC"; do
  head -c 65536 /dev/urandom | p2p_send "$rpc"
  printf 'POST /tx HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc' | p2p_send "$rpc"
  printf 'GET /status HTTP/1.1\r\nHost: x\r\nX-A: %s' "$long" | p2p_send "$rpc"
  printf 'GET /status HTTP/9.9\r\n\r\n' | p2p_send "$rpc"
  printf 'GET /status HTTP/1.1\r\nContent-Length: -5\r\n\r\n' | p2p_send "$rpc"
  printf '\r\n\r\n\r\n' | p2p_send "$rpc"
done
alive_all
[ "$(lr_http_code "http://$SEQ_RPC/status")" = 200 ] || lr_fail "/status after the RPC garbage"
echo "ok: RPC: malformed paths 400/404, bad methods 405, 20 MB bodies 413, raw garbage survived"

# ---------------------------------------------------------------- a lying DA
"$FAKE_DA" "$LR_TMP/fake-da.address" "$HEADER_NS" "$DATA_NS" >"$LR_TMP/fake-da.out" \
  2>"$LR_TMP/fake-da.log" &
LR_PIDS+=($!)
lr_wait 10 "the fake DA's address" test -s "$LR_TMP/fake-da.address"
FAKE_URL="http://$(cat "$LR_TMP/fake-da.address")"
LIAR_FULL="$LR_TMP/liar-full"
LIAR_SEQ="$LR_TMP/liar-seq"
"$LR_NODE" init --home "$LIAR_FULL" --genesis "$SEQ/genesis.json" >/dev/null
"$LR_NODE" init --home "$LIAR_SEQ" --aggregator --chain-id liar-da >/dev/null
lr_start_node "$LIAR_FULL" liar-full.log "${COMMON[@]}" --da.address "$FAKE_URL" \
  --p2p.peers "$SEQ_P2P"
LIAR_FULL_PID=$LR_PID LIAR_FULL_RPC=$LR_RPC
lr_start_node "$LIAR_SEQ" liar-seq.log "${COMMON[@]}" --da.address "$FAKE_URL"
LIAR_SEQ_PID=$LR_PID LIAR_SEQ_RPC=$LR_RPC

# every kind of lie served at least once (the list is in fake_da.c)
all_lies_served() {
  local r
  for r in head_ok not_json truncated_json wrong_id height_negative height_huge height_float \
    result_null http_500 short_body deep_nesting error_odd blobs_bad_base64 blobs_bad_namespace \
    blobs_junk blobs_not_array blobs_index_negative blobs_share_version blobs_many huge_reply \
    error_future_garbled; do
    grep -q "reply=$r\$" "$LR_TMP/fake-da.out" || return 1
  done
}
lr_wait 50 "the fake DA serving every malformed reply" all_lies_served
alive_all "$LIAR_FULL_PID" "$LIAR_SEQ_PID"
for rpc in "$LIAR_FULL_RPC" "$LIAR_SEQ_RPC"; do
  [ "$(lr_http_code "http://$rpc/health/live")" = 200 ] || lr_fail "$rpc: /health/live not 200"
done
grep -q 'event=da_call_failed' "$LR_TMP/liar-full.log" || lr_fail "no da_call_failed logged"
[ "$(lr_status "$LIAR_FULL_RPC" da_included_height)" = 0 ] ||
  lr_fail "the full node on the lying DA marked blocks final"
# A DA that answers "from the future" is believed (it is the availability oracle), so the
# aggregator may produce; but nothing may count as on DA when DA never returned its blobs.
[ "$(lr_status "$LIAR_SEQ_RPC" da_included_height)" = 0 ] ||
  lr_fail "the aggregator on the lying DA marked blocks DA-included"
lh=$(lr_status "$LIAR_FULL_RPC" height)
[ "$lh" -ge 1 ] || lr_fail "the full node on the lying DA got no block over P2P"
lr_same_chain "$SEQ_RPC" "$LIAR_FULL_RPC" 1 "$lh"
echo "ok: lying DA: $(wc -l <"$LR_TMP/fake-da.out") malformed replies;" \
  "$(grep -c 'event=da_call_failed' "$LR_TMP/liar-full.log") da_call_failed lines;" \
  "the full node follows P2P only (1..$lh, none final); nothing final on the aggregator"
grep -o 'event=da_call_failed method=[^ ]* error="[^"]*' "$LR_TMP/liar-full.log" |
  sed 's/event=da_call_failed //; s/[0-9][0-9]*/N/g' | sort | uniq -c | sort -rn | head -n 12 |
  sed 's/^/     /'
lr_kill "$LIAR_FULL_PID"
lr_kill "$LIAR_SEQ_PID"

# ---------------------------------------------------------------- junk on the namespaces
# blob.Submit to evc-da; prints the DA height it landed at
submit() { # NAMESPACE_B64 DATA_B64
  local reply blob="{\"namespace\":\"$1\",\"data\":\"$2\",\"share_version\":0,\"index\":-1}"
  reply=$(curl -sf --max-time 15 -H 'Content-Type: application/json' -d \
    "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"blob.Submit\",\"params\":[[$blob],{}]}" \
    "$LR_DA_URL") || lr_fail "blob.Submit to evc-da failed"
  echo "$reply" | sed -n 's/.*"result": *\([0-9][0-9]*\).*/\1/p'
}
# the first blob of NAMESPACE at DA height H, base64 ("" if none)
first_blob() {
  curl -sf --max-time 5 -H 'Content-Type: application/json' -d \
    "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"blob.GetAll\",\"params\":[$2,[\"$1\"]]}" \
    "$LR_DA_URL" | grep -o '"data": *"[^"]*"' | head -n 1 | sed 's/.*"\([^"]*\)"$/\1/' || true
}
junk_before=$(lr_metric "$FULL_RPC" evc_da_junk_blobs_total)
badsig_before=$(lr_metric "$FULL_RPC" evc_da_bad_signatures_total)
landed=()
landed+=("$(submit "$HEADER_NS" "$(head -c 300 /dev/urandom | base64 -w 0)")")
landed+=("$(submit "$DATA_NS" "$(head -c 300 /dev/urandom | base64 -w 0)")")
landed+=("$(submit "$HEADER_NS" "$(printf '\002\001' | base64 -w 0)")") # a header tag, nothing else

# a real header of this chain with its last signature byte flipped: decodes, fails verification
real=""
for ((d = 1; d <= $(lr_da_head) && ${#real} == 0; d++)); do
  real=$(first_blob "$HEADER_NS" "$d")
done
[ -n "$real" ] || lr_fail "no header of the chain found on evc-da"
printf '%s' "$real" | base64 -d >"$LR_TMP/header.bin"
size=$(wc -c <"$LR_TMP/header.bin")
last=$(od -An -j $((size - 1)) -N 1 -tu1 "$LR_TMP/header.bin" | tr -d ' ')
flipped=$(printf '%03o' $(((last + 1) % 256)))
bad=$({ head -c $((size - 1)) "$LR_TMP/header.bin"; printf "\\$flipped"; } | base64 -w 0)
[ "$bad" != "$real" ] || lr_fail "the flipped header equals the real one"
landed+=("$(submit "$HEADER_NS" "$bad")")
landed+=("$(submit "$HEADER_NS" "$real")") # a replay of a real header: already known

# an impostor: the same chain id (so the same namespaces) with another key, on the same DA
IMPOSTOR="$LR_TMP/impostor"
"$LR_NODE" init --home "$IMPOSTOR" --aggregator --chain-id bad-input >/dev/null
lr_start_node "$IMPOSTOR" impostor.log "${COMMON[@]}" --da.address "$LR_DA_URL"
IMPOSTOR_PID=$LR_PID IMPOSTOR_RPC=$LR_RPC
lr_wait 20 "the impostor's blocks on DA" lr_at_least "$IMPOSTOR_RPC" da_included_height 3
impostor_head=$(lr_da_head)
lr_kill "$IMPOSTOR_PID"

max=$impostor_head
for d in "${landed[@]}"; do
  [ -n "$d" ] || lr_fail "a junk blob.Submit returned no height"
  [ "$d" -le "$max" ] || max=$d
done
lr_wait 20 "the full node past DA height $max" \
  lr_metric_at_least "$FULL_RPC" evc_node_da_height_reached "$max"
lr_wait 20 "the sequencer past DA height $max" \
  lr_metric_at_least "$SEQ_RPC" evc_node_da_height_reached "$max"
junk=$(($(lr_metric "$FULL_RPC" evc_da_junk_blobs_total) - junk_before))
badsig=$(($(lr_metric "$FULL_RPC" evc_da_bad_signatures_total) - badsig_before))
# 2 random blobs + the bare tag + >= 3 impostor headers are junk; the flipped one a bad signature
[ "$junk" -ge 6 ] || lr_fail "the full node counted $junk junk blobs, expected >= 6"
[ "$badsig" -ge 1 ] || lr_fail "the full node counted no bad signature"
[ "$(lr_metric "$SEQ_RPC" evc_da_bad_signatures_total)" -ge 1 ] ||
  lr_fail "the sequencer counted no bad signature"
alive_all
h=$(lr_status "$SEQ_RPC" height)
lr_wait 10 "the sequencer producing after the junk" lr_at_least "$SEQ_RPC" height $((h + 3))
top=$(lr_status "$SEQ_RPC" height)
lr_wait 15 "the full node at $top" lr_at_least "$FULL_RPC" height "$top"
lr_same_chain "$SEQ_RPC" "$FULL_RPC" 1 "$top"
lr_wait 15 "the sequencer's blocks final on the full node" \
  lr_at_least "$FULL_RPC" da_included_height "$h"
for rpc in "$SEQ_RPC" "$FULL_RPC"; do
  [ "$(lr_status "$rpc" equivocations)" = 0 ] || lr_fail "$rpc reports an equivocation"
done
lr_check_logs
echo "ok: DA junk: $junk junk blobs and $badsig bad signature counted by the full node;" \
  "chains equal at 1..$top, no equivocation"

LR_OK=1
echo "PASS: live bad input ($(lr_elapsed) s)"
