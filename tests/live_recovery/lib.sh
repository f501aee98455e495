# Shared helpers for the live recovery tests and ci/demo: start evc-da and evc-node on
# 127.0.0.1 with port 0, poll their RPC with deadlines, compare block hashes. Sourced, never
# run. It must never leave a process behind: everything started goes into LR_PIDS, which the
# EXIT trap kills. Needs bash, coreutils, sed, grep, curl; no python, xxd or netcat.

# lr_setup NAME BIN_DIR: a fresh temporary directory, the binaries, and the cleanup trap.
lr_setup() {
  LR_NAME=$1
  LR_BIN=$2
  LR_NODE="$LR_BIN/evc-node"
  LR_DA="$LR_BIN/evc-da"
  local tool
  for tool in curl base64 od; do
    command -v "$tool" >/dev/null || lr_fail "'$tool' is required (Debian: curl, coreutils)"
  done
  [ -x "$LR_NODE" ] && [ -x "$LR_DA" ] || lr_fail "no evc-node/evc-da in '$LR_BIN'"
  LR_TMP=$(mktemp -d "${TMPDIR:-/tmp}/evc-$LR_NAME.XXXXXX")
  LR_PIDS=()
  LR_OK=0
  LR_START=$(date +%s)
  trap lr_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# Kills every process this script started (SIGKILL: nothing here needs a graceful stop), shows
# the last log lines on failure, removes the temporary directory (LR_KEEP=1 keeps it).
lr_cleanup() {
  local pid log
  {
    for pid in "${LR_PIDS[@]}"; do kill -KILL "$pid" || true; done
    for pid in "${LR_PIDS[@]}"; do wait "$pid" || true; done
  } 2>/dev/null
  if [ "$LR_OK" -ne 1 ]; then
    for log in "$LR_TMP"/*.log; do
      [ -f "$log" ] || continue
      echo "---- last lines of $(basename "$log") ----" >&2
      # the "from the future" poll answers are routine: leave them out
      grep -v 'event=da_call_failed method=blob.GetAll error=.*given height is from the future' \
        "$log" | tail -n 30 >&2
    done
    echo "(the logs above; LR_KEEP=1 keeps $LR_TMP)" >&2
  fi
  if [ "${LR_KEEP:-0}" = 1 ]; then
    echo "kept $LR_TMP" >&2
  else
    rm -rf "$LR_TMP"
  fi
}

lr_fail() {
  echo "FAIL${LR_NAME:+ ($LR_NAME)}: $*" >&2
  exit 1
}

lr_elapsed() { echo $(($(date +%s) - LR_START)); }

# lr_wait SECONDS DESCRIPTION COMMAND...: polls COMMAND every 50 ms until it succeeds.
lr_wait() {
  local seconds=$1 what=$2
  local deadline=$(($(date +%s) + seconds))
  shift 2
  until "$@"; do
    [ "$(date +%s)" -lt "$deadline" ] || lr_fail "timed out after $seconds s waiting for: $what"
    sleep 0.05
  done
}

# lr_field KEY: the value of "KEY" (number or string) in compact JSON on stdin (keys are
# unique in what the node and evc-da answer; "hash" never matches "last_hash").
lr_field() {
  sed -n "s/.*\"$1\":[[:space:]]*\"\\{0,1\\}\\([^\",}]*\\).*/\\1/p" | head -n 1
}

lr_has_addresses() { [ -s "$1/addresses.json" ]; }
lr_address() { lr_field "$2" <"$1/addresses.json"; }
lr_status() { curl -sf --max-time 5 "http://$1/status" | lr_field "$2"; }
lr_alive() { kill -0 "$1" 2>/dev/null; }
lr_http_code() { curl -s -o /dev/null --max-time 10 -w '%{http_code}' "$@" || true; }

# lr_at_least RPC KEY N: the node's /status KEY is a number >= N.
lr_at_least() {
  local v
  v=$(lr_status "$1" "$2" 2>/dev/null || true)
  [ -n "$v" ] && [ "$v" -ge "$3" ] 2>/dev/null
}
lr_mode_is() { [ "$(lr_status "$1" mode 2>/dev/null || true)" = "$2" ]; }

# lr_metric RPC NAME: the value of an unlabelled metric (0 when absent).
lr_metric() {
  local v
  v=$(curl -sf --max-time 5 "http://$1/metrics" | sed -n "s/^$2 \\([0-9]*\\).*/\\1/p" | head -n 1)
  echo "${v:-0}"
}
lr_metric_at_least() { [ "$(lr_metric "$1" "$2")" -ge "$3" ]; }

# lr_hash RPC HEIGHT: the hash of the block at HEIGHT ("" if the node has none).
lr_hash() { curl -sf --max-time 5 "http://$1/block/$2" | lr_field hash || true; }

# lr_start_da NAME BLOCK_TIME MEMPOOL_TTL: evc-da in $LR_TMP/NAME; sets LR_DA_URL, LR_DA_PID.
lr_start_da() {
  "$LR_DA" start --home "$LR_TMP/$1" --listen 127.0.0.1:0 --block-time "$2" \
    --mempool-ttl "$3" >"$LR_TMP/$1.log" 2>&1 &
  LR_DA_PID=$!
  LR_PIDS+=("$LR_DA_PID")
  lr_wait 15 "evc-da's addresses.json" lr_has_addresses "$LR_TMP/$1"
  LR_DA_URL=$(lr_address "$LR_TMP/$1" url)
  [ -n "$LR_DA_URL" ] || lr_fail "no url in $LR_TMP/$1/addresses.json"
}

# lr_start_node HOME LOG FLAGS...: evc-node start; waits for HOME/addresses.json (removed
# first: a stale one names the previous process's ports). Sets LR_PID, LR_RPC, LR_P2P.
lr_start_node() {
  local home=$1 log=$2
  shift 2
  rm -f "$home/addresses.json"
  "$LR_NODE" start --home "$home" --p2p.listen 127.0.0.1:0 --rpc.listen 127.0.0.1:0 "$@" \
    >"$LR_TMP/$log" 2>&1 &
  LR_PID=$!
  LR_PIDS+=("$LR_PID")
  lr_wait 20 "addresses.json of '$home' (log $log)" lr_has_addresses "$home"
  LR_RPC=$(lr_address "$home" rpc)
  LR_P2P=$(lr_address "$home" p2p)
  [ -n "$LR_RPC" ] && [ -n "$LR_P2P" ] || lr_fail "incomplete $home/addresses.json"
}

# lr_da_head: the DA head height from evc-da (header.NetworkHead), "" when unreachable.
lr_da_head() {
  curl -sf --max-time 5 -H 'Content-Type: application/json' -d \
    '{"jsonrpc":"2.0","id":1,"method":"header.NetworkHead","params":[]}' "$LR_DA_URL" |
    lr_field height
}

# lr_produced_hashes LOG: "HEIGHT HASH" for every block_produced line of a sequencer's log.
lr_produced_hashes() {
  sed -n 's/.*event=block_produced height=\([0-9]*\) hash=\([0-9a-f]*\).*/\1 \2/p' "$1"
}

# lr_snapshot RPC FROM TO FILE: "HEIGHT HASH" lines for FROM..TO from RPC; fails on a gap.
lr_snapshot() {
  local rpc=$1 h hash
  : >"$4"
  for ((h = $2; h <= $3; h++)); do
    hash=$(lr_hash "$rpc" "$h")
    [ -n "$hash" ] || lr_fail "$rpc has no block $h"
    echo "$h $hash" >>"$4"
  done
}

# lr_check_against FILE RPC WHAT: every "HEIGHT HASH" line of FILE matches RPC's /block.
lr_check_against() {
  local h want got n=0
  while read -r h want; do
    got=$(lr_hash "$2" "$h")
    [ "$got" = "$want" ] || lr_fail "fork at height $h: $3 has '$want', $2 has '${got:-nothing}'"
    n=$((n + 1))
  done <"$1"
  [ "$n" -gt 0 ] || lr_fail "nothing to compare in $1 ($3)"
}

# lr_same_chain RPC_A RPC_B FROM TO: both nodes have identical blocks FROM..TO.
lr_same_chain() {
  local h a b
  for ((h = $3; h <= $4; h++)); do
    a=$(curl -sf --max-time 5 "http://$1/block/$h") || lr_fail "$1 has no block $h"
    b=$(curl -sf --max-time 5 "http://$2/block/$h") || lr_fail "$2 has no block $h"
    # "final" may differ for a moment (DA inclusion is seen at different times): compare the rest
    a=${a/\"final\":true/\"final\":X}
    a=${a/\"final\":false/\"final\":X}
    b=${b/\"final\":true/\"final\":X}
    b=${b/\"final\":false/\"final\":X}
    [ "$a" = "$b" ] || lr_fail "block $h differs: $1 says $a; $2 says $b"
  done
}

# lr_ns_base64 HEX: a namespace from genesis.json (hex) as base64, with printf and base64 only.
lr_ns_base64() {
  local hex=$1 esc="" i
  for ((i = 0; i < ${#hex}; i += 2)); do esc+="\\x${hex:i:2}"; done
  printf "%b" "$esc" | base64 -w 0
}

lr_genesis_field() { lr_field "$2" <"$1/genesis.json"; }

# lr_kill PID: SIGKILL and reap, without the shell's "Killed" notice.
lr_kill() {
  { kill -KILL "$1" && wait "$1"; } 2>/dev/null || true
}

# lr_poll SECONDS COMMAND...: like lr_wait, but returns 1 at the deadline instead of failing.
lr_poll() {
  local deadline=$(($(date +%s) + $1))
  shift
  until "$@"; do
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.05
  done
}

# lr_check_logs: no log of this run shows a sanitizer report or a node that ended in failed.
lr_check_logs() {
  local log
  for log in "$LR_TMP"/*.log; do
    [ -f "$log" ] || continue
    if grep -E 'event=failed|AddressSanitizer|LeakSanitizer|runtime error:' "$log" >&2; then
      lr_fail "$(basename "$log") shows a failure (lines above)"
    fi
  done
}

# lr_producing RPC PID: the node produces; fails at once when it exited or ended in failed.
lr_producing() {
  lr_alive "$2" ||
    lr_fail "the node at $1 exited: $(grep -h 'event=failed' "$LR_TMP"/*.log | tail -n 1)"
  local mode
  mode=$(lr_status "$1" mode 2>/dev/null || true)
  [ "$mode" != failed ] || lr_fail "the node at $1 is in failed: $(lr_status "$1" failure)"
  [ "$mode" = producing ]
}
# lr_produced_to RPC PID N: lr_producing, at height >= N.
lr_produced_to() { lr_producing "$1" "$2" && lr_at_least "$1" height "$3"; }
