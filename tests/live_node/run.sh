#!/usr/bin/env bash
# End to end on loopback with real processes: evc-da, a sequencer and a full node peered with
# it. Checks production and DA inclusion (/status), POST /tx, /block/N equal on both nodes,
# /metrics through `promtool check metrics`, RPC error codes, `evc-node status`, and that
# SIGTERM stops the sequencer only after its blocks are on DA (exit 0). Every wait polls an
# observable condition with a deadline; every process started here is killed on exit.
#
# usage: run.sh BIN_DIR   (the directory holding evc-node and evc-da)
set -euo pipefail

BIN=${1:?usage: run.sh BIN_DIR}
NODE="$BIN/evc-node"
DA="$BIN/evc-da"
for tool in curl promtool; do
  if ! command -v "$tool" >/dev/null; then
    echo "FAIL: '$tool' is required (promtool: Debian package prometheus; see ci/deps)" >&2
    exit 1
  fi
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/evc-live-node.XXXXXX")
PIDS=()
FAILED=1

cleanup() {
  for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "$FAILED" -ne 0 ]; then
    for log in "$TMP"/*.log; do
      [ -f "$log" ] || continue
      echo "---- last lines of $(basename "$log") ----" >&2
      tail -n 25 "$log" >&2
    done
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# wait_for DEADLINE_S DESCRIPTION COMMAND...: polls COMMAND every 100 ms until it succeeds.
wait_for() {
  local deadline=$(($(date +%s) + $1))
  local what=$2
  shift 2
  until "$@"; do
    [ "$(date +%s)" -lt "$deadline" ] || fail "timed out waiting for: $what"
    sleep 0.1
  done
}

# json_field KEY: the value of "KEY" (number or string) in compact JSON on stdin.
json_field() {
  sed -n "s/.*\"$1\": *\"\\{0,1\\}\\([^\",}]*\\).*/\\1/p" | head -n 1
}

address_of() { json_field "$2" <"$TMP/$1/addresses.json"; }
has_addresses() { [ -s "$TMP/$1/addresses.json" ]; }
status_field() { curl -sf "http://$1/status" | json_field "$2"; }

# at_least RPC KEY N: the node's /status KEY is >= N.
at_least() {
  local v
  v=$(status_field "$1" "$2" || true)
  [ -n "$v" ] && [ "$v" -ge "$3" ]
}
mode_is() { [ "$(status_field "$1" mode || true)" = "$2" ]; }
exited() { ! kill -0 "$1" 2>/dev/null; }

http_code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }

# ---- evc-da ----
"$DA" start --home "$TMP/da" --listen 127.0.0.1:0 --block-time 200ms >"$TMP/da.log" 2>&1 &
PIDS+=($!)
wait_for 10 "evc-da addresses.json" has_addresses da
DA_URL=$(address_of da url)
[ -n "$DA_URL" ] || fail "no url in $TMP/da/addresses.json"

# ---- sequencer and full node ----
"$NODE" init --home "$TMP/seq" --aggregator --chain-id live-test >"$TMP/init-seq.log"
"$NODE" init --home "$TMP/full" --genesis "$TMP/seq/genesis.json" >"$TMP/init-full.log"
COMMON=(--p2p.listen 127.0.0.1:0 --rpc.listen 127.0.0.1:0 --da.address "$DA_URL"
        --block-time 200ms --da.block-time 200ms --catchup.inbound-grace 1s
        --shutdown-timeout 20s)

"$NODE" start --home "$TMP/seq" "${COMMON[@]}" >"$TMP/seq.log" 2>&1 &
SEQ_PID=$!
PIDS+=("$SEQ_PID")
wait_for 10 "sequencer addresses.json" has_addresses seq
SEQ_RPC=$(address_of seq rpc)
SEQ_P2P=$(address_of seq p2p)

"$NODE" start --home "$TMP/full" "${COMMON[@]}" --p2p.peers "$SEQ_P2P" >"$TMP/full.log" 2>&1 &
FULL_PID=$!
PIDS+=("$FULL_PID")
wait_for 10 "full node addresses.json" has_addresses full
FULL_RPC=$(address_of full rpc)

wait_for 30 "the sequencer producing" mode_is "$SEQ_RPC" producing
wait_for 30 "3 blocks on the sequencer" at_least "$SEQ_RPC" height 3
echo "ok: sequencer producing at $SEQ_RPC"

# ---- transactions ----
reply=$(curl -sf -X POST --data-binary 'greeting=hello' "http://$SEQ_RPC/tx") ||
  fail "POST /tx on the sequencer failed"
hash=$(echo "$reply" | json_field hash)
[[ "$hash" =~ ^[0-9a-f]{64}$ ]] || fail "POST /tx answered '$reply', not a hash"
[ "$(http_code -X POST --data-binary 'novalue' "http://$SEQ_RPC/tx")" = 400 ] ||
  fail "a malformed tx must get 400"
[ "$(http_code -X POST --data-binary 'a=b' "http://$FULL_RPC/tx")" = 405 ] ||
  fail "POST /tx on a full node must get 405"
[ "$(http_code "http://$SEQ_RPC/tx")" = 405 ] || fail "GET /tx must get 405"
echo "ok: POST /tx"

# the tx lands in some block: base64("greeting=hello") = Z3JlZXRpbmc9aGVsbG8=
tx_in_chain() {
  local top h
  top=$(status_field "$SEQ_RPC" height || echo 0)
  for ((h = 1; h <= top; h++)); do
    curl -sf "http://$SEQ_RPC/block/$h" | grep -q '"Z3JlZXRpbmc9aGVsbG8="' && return 0
  done
  return 1
}
wait_for 20 "the tx in a block" tx_in_chain
echo "ok: tx included"

# ---- DA inclusion and agreement ----
wait_for 30 "5 DA-included blocks on the sequencer" at_least "$SEQ_RPC" da_included_height 5
wait_for 30 "5 DA-included blocks on the full node" at_least "$FULL_RPC" da_included_height 5
for h in 1 2 3 4 5; do
  a=$(curl -sf "http://$SEQ_RPC/block/$h") || fail "sequencer has no block $h"
  b=$(curl -sf "http://$FULL_RPC/block/$h") || fail "full node has no block $h"
  [ "$a" = "$b" ] || fail "block $h differs: sequencer $a, full node $b"
  echo "$a" | grep -q '"final":true' || fail "block $h is DA-included but not final: $a"
done
echo "ok: blocks 1..5 identical and final on both nodes"

# ---- RPC odds and ends ----
[ "$(http_code "http://$SEQ_RPC/block/abc")" = 400 ] || fail "/block/abc must get 400"
[ "$(http_code "http://$SEQ_RPC/block/99999999")" = 404 ] || fail "/block/99999999 must get 404"
[ "$(http_code "http://$SEQ_RPC/nope")" = 404 ] || fail "an unknown path must get 404"
[ "$(http_code "http://$SEQ_RPC/health/live")" = 200 ] || fail "/health/live must be 200"
[ "$(http_code "http://$SEQ_RPC/health/ready")" = 200 ] || fail "a producing sequencer is ready"
full_ready() { [ "$(http_code "http://$FULL_RPC/health/ready")" = 200 ]; }
wait_for 20 "the full node ready" full_ready
"$NODE" status --rpc "$SEQ_RPC" >"$TMP/status.out" || fail "evc-node status failed"
grep -q '^mode  *producing$' "$TMP/status.out" || fail "evc-node status: $(cat "$TMP/status.out")"
for rpc in "$SEQ_RPC" "$FULL_RPC"; do
  curl -sf "http://$rpc/metrics" >"$TMP/metrics.txt" || fail "GET /metrics on $rpc failed"
  promtool check metrics <"$TMP/metrics.txt" || fail "promtool rejects /metrics of $rpc"
  grep -q '^evc_node_height ' "$TMP/metrics.txt" || fail "/metrics lacks evc_node_height"
done
echo "ok: RPC codes, status, metrics (promtool)"

# ---- graceful stop: the sequencer drains its submitter, then exits 0 ----
kill -TERM "$SEQ_PID"
wait_for 25 "the sequencer to exit after SIGTERM" exited "$SEQ_PID"
set +e
wait "$SEQ_PID"
code=$?
set -e
[ "$code" -eq 0 ] || fail "the sequencer exited with $code after SIGTERM"
grep -q 'event=exit code=0 reason="stopped: every produced block is on DA"' "$TMP/seq.log" ||
  fail "the sequencer did not report a drained submitter"
echo "ok: SIGTERM drained the sequencer (exit 0)"

kill -TERM "$FULL_PID"
wait_for 10 "the full node to exit" exited "$FULL_PID"
set +e
wait "$FULL_PID"
code=$?
set -e
[ "$code" -eq 0 ] || fail "the full node exited with $code after SIGTERM"

echo "ok: SIGTERM stopped the full node (exit 0)"

# ---- restart with the store intact; DA gone: SIGTERM waits for DA, a second signal exits ----
rm -f "$TMP/seq/addresses.json" # the new process writes its own; never read the old one
"$NODE" start --home "$TMP/seq" "${COMMON[@]}" >"$TMP/seq2.log" 2>&1 &
SEQ_PID=$!
PIDS+=("$SEQ_PID")
wait_for 10 "the restarted sequencer's addresses.json" has_addresses seq
SEQ_RPC=$(address_of seq rpc)
wait_for 30 "the restarted sequencer producing" mode_is "$SEQ_RPC" producing
kill -KILL "${PIDS[0]}" # evc-da: blocks produced from now on cannot reach DA
top=$(status_field "$SEQ_RPC" height)
wait_for 10 "a block the DA cannot have" at_least "$SEQ_RPC" height $((top + 2))
kill -TERM "$SEQ_PID"
stop_logged() { grep -q 'event=stop_requested mode=producing' "$TMP/seq2.log"; }
wait_for 10 "the stop request in the log" stop_logged
! exited "$SEQ_PID" || fail "the sequencer exited with blocks not on DA before --shutdown-timeout"
kill -TERM "$SEQ_PID"
wait_for 5 "the sequencer to exit on a second signal" exited "$SEQ_PID"
set +e
wait "$SEQ_PID"
code=$?
set -e
[ "$code" -ne 0 ] || fail "a second signal must exit non-zero"
echo "ok: SIGTERM waits for DA; a second signal exits at once (code $code)"

FAILED=0
echo "PASS: live node end to end"
