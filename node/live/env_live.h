/* The live runtime: struct evc_env on one libuv loop (timers, clocks, randomness, the thread
 * pool, durable files under HOME, logs to stderr, metrics), with the P2P transport, the DA
 * client and the RPC server on the same loop. It never calls into the node from inside one
 * of the node's env calls, and never delivers an event to the node after teardown began. */
#ifndef EVC_LIVE_ENV_LIVE_H
#define EVC_LIVE_ENV_LIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "node/core/env.h"
#include "node/core/node.h"
#include "node/crypto/crypto.h"
#include "node/live/config.h"
#include "node/live/da_client.h"
#include "node/live/metrics.h"
#include "node/live/p2p_tcp.h"
#include "node/os/fsutil.h"

#define EVC_LIVE_STORE_FILE "data/store.db"
#define EVC_LIVE_ADDRESSES_FILE "addresses.json"
#define EVC_LIVE_SAMPLE_PERIOD_MS 1000u
#define EVC_LIVE_REASON_MAX 512

struct evc_live_timer;
struct evc_rpc;

/* What `evc-node start` hands the runtime: everything is already read and validated. */
struct evc_live_options {
  const char *home;
  const struct evc_live_config *cfg;
  struct evc_node_config node_cfg; /* genesis, signer seed and settings */
  struct evc_keypair node_key;     /* P2P identity */
};

struct evc_live {
  uv_loop_t loop;
  struct evc_env env;
  struct evc_node *node; /* NULL once freed */
  const struct evc_live_config *cfg;
  char home[EVC_FS_PATH_SIZE_MAX];
  char store_path[EVC_FS_PATH_SIZE_MAX + 32];
  char chain_id[EVC_CHAIN_ID_SIZE_MAX + 1];
  struct evc_live_metrics metrics;

  struct evc_p2p_tcp p2p;
  bool p2p_open;
  struct evc_da_client da;
  bool da_open;
  struct evc_rpc *rpc;
  char p2p_bound[EVC_ADDRESS_TEXT_MAX + 1];
  char rpc_bound[EVC_ADDRESS_TEXT_MAX + 1];

  uv_signal_t sigint;
  uv_signal_t sigterm;
  uv_timer_t sampler;
  uv_timer_t teardown;
  bool handles_open;
  uint32_t signals_seen;
  uint32_t closing_count; /* subsystems (p2p, DA, RPC) whose close has not finished */

  struct evc_live_timer *timers; /* pending env timers, a doubly linked list */
  uint64_t timer_next_id;
  uint32_t work_in_flight;

  bool stopping; /* request_stop was called: no more events reach the node */
  bool teardown_due; /* the teardown timer fired: the node may be freed */
  int exit_code;
  char reason[EVC_LIVE_REASON_MAX];
};

/* Runs a node until it stops: binds P2P and RPC, writes HOME/addresses.json, starts the node,
 * runs the loop, tears everything down. Returns the process exit code (0: clean stop; 1: the
 * node failed or could not start). Setup errors are logged to stderr. */
int evc_live_run(const struct evc_live_options *opts);

/* Formats unix nanoseconds as RFC 3339 UTC with milliseconds ("2024-05-01T12:00:00.123Z"). */
void evc_live_format_time_ms(uint64_t unix_ns, char out[32]);
/* Writes one log line to stderr: "ts=<RFC3339 ms> level=<l> <line>". */
void evc_live_log_line(enum evc_log_level level, const char *line);

#endif
